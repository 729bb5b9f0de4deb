package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.bench.inference.InferenceBench;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench inference} end to end on the tiny preset: the JSON, the report, the charts. */
class BenchInferenceCliTest {

    /** The JSON object that {@code bench inference <args> --json} prints last. */
    private static JsonObject inference(Path dir, String... args) {
        List<String> a = new ArrayList<>(List.of("bench", "inference"));
        a.addAll(List.of(args));
        a.add("--json");
        Cli.Outcome o = Cli.run(dir.resolve("cache"), a.toArray(String[]::new));
        assertEquals(0, o.code(), String.join(" ", a) + ": " + o.err());
        return JsonParser.parseString(o.lastLine()).getAsJsonObject();
    }

    @Test
    void inferenceBenchReportsCacheAndSpeedPerVariant(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("inf");
        JsonObject o =
                inference(
                                dir,
                                "--contexts",
                                "16,48",
                                "--new-tokens",
                                "4",
                                "--reps",
                                "1",
                                "--out",
                                out.toString())
                        .getAsJsonObject("variants");
        assertEquals(4, o.size());
        long mha = o.getAsJsonObject("mha-dense").get("kv_cache_bytes_per_token").getAsLong();
        long mla = o.getAsJsonObject("mla-dense").get("kv_cache_bytes_per_token").getAsLong();
        // tiny: 4 layers; MHA 2 x 6 heads x 32 = 384 values, MLA 96 + 16 = 112 values per layer,
        // fp32
        assertEquals(4L * 384 * 4, mha);
        assertEquals(4L * 112 * 4, mla);
        assertEquals(
                mla,
                o.getAsJsonObject("mla-dense")
                        .get("kv_cache_bytes_per_token_measured")
                        .getAsDouble(),
                1e-9);
        assertTrue(
                o.getAsJsonObject("mla-moe")
                                .getAsJsonObject("decode_tokens_per_s")
                                .get("48")
                                .getAsDouble()
                        > 0);
        assertTrue(
                Files.exists(out.resolve("REPORT.md"))
                        && Files.exists(out.resolve("kv_cache.png"))
                        && Files.exists(out.resolve("decode.png")));
        String report = Files.readString(out.resolve("REPORT.md"));
        assertTrue(report.contains("each the best of 5 passes of a streaming sum"), report);
    }

    @Test
    void inferenceBenchGoesPastTheTrainingContextInBatchesAndInABudget(@TempDir Path dir)
            throws Exception {
        // tiny trains at context 256: decode at 300, in batches of 1 and 3
        JsonObject o =
                inference(
                        dir,
                        "--contexts",
                        "300",
                        "--batch",
                        "1,3",
                        "--variants",
                        "mha-dense,mla-dense",
                        "--new-tokens",
                        "2",
                        "--reps",
                        "1",
                        "--threads",
                        "2");
        JsonObject v = o.getAsJsonObject("variants");
        assertEquals(2, v.size());
        for (String name : new String[] {"mha-dense", "mla-dense"}) {
            JsonObject j = v.getAsJsonObject(name);
            var pts = j.getAsJsonArray("points");
            assertEquals(2, pts.size());
            JsonObject one = pts.get(0).getAsJsonObject(), three = pts.get(1).getAsJsonObject();
            assertEquals(300, one.get("context").getAsInt());
            assertEquals(3, three.get("batch").getAsInt());
            assertTrue(three.get("decode_tokens_per_s").getAsDouble() > 0);
            // every matrix is read once per step, whatever the batch: a third per token at batch 3
            assertEquals(
                    one.get("weight_bytes_per_token").getAsDouble() / 3,
                    three.get("weight_bytes_per_token").getAsDouble(),
                    1e-6);
            // the timed steps at positions 300 and 301 read 301 and 302 cached positions
            double kv = j.get("kv_cache_bytes_per_token").getAsDouble();
            assertEquals(301.5 * kv, one.get("cache_bytes_per_token").getAsDouble(), 1e-6);
            assertEquals(301.5 * kv, three.get("cache_bytes_per_token").getAsDouble(), 1e-6);
        }
        // at this size a token's bytes are mostly the 7 MB of weights: bandwidth-bound
        assertEquals(
                "bandwidth",
                v.getAsJsonObject("mha-dense")
                        .getAsJsonArray("points")
                        .get(0)
                        .getAsJsonObject()
                        .get("roofline_bound")
                        .getAsString());
        JsonObject machine = o.getAsJsonObject("machine");
        assertTrue(
                machine.get("bandwidth_bytes_per_s").getAsDouble() > 0
                        && machine.get("kernel_flops_per_s").getAsDouble() > 0);
        assertTrue(machine.get("kernels").getAsString().startsWith("SIMD"));
        // the bandwidth sampler streams through at least 256 MB (above the last-level cache),
        // several passes per point; the best pass bounds every sample's best, the median lies
        // between the samples
        assertTrue(machine.get("bandwidth_buffer_bytes").getAsLong() >= 256L << 20);
        assertEquals(5, machine.get("bandwidth_passes").getAsInt());
        assertEquals(4, machine.getAsJsonArray("bandwidth_samples").size(), "one per point");
        double best = machine.get("bandwidth_best_bytes_per_s").getAsDouble();
        for (var x : machine.getAsJsonArray("bandwidth_samples")) {
            assertTrue(x.getAsDouble() <= best);
        }
        for (var x : machine.getAsJsonArray("bandwidth_pass_medians")) {
            assertTrue(x.getAsDouble() <= best);
        }
        assertTrue(machine.get("bandwidth_bytes_per_s").getAsDouble() <= best);
        // budget mode: 4 MiB of cache at context 300 + 2 new tokens (+2 warm-up)
        JsonObject b =
                inference(
                                dir,
                                "--contexts",
                                "300",
                                "--kv-budget",
                                "4m",
                                "--variants",
                                "mla-dense",
                                "--new-tokens",
                                "2",
                                "--reps",
                                "1")
                        .getAsJsonObject("variants");
        assertEquals(
                2,
                InferenceBench.sequencesThatFit(ModelConfig.preset("tiny"), 4 << 20, 300, 2),
                "MHA: 6144 bytes per position");
        assertEquals(
                (4 << 20) / (1792 * 304),
                b.getAsJsonObject("mla-dense")
                        .getAsJsonArray("points")
                        .get(0)
                        .getAsJsonObject()
                        .get("batch")
                        .getAsInt());
    }
}
