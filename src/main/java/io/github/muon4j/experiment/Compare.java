package io.github.muon4j.experiment;

import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.train.Run;
import io.github.muon4j.train.TrainConfig;
import io.github.muon4j.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Muon (AdamW for non-matrix parameters) against AdamW alone on the same model, data, batch and
 * seed. Each optimizer's learning rate is picked by a small sweep (lowest final validation loss);
 * the target loss is AdamW's final validation loss at its best rate unless given; then each
 * optimizer's steps, tokens, FLOPs and wall time to the target, over one or more seeds.
 */
public final class Compare {

    /** One finished training run. */
    public record RunResult(String optimizer, double lr, long seed, Path dir, double finalValLoss, Curve curve) {}

    /** Everything the report needs. */
    public record Result(double target, List<RunResult> sweep, List<RunResult> muon, List<RunResult> adamw, double flopsPerToken) {}

    private Compare() {}

    /** Trains one configuration into {@code dir}, or reads it back if it finished before. */
    public static RunResult train(TrainConfig base, String optimizer, double lr, long seed, Path dir, PrintStream log) throws IOException {
        String json = String.format(Locale.ROOT, "{\"optimizer\": \"%s\", \"lr\": %s, \"seed\": %d, \"out\": %s, \"samples\": 0}",
                optimizer, Double.toString(lr), seed, com.google.gson.JsonParser.parseString("\"" + dir.toString().replace("\\", "\\\\") + "\"").toString());
        TrainConfig cfg = base.overlay(json, "compare");
        if ("adamw".equals(optimizer)) {
            cfg = cfg.overlay("{\"adamw_lr\": " + lr + "}", "compare");
        }
        cfg = cfg.validate();
        double fpt = flopsPerToken(cfg);
        Path done = dir.resolve("DONE");
        if (!Files.exists(done)) {
            clear(dir);
            log.printf("  %s lr %s seed %d -> %s%n", optimizer, lr, seed, dir);
            try (Run run = Run.start(cfg, new PrintStream(OutputStream.nullOutputStream()))) {
                new Trainer(run, new PrintStream(OutputStream.nullOutputStream())).train();
            }
            Files.writeString(done, "finished\n");
        }
        Curve c = Curve.read(dir.resolve("metrics.jsonl"), fpt);
        return new RunResult(optimizer, lr, seed, dir, c.finalValLoss(), c);
    }

    static double flopsPerToken(TrainConfig cfg) {
        return Run.modelConfigFor(cfg, Tokenizers.byName(cfg.tokenizerOrDefault())).flopsPerToken(cfg.seqLen());
    }

    public static Result run(TrainConfig base, List<Double> muonLrs, List<Double> adamwLrs, List<Long> seeds, Double target, Path out, PrintStream log)
            throws IOException {
        if (base.evalEvery() == 0 || base.evalEvery() > Math.max(1, base.steps() / 10)) {
            base = base.overlay("{\"eval_every\": " + Math.max(1, base.steps() / 20) + "}", "compare");
        }
        long seed0 = seeds.get(0);
        List<RunResult> sweep = new ArrayList<>();
        RunResult bestMuon = null, bestAdam = null;
        for (double lr : muonLrs) {
            RunResult r = train(base, "muon", lr, seed0, out.resolve(name("muon", lr, seed0)), log);
            sweep.add(r);
            bestMuon = better(bestMuon, r);
        }
        for (double lr : adamwLrs) {
            RunResult r = train(base, "adamw", lr, seed0, out.resolve(name("adamw", lr, seed0)), log);
            sweep.add(r);
            bestAdam = better(bestAdam, r);
        }
        List<RunResult> muon = new ArrayList<>(List.of(bestMuon)), adamw = new ArrayList<>(List.of(bestAdam));
        for (long s : seeds.subList(1, seeds.size())) {
            muon.add(train(base, "muon", bestMuon.lr(), s, out.resolve(name("muon", bestMuon.lr(), s)), log));
            adamw.add(train(base, "adamw", bestAdam.lr(), s, out.resolve(name("adamw", bestAdam.lr(), s)), log));
        }
        double t = target != null ? target : mean(adamw.stream().mapToDouble(RunResult::finalValLoss).toArray());
        return new Result(t, sweep, muon, adamw, flopsPerToken(base));
    }

    static String name(String opt, double lr, long seed) {
        return String.format(Locale.ROOT, "%s-lr%s-seed%d", opt, Double.toString(lr), seed);
    }

    static RunResult better(RunResult a, RunResult b) {
        if (a == null || !Double.isFinite(a.finalValLoss())) {
            return b;
        }
        return Double.isFinite(b.finalValLoss()) && b.finalValLoss() < a.finalValLoss() ? b : a;
    }

    static double mean(double[] v) {
        double s = 0;
        int n = 0;
        for (double d : v) {
            if (Double.isFinite(d)) {
                s += d;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** Removes what an interrupted run left, so that it starts again cleanly. */
    static void clear(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
