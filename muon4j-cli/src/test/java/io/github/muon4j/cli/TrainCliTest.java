package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.train.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job end to end on the tiny preset, then eval, generate and params on its checkpoint. */
class TrainCliTest {

    @TempDir static Path dir;
    static Path cache;
    static Path run;
    static Cli.Outcome trained;

    static final String[] TINY = {
        "--batch-size",
        "8",
        "--seq-len",
        "64",
        "--steps",
        "30",
        "--warmup",
        "3",
        "--eval-every",
        "15",
        "--eval-batches",
        "4",
        "--save-every",
        "15",
        "--samples",
        "1"
    };

    @BeforeAll
    static void train() {
        cache = dir.resolve("cache");
        run = dir.resolve("run");
        String[] args = concat(new String[] {"train", "--out", run.toString(), "--json"}, TINY);
        trained = Cli.run(cache, args);
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void trainingLowersValidationLossAndWritesItsFiles() throws Exception {
        assertEquals(0, trained.code(), trained.err());
        JsonObject summary = JsonParser.parseString(trained.lastLine()).getAsJsonObject();
        double first = summary.get("first_val_loss").getAsDouble();
        double last = summary.get("val_loss").getAsDouble();
        assertTrue(last < first - 1.0, "validation loss " + first + " -> " + last);
        assertEquals(Math.exp(last), summary.get("val_ppl").getAsDouble(), 1e-6 * Math.exp(last));

        List<JsonObject> rows = Metrics.read(run.resolve("metrics.jsonl"));
        for (int step = 1; step <= 30; step++) {
            final int s = step;
            JsonObject r =
                    rows.stream()
                            .filter(o -> o.get("step").getAsInt() == s)
                            .findFirst()
                            .orElseThrow();
            for (String k : new String[] {"tokens", "train_loss", "lr", "tokens_per_s"}) {
                assertTrue(r.has(k), "step " + s + " lacks " + k);
            }
            assertEquals(s * 8L * 64, r.get("tokens").getAsLong());
        }
        long evals = rows.stream().filter(o -> o.has("val_loss") && o.has("val_ppl")).count();
        assertEquals(3, evals, "evaluations at steps 0, 15 and 30");
        assertTrue(Files.size(run.resolve("loss.png")) > 1000);
        assertTrue(Files.exists(run.resolve("config.json")));
        assertTrue(Files.isDirectory(run.resolve("ckpt-000030")));
        assertTrue(trained.out().contains("samples:"));
    }

    @Test
    void evalReproducesTheFinalValidationLoss() {
        Cli.Outcome e = Cli.run(cache, "eval", "--checkpoint", run.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        double v =
                JsonParser.parseString(e.lastLine())
                        .getAsJsonObject()
                        .get("val_loss")
                        .getAsDouble();
        double trainedVal =
                JsonParser.parseString(trained.lastLine())
                        .getAsJsonObject()
                        .get("val_loss")
                        .getAsDouble();
        assertEquals(trainedVal, v, 1e-5);
    }

    @Test
    void generationIsDeterministicForASeed() {
        String[] args = {
            "generate",
            "--checkpoint",
            run.toString(),
            "--prompt",
            "The Commission",
            "--max-tokens",
            "24",
            "--seed",
            "7",
            "--json"
        };
        Cli.Outcome a = Cli.run(cache, args);
        Cli.Outcome b = Cli.run(cache, args);
        assertEquals(0, a.code(), a.err());
        JsonObject ja = JsonParser.parseString(a.lastLine()).getAsJsonObject();
        JsonObject jb = JsonParser.parseString(b.lastLine()).getAsJsonObject();
        assertEquals(ja.get("text").getAsString(), jb.get("text").getAsString());
        assertTrue(a.out().startsWith("The Commission"));
        Cli.Outcome c =
                Cli.run(
                        cache,
                        "generate",
                        "--checkpoint",
                        run.toString(),
                        "--prompt",
                        "The Commission",
                        "--max-tokens",
                        "24",
                        "--seed",
                        "8",
                        "--json");
        assertNotEquals(
                ja.get("text").getAsString(),
                JsonParser.parseString(c.lastLine()).getAsJsonObject().get("text").getAsString());
    }

    @Test
    void paramsJsonHoldsCountsAndConfig() {
        Cli.Outcome p =
                Cli.run(
                        cache,
                        "params",
                        "--preset",
                        "6L-512d",
                        "--attention",
                        "mla",
                        "--ffn",
                        "moe",
                        "--json");
        assertEquals(0, p.code(), p.err());
        JsonObject o = JsonParser.parseString(p.lastLine()).getAsJsonObject();
        assertTrue(o.get("total_params").getAsLong() > o.get("active_params").getAsLong());
        JsonObject c = o.getAsJsonObject("config");
        assertEquals(6, c.get("n_layers").getAsInt());
        assertEquals(512, c.get("d_model").getAsInt());
        long perLayer = c.get("kv_lora_rank").getAsLong() + c.get("qk_rope_head_dim").getAsLong();
        assertEquals(6 * perLayer, o.get("kv_cache_values_per_token").getAsLong());
    }
}
