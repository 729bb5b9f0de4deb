package io.github.muon4j.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.train.Metrics;
import io.github.muon4j.train.Run;
import io.github.muon4j.train.TrainConfig;
import io.github.muon4j.train.TrainLoop;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Trains a configuration once and keeps only its {@link RunSummary}: {@code
 * <summaries>/<label>-<key>.json}. A configuration whose summary exists is never trained again, so
 * an experiment stopped at any point resumes where it was, and the summaries (a few kB each) can be
 * committed so that every reported number traces back to them. The run directory lives under {@code
 * scratch} while the run trains and is deleted afterwards unless {@code keepRuns}.
 */
public final class RunCache {

    /** Settings that do not change what is trained (and so are not part of the key). */
    private static final List<String> NOT_KEYED =
            List.of(
                    "out",
                    "threads",
                    "device",
                    "log_every",
                    "save_every",
                    "keep_checkpoints",
                    "samples",
                    "diag_every");

    private final Path summaries;
    private final Path scratch;
    private final boolean keepRuns;
    private final PrintStream log;
    private int trained;
    private int reused;
    private boolean offline;
    private long deadlineNanos = Long.MAX_VALUE;

    /** Thrown instead of training when the cache is offline or past its deadline. */
    public static final class NotCached extends RuntimeException {
        public NotCached(String label) {
            super(label);
        }
    }

    /** Offline: never train, throw {@link NotCached} for a missing run (report-only mode). */
    public RunCache offline(boolean on) {
        offline = on;
        return this;
    }

    /** Start no new run after this {@link System#nanoTime()} (a budget). */
    public RunCache deadline(long nanos) {
        deadlineNanos = nanos;
        return this;
    }

    public RunCache(Path summaries, Path scratch, boolean keepRuns, PrintStream log) {
        this.summaries = summaries;
        this.scratch = scratch;
        this.keepRuns = keepRuns;
        this.log = log;
    }

    /**
     * Settings that were part of the key while unset (null) from the start; stored keys depend on
     * them.
     */
    private static final List<String> KEYED_WHEN_NULL =
            List.of("data", "val_data", "tokenizer", "model");

