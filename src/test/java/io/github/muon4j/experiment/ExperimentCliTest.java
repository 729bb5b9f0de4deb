package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.cli.Main;
import io.github.muon4j.model.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment commands end to end on tiny budgets. */
class ExperimentCliTest {

    static String lastLine(Path cache, String... args) {
        System.setProperty("muon4j.cache", cache.toString());
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, String.join(" ", args));
        String[] lines = out.toString(StandardCharsets.UTF_8).strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void compareWritesReportJsonAndPlotsAndResumes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("cmp");
        String[] args = {"compare", "--steps", "8", "--batch-size", "4", "--seq-len", "32", "--eval-every", "2", "--eval-batches", "2",
            "--muon-lrs", "0.02", "--adamw-lrs", "3e-3,6e-3", "--out", out.toString(), "--json"};
        JsonObject o = JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        for (String k : new String[] {"target_loss", "muon_steps_to_target", "adamw_steps_to_target", "steps_ratio", "muon_final_val_loss", "adamw_final_val_loss"}) {
            assertTrue(o.has(k), k);
        }
        double adamBest = Math.min(JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject().getAsJsonArray("runs").get(1)
                .getAsJsonObject().get("final_val_loss").getAsDouble(), JsonParser.parseString(Files.readString(out.resolve("results.json")))
                .getAsJsonObject().getAsJsonArray("runs").get(2).getAsJsonObject().get("final_val_loss").getAsDouble());
        assertEquals(adamBest, o.get("target_loss").getAsDouble(), 1e-9, "target = AdamW's best final loss");
        assertEquals(o.get("adamw_final_val_loss").getAsDouble(), o.get("target_loss").getAsDouble(), 1e-9);
        assertTrue(o.get("adamw_steps_to_target").getAsDouble() <= 8, "AdamW reaches its own final loss");
        for (String f : new String[] {"REPORT.md", "results.json", "loss_vs_steps.png", "loss_vs_tokens.png", "loss_vs_flops.png", "loss_vs_time.png", "lr_sweep.png"}) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        // a second call finds every run finished and trains nothing
        long before = Files.getLastModifiedTime(out.resolve("muon-lr0.02-seed1337").resolve("metrics.jsonl")).toMillis();
        JsonObject again = JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(o.get("target_loss").getAsDouble(), again.get("target_loss").getAsDouble());
        assertEquals(before, Files.getLastModifiedTime(out.resolve("muon-lr0.02-seed1337").resolve("metrics.jsonl")).toMillis());
    }

    @Test
    void inferenceBenchReportsCacheAndSpeedPerVariant(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("inf");
        JsonObject o = JsonParser.parseString(lastLine(dir.resolve("cache"), "bench", "inference", "--contexts", "16,48", "--new-tokens", "4",
                "--reps", "1", "--out", out.toString(), "--json")).getAsJsonObject().getAsJsonObject("variants");
        assertEquals(4, o.size());
        long mha = o.getAsJsonObject("mha-dense").get("kv_cache_bytes_per_token").getAsLong();
        long mla = o.getAsJsonObject("mla-dense").get("kv_cache_bytes_per_token").getAsLong();
        // tiny: 4 layers; MHA 2 x 6 heads x 32 = 384 values, MLA 96 + 16 = 112 values per layer, fp32
        assertEquals(4L * 384 * 4, mha);
        assertEquals(4L * 112 * 4, mla);
        assertEquals(mla, o.getAsJsonObject("mla-dense").get("kv_cache_bytes_per_token_measured").getAsDouble(), 1e-9);
        assertTrue(o.getAsJsonObject("mla-moe").getAsJsonObject("decode_tokens_per_s").get("48").getAsDouble() > 0);
        assertTrue(Files.exists(out.resolve("REPORT.md")) && Files.exists(out.resolve("kv_cache.png")) && Files.exists(out.resolve("decode.png")));
    }

    @Test
    void inferenceBenchGoesPastTheTrainingContextInBatchesAndInABudget(@TempDir Path dir) throws Exception {
        // tiny trains at context 256: decode at 300, in batches of 1 and 3
        JsonObject o = JsonParser.parseString(lastLine(dir.resolve("cache"), "bench", "inference", "--contexts", "300", "--batch", "1,3",
                "--variants", "mha-dense,mla-dense", "--new-tokens", "2", "--reps", "1", "--threads", "2", "--json")).getAsJsonObject();
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
            assertEquals(one.get("weight_bytes_per_token").getAsDouble() / 3, three.get("weight_bytes_per_token").getAsDouble(), 1e-6);
            // the timed steps at positions 300 and 301 read 301 and 302 cached positions
            double kv = j.get("kv_cache_bytes_per_token").getAsDouble();
            assertEquals(301.5 * kv, one.get("cache_bytes_per_token").getAsDouble(), 1e-6);
            assertEquals(301.5 * kv, three.get("cache_bytes_per_token").getAsDouble(), 1e-6);
        }
        // at this size a token's bytes are mostly the 7 MB of weights: bandwidth-bound
        assertEquals("bandwidth", v.getAsJsonObject("mha-dense").getAsJsonArray("points").get(0).getAsJsonObject().get("roofline_bound").getAsString());
        JsonObject machine = o.getAsJsonObject("machine");
        assertTrue(machine.get("bandwidth_bytes_per_s").getAsDouble() > 0 && machine.get("kernel_flops_per_s").getAsDouble() > 0);
        assertTrue(machine.get("kernels").getAsString().startsWith("SIMD"));
        // budget mode: 4 MiB of cache at context 300 + 2 new tokens (+2 warm-up)
        JsonObject b = JsonParser.parseString(lastLine(dir.resolve("cache"), "bench", "inference", "--contexts", "300", "--kv-budget", "4m",
                "--variants", "mla-dense", "--new-tokens", "2", "--reps", "1", "--json")).getAsJsonObject().getAsJsonObject("variants");
        assertEquals(2, InferenceBench.sequencesThatFit(ModelConfig.preset("tiny"), 4 << 20, 300, 2), "MHA: 6144 bytes per position");
        assertEquals((4 << 20) / (1792 * 304), b.getAsJsonObject("mla-dense").getAsJsonArray("points").get(0).getAsJsonObject().get("batch").getAsInt());
    }

    @Test
    void reproduceTrainsEightRunsOnOneBudgetAndWritesTheHeadline(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rep");
        JsonObject o = JsonParser.parseString(lastLine(dir.resolve("cache"), "reproduce", "--budget", "640", "--batch-size", "4", "--seq-len", "32",
                "--eval-batches", "1", "--out", out.toString(), "--json")).getAsJsonObject();
        assertEquals(5, o.get("steps").getAsInt(), "640 tokens / (4 x 32)");
        assertEquals(8, o.getAsJsonArray("cells").size());
        // tiny: MHA 384 values per layer, MLA 112: the cache shrinks by 1 - 112/384
        assertEquals(1 - 112.0 / 384, o.get("kv_memory_reduction").getAsDouble(), 1e-9);
        assertTrue(o.get("decode_speedup").getAsDouble() > 0);
        assertTrue(Double.isFinite(o.get("perplexity_improvement").getAsDouble()));
        for (String f : new String[] {"REPORT.md", "results.json", "perplexity.png", "kv_cache.png", "decode.png", "val_loss.png"}) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        assertTrue(Files.readString(out.resolve("REPORT.md")).contains("| KV-cache memory reduction | 68% |"));
    }

    @Test
    void sweepGridsBatchSizesAndLearningRatesAndResumes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sw");
        String[] args = {"sweep", "--batch-sizes", "2,4", "--optimizers", "muon,adamw", "--lrs", "0.003,0.02", "--steps", "6", "--seq-len", "32",
            "--eval-every", "2", "--eval-batches", "1", "--out", out.toString(), "--json"};
        JsonObject o = JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(8, o.get("runs").getAsInt());
        var pts = o.getAsJsonArray("points");
        assertTrue(pts.asList().stream().anyMatch(p -> p.getAsJsonObject().get("steps_to_target").getAsDouble() <= 6));
        for (String f : new String[] {"REPORT.md", "results.json", "steps_to_target.png", "tokens_to_target.png", "lr_sensitivity.png"}) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        // resume: delete one point; only that one is trained again
        Path keep = out.resolve("bs2-muon-lr0.02-seed1337").resolve("metrics.jsonl");
        long kept = Files.getLastModifiedTime(keep).toMillis();
        Path redo = out.resolve("bs4-adamw-lr0.003-seed1337");
        try (var w = Files.walk(redo)) {
            for (Path p : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        JsonObject again = JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(8, again.get("runs").getAsInt());
        assertEquals(kept, Files.getLastModifiedTime(keep).toMillis(), "finished points are not re-run");
        assertTrue(Files.exists(redo.resolve("DONE")), "the missing point ran again");
        assertEquals(o.get("target_loss").getAsDouble(), again.get("target_loss").getAsDouble(), 1e-12, "deterministic runs");
    }
}
