package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    static final String[] COMPARE = {
        "compare",
        "--steps",
        "8",
        "--batch-size",
        "4",
        "--seq-len",
        "32",
        "--eval-every",
        "2",
        "--eval-batches",
        "2",
        "--muon-lrs",
        "0.02,0.04",
        "--adamw-lrs",
        "3e-3,6e-3",
        "--lr-cap",
        "3",
        "--json"
    };

    static String[] with(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    @Test
    void compareWithTwoSeedsGivesFiniteRatiosWithIntervalsAndResumes(@TempDir Path dir)
            throws Exception {
        Path out = dir.resolve("cmp");
        String[] args = with(COMPARE, "--seeds", "1,2", "--out", out.toString());
        String line = lastLine(dir.resolve("cache"), args);
        assertFalse(line.contains("NaN"), line);
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        for (String k :
                new String[] {
                    "steps_ratio", "total_flops_ratio", "model_flops_ratio", "wall_ratio"
                }) {
            assertTrue(Double.isFinite(o.get(k).getAsDouble()), k);
            assertEquals(2, o.getAsJsonArray(k + "_ci95").size(), k);
        }
        assertEquals("[1,2]", o.get("seeds").toString());
        int tried = o.getAsJsonArray("muon_lrs").size();
        assertTrue(tried >= 2 && tried <= 3, "the grid extends at most to the cap");
        assertTrue(
                o.getAsJsonArray("muon_lrs").asList().stream()
                        .anyMatch(e -> e.getAsDouble() == o.get("muon_best_lr").getAsDouble()));
        assertTrue(o.getAsJsonArray("adamw_lrs").size() >= 2);
        assertEquals(2, o.get("muon_runs").getAsInt());
        assertTrue(o.get("adamw_reached").getAsInt() >= 0 && o.get("muon_reached").getAsInt() <= 2);
        // Newton-Schulz is counted: Muon's total FLOPs per step exceed its model FLOPs, so the two
        // ratios differ
        assertTrue(o.get("muon_ns_flops_per_step").getAsDouble() > 0);
        assertNotEquals(
                o.get("model_flops_ratio").getAsDouble(), o.get("total_flops_ratio").getAsDouble());
        for (String f :
                new String[] {
                    "REPORT.md",
                    "results.json",
                    "loss_vs_steps.png",
                    "loss_vs_flops.png",
                    "loss_vs_time.png",
                    "lr_search.png"
                }) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        assertTrue(
                Files.readString(out.resolve("REPORT.md"))
                        .contains("target = final validation loss of AdamW's seed-mean curve"));
        // a second call finds every run's summary and trains nothing
        Path summaries = out.resolve("summaries");
        java.util.Map<Path, Long> before = new java.util.HashMap<>();
        try (var l = Files.list(summaries)) {
            for (Path p : l.toList()) {
                before.put(p, Files.getLastModifiedTime(p).toMillis());
            }
        }
        JsonObject again =
                JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(o.get("steps_ratio").getAsDouble(), again.get("steps_ratio").getAsDouble());
        for (var e : before.entrySet()) {
            assertEquals(
                    e.getValue(),
                    Files.getLastModifiedTime(e.getKey()).toMillis(),
                    e.getKey().toString());
        }
    }

    @Test
    void compareHonoursSeed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("cmp7");
        // one rate per arm and a cap of 1: two runs, both of seed 7
        String[] args = {
            "compare",
            "--steps",
            "6",
            "--batch-size",
            "4",
            "--seq-len",
            "32",
            "--eval-every",
            "2",
            "--eval-batches",
            "1",
            "--muon-lrs",
            "0.02",
            "--adamw-lrs",
            "3e-3",
            "--lr-cap",
            "1",
            "--json",
            "--seed",
            "7",
            "--out",
            out.toString()
        };
        JsonObject o =
                JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertFalse(
                o.get("muon_lr_bracketed").getAsBoolean(),
                "one rate cannot be interior: the report says so");
        assertEquals("[7]", o.get("seeds").toString());
        try (var l = Files.list(out.resolve("summaries"))) {
            assertTrue(
                    l.allMatch(p -> p.getFileName().toString().contains("-seed7-")),
                    "every run trained seed 7");
        }
    }

    @Test
    void reproduceTrainsEightRunsOnOneBudgetAndWritesTheHeadline(@TempDir Path dir)
            throws Exception {
        Path out = dir.resolve("rep");
        JsonObject o =
                JsonParser.parseString(
                                lastLine(
                                        dir.resolve("cache"),
                                        "reproduce",
                                        "--budget",
                                        "640",
                                        "--batch-size",
                                        "4",
                                        "--seq-len",
                                        "32",
                                        "--eval-batches",
                                        "1",
                                        "--out",
                                        out.toString(),
                                        "--json"))
                        .getAsJsonObject();
        assertEquals(5, o.get("steps").getAsInt(), "640 tokens / (4 x 32)");
        assertEquals(8, o.getAsJsonArray("cells").size());
        // tiny: MHA 384 values per layer, MLA 112: the cache shrinks by 1 - 112/384
        assertEquals(1 - 112.0 / 384, o.get("kv_memory_reduction").getAsDouble(), 1e-9);
        assertTrue(o.get("decode_speedup").getAsDouble() > 0);
        assertTrue(Double.isFinite(o.get("perplexity_improvement").getAsDouble()));
        for (String f :
                new String[] {
                    "REPORT.md",
                    "results.json",
                    "perplexity.png",
                    "kv_cache.png",
                    "decode.png",
                    "val_loss.png"
                }) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        assertTrue(
                Files.readString(out.resolve("REPORT.md"))
                        .contains("| KV-cache memory reduction | 68% |"));
    }

    @Test
    void sweepGridsBatchSizesAndLearningRatesAndResumes(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sw");
        String[] args = {
            "sweep",
            "--batch-sizes",
            "2,4",
            "--optimizers",
            "muon,adamw",
            "--lrs",
            "0.003,0.02",
            "--steps",
            "6",
            "--seq-len",
            "32",
            "--eval-every",
            "2",
            "--eval-batches",
            "1",
            "--out",
            out.toString(),
            "--json"
        };
        JsonObject o =
                JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(8, o.get("runs").getAsInt());
        var pts = o.getAsJsonArray("points");
        assertTrue(
                pts.asList().stream()
                        .anyMatch(
                                p ->
                                        p.getAsJsonObject().get("steps_to_target").getAsDouble()
                                                <= 6));
        for (String f :
                new String[] {
                    "REPORT.md",
                    "results.json",
                    "steps_to_target.png",
                    "tokens_to_target.png",
                    "lr_sensitivity.png"
                }) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        // resume: delete one point's summary; only that one is trained again
        Path summaries = out.resolve("summaries");
        Path keep, redo;
        try (var l = Files.list(summaries)) {
            List<Path> all = l.sorted().toList();
            keep =
                    all.stream()
                            .filter(
                                    p ->
                                            p.getFileName()
                                                    .toString()
                                                    .startsWith("bs2-muon-lr0.02-seed1337-"))
                            .findFirst()
                            .orElseThrow();
            redo =
                    all.stream()
                            .filter(
                                    p ->
                                            p.getFileName()
                                                    .toString()
                                                    .startsWith("bs4-adamw-lr0.003-seed1337-"))
                            .findFirst()
                            .orElseThrow();
        }
        long kept = Files.getLastModifiedTime(keep).toMillis();
        Files.delete(redo);
        JsonObject again =
                JsonParser.parseString(lastLine(dir.resolve("cache"), args)).getAsJsonObject();
        assertEquals(8, again.get("runs").getAsInt());
        assertEquals(
                kept, Files.getLastModifiedTime(keep).toMillis(), "finished points are not re-run");
        assertTrue(Files.exists(redo), "the missing point ran again");
        assertEquals(
                o.get("target_loss").getAsDouble(),
                again.get("target_loss").getAsDouble(),
                1e-12,
                "deterministic runs");
    }
}
