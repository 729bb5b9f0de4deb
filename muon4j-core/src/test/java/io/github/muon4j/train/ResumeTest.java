package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import io.github.muon4j.data.EuroparlSample;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interrupted and resumed runs give the same losses, step for step, as a run never interrupted. */
class ResumeTest {

    static TrainConfig config(Path out, String ffn) {
        return TrainConfig.defaults()
                .overlay(
                        "{\"batch_size\": 4, \"seq_len\": 32, \"steps\": 12, \"warmup\": 2, \"eval_every\": 0, \"eval_batches\": 2,"
                                + " \"save_every\": 4, \"samples\": 0, \"ffn\": \""
                                + ffn
                                + "\", \"out\": \""
                                + out
                                + "\","
                                + " \"data\": \""
                                + EuroparlSample.file(out.getParent())
                                + "\"}",
                        "test")
                .validate();
    }

    static Map<Integer, Double> losses(Path run) throws Exception {
        Map<Integer, Double> m = new TreeMap<>();
        for (JsonObject o : Metrics.read(run.resolve("metrics.jsonl"))) {
            if (o.has("train_loss")) {
                assertNull(
                        m.put(o.get("step").getAsInt(), o.get("train_loss").getAsDouble()),
                        "one record per step");
            }
        }
        return m;
    }

    void check(Path dir, String ffn) throws Exception {
        System.setProperty("muon4j.cache", dir.resolve("cache").toString());
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        Path a = dir.resolve("a"), b = dir.resolve("b");
        try (Run run = Run.start(config(a, ffn), quiet)) {
            new TrainLoop(run, quiet).train();
        }
        // killed after step 7: the newest checkpoint is step 4, steps 5-7 are lost and redone
        try (Run run = Run.start(config(b, ffn), quiet)) {
            new TrainLoop(run, quiet).stopAfter(7).train();
        }
        try (Run run = Run.resume(b, null, quiet)) {
            assertEquals(4, run.step());
            new TrainLoop(run, quiet).train();
        }
        Map<Integer, Double> la = losses(a), lb = losses(b);
        assertEquals(12, la.size());
        assertEquals(la, lb, "train_loss step for step");
    }

    @Test
    void denseRunResumesExactly(@TempDir Path dir) throws Exception {
        check(dir, "dense");
    }

    @Test
    void moeRunResumesExactlyIncludingBalancingBias(@TempDir Path dir) throws Exception {
        check(dir, "moe");
    }

    @Test
    void divergenceSkipsStepsThenStopsWithTheLastCheckpointIntact(@TempDir Path dir)
            throws Exception {
        System.setProperty("muon4j.cache", dir.resolve("cache").toString());
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        Path out = dir.resolve("nan");
        TrainConfig c =
                config(out, "dense")
                        .overlay(
                                "{\"lr\": 1e30, \"adamw_lr\": 1e30, \"warmup\": 0, \"save_every\": 1, \"max_bad_steps\": 3}",
                                "test");
        try (Run run = Run.start(c, quiet)) {
            TrainLoop.DivergedException e =
                    assertThrows(
                            TrainLoop.DivergedException.class,
                            () -> new TrainLoop(run, quiet).train());
            assertTrue(e.getMessage().contains("3 steps in a row"), e.getMessage());
        }
        List<JsonObject> rows = Metrics.read(out.resolve("metrics.jsonl"));
        assertEquals(3, rows.stream().filter(o -> o.has("skipped")).count());
        Checkpoint ck = Checkpoint.open(out);
        assertTrue(
                ck.step() >= 1 && ck.step() < 12,
                "a checkpoint from before the divergence: " + ck.step());
        try (Run run = Run.resume(out, null, quiet)) {
            assertEquals(ck.step(), run.step());
        }
    }
}
