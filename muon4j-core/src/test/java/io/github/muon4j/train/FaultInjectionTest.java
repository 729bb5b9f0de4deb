package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.EuroparlSample;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults injected in process, each compared with one uninterrupted run of the same config: stops at
 * random steps, a crash in the middle of a checkpoint write, a SIGTERM, a damaged byte in each
 * checkpoint part, a full disk, skipped steps. Resumed runs must log the same train_loss, bit for
 * bit, at every step.
 */
class FaultInjectionTest {

    static final int STEPS = 12;
    @TempDir static Path dir;
    static Map<Integer, Double> reference;
    static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());

    /** A 2-layer, 64-wide model on batches of 4x32 tokens: fast enough to train a dozen times. */
    static TrainConfig config(Path out, String extra) {
        return TrainConfig.defaults()
                .overlay(
                        "{\"batch_size\": 4, \"seq_len\": 32, \"steps\": "
                                + STEPS
                                + ", \"warmup\": 2, \"eval_every\": 0,"
                                + " \"eval_batches\": 1, \"save_every\": 3, \"keep_checkpoints\": 2, \"samples\": 0,"
                                + " \"model\": {\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}, \"out\": \""
                                + out
                                + "\","
                                + " \"data\": \""
                                + EuroparlSample.file(out.getParent())
                                + "\""
                                + extra
                                + "}",
                        "test")
                .validate();
    }

    static TrainConfig config(Path out) {
        return config(out, "");
    }

    @BeforeAll
    static void uninterrupted() throws Exception {
        System.setProperty("muon4j.cache", dir.resolve("cache").toString());
        Path a = dir.resolve("reference");
        try (Run run = Run.start(config(a), QUIET)) {
            new TrainLoop(run, QUIET).train();
        }
        reference = losses(a);
        assertEquals(STEPS, reference.size());
    }

    static Map<Integer, Double> losses(Path run) throws IOException {
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

    static void finish(Path out) throws IOException {
        try (Run run = Run.resume(out, null, QUIET)) {
            new TrainLoop(run, QUIET).train();
        }
    }

    @Test
    void stopsAtRandomStepsAndACrashedCheckpointWriteResumeExactly() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        Path b = dir.resolve("random");
        int s1 = 3 + rnd.nextInt(3),
                s2 = s1 + 1 + rnd.nextInt(3),
                s3 = s2 + 1 + rnd.nextInt(STEPS - s2 - 1);
        String which = "seed " + seed + ": stops after steps " + s1 + ", " + s2 + ", " + s3;
        try (Run run = Run.start(config(b), QUIET)) {
            new TrainLoop(run, QUIET).stopAfter(s1).train();
        }
        try (Run run = Run.resume(b, null, QUIET)) {
            assertEquals(s1 / 3 * 3, run.step(), which);
            new TrainLoop(run, QUIET).stopAfter(s2).train();
        }
        // killed while writing the next checkpoint: a half-written temporary directory is left
        // behind
        Path partial = Files.createDirectories(b.resolve(String.format(".ckpt-%06d.tmp", s2 + 1)));
        Files.write(partial.resolve("model.params"), new byte[] {1, 2, 3});
        try (Run run = Run.resume(b, null, QUIET)) {
            assertFalse(
                    Files.exists(partial), "the next start removes an unfinished checkpoint write");
            new TrainLoop(run, QUIET).stopAfter(s3).train();
        }
        finish(b);
        assertEquals(reference, losses(b), which);
    }

    @Test
    void aSignalFinishesTheStepWritesACheckpointAndResumesExactly() throws Exception {
        Path c = dir.resolve("signal");
        List<Integer> halted = new ArrayList<>();
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        StopSignals signals =
                new StopSignals(new PrintStream(said, true, StandardCharsets.UTF_8), halted::add);
        TrainLoop.Result r;
        try (Run run = Run.start(config(c), QUIET)) {
            // deliver SIGTERM from another thread once step 4 is under way, as the JVM's signal
            // thread would
            Thread sender =
                    new Thread(
                            () -> {
                                while (run.step() < 4) {
                                    Thread.onSpinWait();
                                }
                                signals.deliver("TERM");
                            });
            sender.start();
            r = new TrainLoop(run, QUIET).stopOn(signals).train();
            sender.join();
        }
        assertEquals("TERM", r.stoppedBy());
        assertTrue(r.steps() >= 4 && r.steps() < STEPS, "stopped at " + r.steps());
        assertEquals(List.of(), halted, "the first signal does not abort");
        assertTrue(
                said.toString(StandardCharsets.UTF_8).contains("SIGTERM received"),
                said.toString(StandardCharsets.UTF_8));
        Checkpoint ck = Checkpoint.open(c);
        assertEquals(
                r.steps(),
                ck.step(),
                "a checkpoint at the step reached, not at the last --save-every");
        assertEquals(reference.get(r.steps()), losses(c).get(r.steps()));
        finish(c);
        assertEquals(reference, losses(c));

        // a second signal aborts at once with the exit code of the first; outside the loop, the
        // first does
        halted.clear();
        StopSignals twice = new StopSignals(QUIET, halted::add);
        twice.arm(1);
        twice.deliver("INT");
        assertEquals(List.of(), halted);
        twice.deliver("INT");
        assertEquals(List.of(130), halted);
        new StopSignals(QUIET, halted::add).deliver("TERM");
        assertEquals(List.of(130, 143), halted);
    }

    @Test
    void aDamagedByteInAnyPartOfTheNewestCheckpointIsSkippedWithOneWarning() throws Exception {
        Path src = dir.resolve("reference");
        List<Path> cks = Checkpoint.list(src);
        Path newest = cks.get(cks.size() - 1);
        int older = Checkpoint.open(cks.get(cks.size() - 2)).step();
        List<String> parts;
        try (Stream<Path> s = Files.list(newest)) {
            parts = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(
                parts.containsAll(
                        List.of(
                                "manifest.json",
                                "model.safetensors",
                                "optimizer.safetensors",
                                "state.json",
                                "config.json")),
                parts.toString());
        for (String part : parts) {
            Path copy = dir.resolve("damaged-" + part);
            copyTree(src, copy);
            Path f = copy.resolve(newest.getFileName()).resolve(part);
            byte[] bytes = Files.readAllBytes(f);
            int at =
                    part.equals("manifest.json")
                            ? new String(bytes, StandardCharsets.UTF_8).indexOf("\"sha256\"") + 14
                            : bytes.length / 2;
            bytes[at] ^= 0x01;
            Files.write(f, bytes);

            List<String> warnings = new ArrayList<>();
            Checkpoint ck = Checkpoint.openNewestIntact(copy, warnings::add);
            assertEquals(older, ck.step(), part);
            assertEquals(1, warnings.size(), part);
            String w = warnings.get(0);
            assertTrue(
                    w.contains(newest.getFileName().toString())
                            && w.contains("ckpt-" + String.format("%06d", older)),
                    w);
            if (!part.equals("manifest.json")) {
                assertTrue(w.contains(part), "the warning names the damaged part: " + w);
            }
            try (ai.djl.ndarray.NDManager m = io.github.muon4j.Backend.get().newManager()) {
                assertEquals(
                        older,
                        TrainedModel.load(copy, m, x -> {}).checkpoint().step(),
                        "eval/generate fall back too");
            }
            // a damaged checkpoint named directly is an error, not silently replaced
            Path named = copy.resolve(newest.getFileName());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Checkpoint.openNewestIntact(named, x -> {}));
        }
        // train --resume falls back, and the resumed run still equals the uninterrupted one
        Path copy = dir.resolve("damaged-optimizer.safetensors");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Run run = Run.resume(copy, null, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            assertEquals(older, run.step());
            new TrainLoop(run, QUIET).train();
        }
        String said = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, said.lines().filter(l -> l.contains("warning")).count(), said);
        assertTrue(said.contains("optimizer.safetensors"), said);
        assertEquals(reference, losses(copy));

        // nothing intact: one clear error naming each damaged checkpoint
        Path none = dir.resolve("damaged-model.safetensors");
        for (Path ck : Checkpoint.list(none)) {
            Path f = ck.resolve("state.json");
            Files.writeString(f, Files.readString(f) + " ");
        }
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Run.resume(none, null, QUIET));
        assertTrue(e.getMessage().startsWith("no intact checkpoint in " + none), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertFalse(
                Files.exists(none.resolve(RunLock.FILE)),
                "the lock is released after a failed resume");
    }

    @Test
    void aFullDiskWhileSavingLeavesThePreviousCheckpointAndTheTrainingStateUsable()
            throws Exception {
        Path d = dir.resolve("full");
        long[] written = {0};
        Checkpoint.storage = f -> new FullDisk(Checkpoint.DISK.create(f), written, 10_000);
        try (Run run = Run.start(config(d), QUIET)) {
            Checkpoint.storage = Checkpoint.DISK;
            new TrainLoop(run, QUIET).stopAfter(3).train(); // ckpt-000003 written normally
            written[0] = 0;
            Checkpoint.storage = f -> new FullDisk(Checkpoint.DISK.create(f), written, 10_000);
            IOException e =
                    assertThrows(IOException.class, () -> new TrainLoop(run, QUIET).train());
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertTrue(
                    e.getMessage()
                            .contains(
                                    "newest intact checkpoint is "
                                            + d.resolve("ckpt-000003")
                                            + " (step 3)"),
                    e.getMessage());
            try (Stream<Path> s = Files.list(d)) {
                assertEquals(
                        List.of(),
                        s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(),
                        "no partial directory left");
            }
            assertEquals(3, Checkpoint.open(d).step());
            assertEquals(6, run.step(), "the step whose save failed was done");
            // space again: the same run goes on as if nothing had happened
            Checkpoint.storage = Checkpoint.DISK;
            new TrainLoop(run, QUIET).train();
        } finally {
            Checkpoint.storage = Checkpoint.DISK;
        }
        assertEquals(reference, losses(d));
    }

    @Test
    void theLearningRateLoggedIsTheOneAppliedAfterSkippedSteps() throws Exception {
        Path e = dir.resolve("skips");
        try (Run run = Run.start(config(e, ", \"save_every\": 0, \"steps\": 6"), QUIET)) {
            new TrainLoop(run, QUIET).poisonSteps(s -> s == 2 || s == 3).train();
            // in step 6 Muon and AdamW made their 4th update, and asked the schedule at step 6
            LrSchedule m = LrSchedule.of(LrSchedule.Kind.COSINE, 0.02f, 2, 6);
            assertEquals(m.getNewValue(6), run.matrixApplied().given());
            assertEquals(
                    LrSchedule.of(LrSchedule.Kind.COSINE, 3e-3f, 2, 6).getNewValue(6),
                    run.otherApplied().given());
            String anyMatrix =
                    run.model().roles().entrySet().stream()
                            .filter(x -> x.getValue().isMuon())
                            .findFirst()
                            .orElseThrow()
                            .getKey();
            assertEquals(4, run.optimizer().muonGroup().stepCount(anyMatrix));
        }
        LrSchedule schedule = LrSchedule.of(LrSchedule.Kind.COSINE, 0.02f, 2, 6);
        LrSchedule adamw = LrSchedule.of(LrSchedule.Kind.COSINE, 3e-3f, 2, 6);
        int skipped = 0;
        for (JsonObject o : Metrics.read(e.resolve("metrics.jsonl"))) {
            int s = o.get("step").getAsInt();
            if (o.has("skipped")) {
                skipped++;
            } else if (o.has("lr")) {
                // the optimizers have done s - skipped updates; the schedule is read at the
                // trainer's step
                assertEquals(schedule.getNewValue(s), o.get("lr").getAsFloat(), "step " + s);
                assertEquals(adamw.getNewValue(s), o.get("adamw_lr").getAsFloat(), "step " + s);
                if (skipped > 0) {
                    assertNotEquals(schedule.getNewValue(s - skipped), o.get("lr").getAsFloat());
                }
            }
        }
        assertEquals(2, skipped);
    }

    @Test
    void theBalancingBiasSeesTheWholeStepsLoadWithGradAccum() throws Exception {
        Path m = dir.resolve("moe-accum");
        float[][] bias;
        try (Run run =
                Run.start(
                        config(
                                m,
                                ", \"ffn\": \"moe\", \"grad_accum\": 3, \"steps\": 1, \"warmup\": 0, \"save_every\": 0"),
                        QUIET)) {
            new TrainLoop(run, QUIET).train();
            bias = run.model().balanceBiases().toArray(new float[0][]);
        }
        JsonObject rec =
                Metrics.read(m.resolve("metrics.jsonl")).stream()
                        .filter(o -> o.has("expert_load"))
                        .findFirst()
                        .orElseThrow();
        var layers = rec.getAsJsonArray("expert_load");
        double rate = io.github.muon4j.model.ModelConfig.preset("tiny").biasUpdateRate();
        int topK = io.github.muon4j.model.ModelConfig.preset("tiny").topK();
        for (int l = 0; l < layers.size(); l++) {
            var load = layers.get(l).getAsJsonArray();
            long total = 0;
            for (var v : load) {
                total += v.getAsLong();
            }
            assertEquals(3L * 4 * 32 * topK, total, "all three micro-batches' routed tokens");
            double mean = total / (double) load.size();
            for (int e = 0; e < load.size(); e++) {
                assertEquals(
                        (float) (rate * Math.signum(mean - load.get(e).getAsDouble())),
                        bias[l][e],
                        1e-9,
                        "layer " + l + " expert " + e);
            }
        }
    }

    @Test
    void stateJsonRoundTripsThroughTheRecord() {
        RunState s =
                new RunState(
                        7,
                        896,
                        1,
                        5.5,
                        2.25,
                        new BatchLoader.State(3, BatchLoader.Order.RANDOM, 8),
                        List.of(new float[] {0.5f, -1e-3f}));
        RunState back = RunState.fromJson(s.toJson());
        assertEquals(s.step(), back.step());
        assertEquals(s.tokens(), back.tokens());
        assertEquals(s.data(), back.data());
        assertArrayEquals(s.balanceBiases().get(0), back.balanceBiases().get(0));
        assertTrue(
                s.toJson().contains("\"first_val_loss\":5.5")
                        && s.toJson().contains("\"elapsed_s\":2.25"),
                s.toJson());
        assertTrue(
                Double.isNaN(
                        RunState.fromJson(
                                        RunState.fresh().withSnapshot(s.data(), List.of()).toJson())
                                .firstValLoss()));
        assertThrows(IllegalArgumentException.class, () -> RunState.fromJson("{\"step\": 3}"));
        assertThrows(IllegalArgumentException.class, () -> RunState.fromJson("{\"step\": \"x\"}"));
    }

    /**
     * A file channel that fails with ENOSPC's message once {@code limit} bytes went to the disk.
     */
    static final class FullDisk extends java.nio.channels.FileChannel {
        private final java.nio.channels.FileChannel ch;
        private final long[] written;
        private final long limit;

        FullDisk(java.nio.channels.FileChannel ch, long[] written, long limit) {
            this.ch = ch;
            this.written = written;
            this.limit = limit;
        }

        @Override
        public int write(java.nio.ByteBuffer src) throws IOException {
            if (written[0] + src.remaining() > limit) {
                throw new IOException("No space left on device");
            }
            int n = ch.write(src);
            written[0] += n;
            return n;
        }

        @Override
        public long write(java.nio.ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public int write(java.nio.ByteBuffer src, long position) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(java.nio.ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public long read(java.nio.ByteBuffer[] dsts, int offset, int length) throws IOException {
            return ch.read(dsts, offset, length);
        }

        @Override
        public long position() throws IOException {
            return ch.position();
        }

        @Override
        public java.nio.channels.FileChannel position(long p) throws IOException {
            ch.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public java.nio.channels.FileChannel truncate(long size) throws IOException {
            ch.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            ch.force(metaData);
        }

        @Override
        public long transferTo(
                long position, long count, java.nio.channels.WritableByteChannel target)
                throws IOException {
            return ch.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(
                java.nio.channels.ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(java.nio.ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public java.nio.MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.nio.channels.FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        public java.nio.channels.FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void implCloseChannel() throws IOException {
            ch.close();
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }
}