    /**
     * The key of a configuration: the first 12 hex digits of SHA-256 of its keyed settings. A
     * setting added to {@link TrainConfig} later (say {@code init_from}) is left out while it is
     * unset, so that a new optional setting does not orphan the stored summaries.
     */
    public static String key(TrainConfig c) {
        JsonObject o = JsonParser.parseString(c.toJson()).getAsJsonObject();
        NOT_KEYED.forEach(o::remove);
        o.entrySet()
                .removeIf(e -> e.getValue().isJsonNull() && !KEYED_WHEN_NULL.contains(e.getKey()));
        // settings added later are keyed only away from their default, so stored summaries keep
        // their keys
        if (o.has("precision") && "fp32".equals(o.get("precision").getAsString())) {
            o.remove("precision");
        }
        try {
            byte[] h =
                    MessageDigest.getInstance("SHA-256")
                            .digest(o.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path file(String label, TrainConfig c) {
        return summaries.resolve(label + "-" + key(c) + ".json");
    }

    /** The cached summary of {@code c} (under any label: the key decides), or null. */
    public RunSummary cached(String label, TrainConfig c) throws IOException {
        Path f = file(label, c);
        if (!Files.exists(f) && Files.isDirectory(summaries)) {
            String suffix = "-" + key(c) + ".json";
            try (var files = Files.list(summaries)) {
                f =
                        files.filter(q -> q.getFileName().toString().endsWith(suffix))
                                .sorted()
                                .findFirst()
                                .orElse(f);
            }
        }
        return Files.exists(f) ? RunSummary.fromJson(Files.readString(f)) : null;
    }

    /** The summary of {@code c}: read back, or trained now and stored. */
    public RunSummary get(String label, TrainConfig c) throws IOException {
        RunSummary s = cached(label, c);
        if (s != null) {
            reused++;
            return s;
        }
        if (offline || System.nanoTime() > deadlineNanos) {
            throw new NotCached(label);
        }
        io.github.muon4j.train.StopSignals
                .throwIfStopRequested(); // a signal between runs: stop before the next
        String key = key(c);
        Path dir = scratch.resolve(label + "-" + key);
        log.printf("  train %s (%s lr %s seed %d) ...%n", label, c.optimizer(), c.lr(), c.seed());
        s = trainOnce(key, label, c, dir);
        double wall = s.wallSeconds();
        Files.createDirectories(summaries);
        Path f = file(label, c), tmp = f.resolveSibling(f.getFileName() + ".tmp");
        Files.writeString(tmp, s.toJson());
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        if (!keepRuns) {
            Compare.clear(dir);
        }
        trained++;
        log.printf(
                "    final val loss %.4f%s, %.0f s%n",
                s.finalValLoss(), s.diverged() ? " (diverged)" : "", wall);
        return s;
    }

    /**
     * Trains one run in {@code dir} (cleared first) and summarizes it. A run stopped by SIGTERM or
     * SIGINT mid-way leaves no summary: {@link io.github.muon4j.train.StopSignals.Stopped} is
     * thrown, and the run starts over next time.
     */
    static RunSummary trainOnce(String key, String label, TrainConfig c, Path dir)
            throws IOException {
        Compare.clear(dir);
        TrainConfig cfg =
                c.overlay(
                                "{\"out\": "
                                        + new com.google.gson.Gson().toJson(dir.toString())
                                        + ", \"log_every\": 1, \"save_every\": 0, \"keep_checkpoints\": 1, \"samples\": 0, \"diag_every\": 0}",
                                "study")
                        .validate();
        double load0 = loadAverage();
        long t0 = System.nanoTime();
        boolean diverged = false;
        try (Run run = Run.start(cfg, new PrintStream(OutputStream.nullOutputStream()))) {
            TrainLoop.Result r =
                    new TrainLoop(run, new PrintStream(OutputStream.nullOutputStream())).train();
            if (r.stoppedBy() != null) {
                throw new io.github.muon4j.train.StopSignals.Stopped(r.stoppedBy());
            }
        } catch (TrainLoop.DivergedException e) {
            diverged = true;
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        return summarize(
                key,
                label,
                cfg,
                dir.resolve("metrics.jsonl"),
                diverged,
                wall,
                new double[] {load0, loadAverage()});
    }

    static RunSummary summarize(
            String key,
            String label,
            TrainConfig cfg,
            Path metrics,
            boolean stopped,
            double wall,
            double[] load)
            throws IOException {
        List<double[]> val = new ArrayList<>();
        double[] train = new double[cfg.steps()];
        Arrays.fill(train, Double.NaN);
        int last = 0;
        for (JsonObject o : Metrics.read(metrics)) {
            int step = o.get("step").getAsInt();
            last = Math.max(last, step);
            if (o.has("val_loss")) {
                val.add(
                        new double[] {
                            step,
                            o.get("tokens").getAsDouble(),
                            o.has("time_s") ? o.get("time_s").getAsDouble() : 0,
                            o.get("val_loss").getAsDouble()
                        });
            }
            if (step >= 1 && o.has("train_loss") && !o.get("train_loss").isJsonNull()) {
                train[step - 1] = round(o.get("train_loss").getAsDouble());
            }
        }
        double[] trainLoss = Arrays.copyOf(train, Math.min(train.length, last));
        double[] st = col(val, 0), tok = col(val, 1), sec = col(val, 2), vl = col(val, 3);
        double fin = vl.length == 0 ? Double.NaN : vl[vl.length - 1];
        boolean diverged =
                stopped
                        || !Double.isFinite(fin)
                        || vl.length == 0
                        || fin > vl[0]
                        || st[st.length - 1] < cfg.steps();
        JsonObject conf = JsonParser.parseString(cfg.toJson()).getAsJsonObject();
        NOT_KEYED.forEach(conf::remove);
        int windows =
                io.github.muon4j.train.Evaluator.windowCount(cfg.evalBatches(), cfg.batchSize());
        return new RunSummary(
                key,
                label,
                conf,
                Cost.of(cfg),
                windows,
                st,
                tok,
                sec,
                vl,
                trainLoss,
                diverged,
                stopped,
                Math.round(wall * 10) / 10.0,
                load,
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                null);
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e5) / 1e5 : v;
    }

    private static double[] col(List<double[]> rows, int c) {
        return rows.stream().mapToDouble(r -> c == 3 ? r[c] : r[c]).toArray();
    }

    /** The 1-minute load average (/proc/loadavg), NaN where unavailable. */
    public static double loadAverage() {
        return io.github.muon4j.bench.Machine.loadAverage();
    }

    public int trained() {
        return trained;
    }

    public int reused() {
        return reused;
    }
}
