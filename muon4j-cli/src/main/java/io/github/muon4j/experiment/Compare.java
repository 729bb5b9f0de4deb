package io.github.muon4j.experiment;

import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Muon (AdamW for the non-matrix parameters) against AdamW alone on the same model, data, batch and
 * seeds, tuned by one protocol: each arm's matrix learning rate by {@link LrSearch} on the first
 * seed (the same grid factor, cap and delta for both), the non-matrix parameters at the same AdamW
 * rate ({@code adamw_lr}) and the same weight-decay policy in both arms; then each arm's best rate
 * on every seed, and {@link ToTarget} for the costs to the target with intervals.
 */
public final class Compare {

    /** The protocol's settings. */
    public record Protocol(
            List<Double> muonGrid, List<Double> adamwGrid, double factor, int cap, double delta) {}

    /** Everything a report needs. */
    public record Result(
            TrainConfig base,
            Protocol protocol,
            List<Long> seeds,
            LrSearch.Result muonSearch,
            LrSearch.Result adamwSearch,
            List<RunSummary> sweep,
            List<RunSummary> muon,
            List<RunSummary> adamw,
            ToTarget.Result toTarget) {}

    private Compare() {}

    /**
     * {@code base} with the arm's optimizer, matrix rate and seed; nothing else changes between
     * arms.
     */
    public static TrainConfig arm(TrainConfig base, String optimizer, double lr, long seed) {
        return base.overlay(
                        String.format(
                                Locale.ROOT,
                                "{\"optimizer\": \"%s\", \"lr\": %s, \"seed\": %d}",
                                optimizer,
                                Double.toString(lr),
                                seed),
                        "compare")
                .validate();
    }

    public static String label(String prefix, String optimizer, double lr, long seed) {
        return String.format(Locale.ROOT, "%s%s-lr%s-seed%d", prefix, optimizer, fmt(lr), seed);
    }

    static String fmt(double lr) {
        return String.format(Locale.ROOT, "%.4g", lr).replaceAll("\\.?0+(e|$)", "$1");
    }

    /** Searches one arm's rate on {@code seed}; every run it makes is added to {@code sweep}. */
    public static LrSearch.Result tune(
            TrainConfig base,
            String optimizer,
            List<Double> grid,
            Protocol p,
            long seed,
            String prefix,
            RunCache cache,
            List<RunSummary> sweep) {
        return LrSearch.search(
                grid,
                p.factor(),
                p.cap(),
                p.delta(),
                lr -> {
                    try {
                        RunSummary s =
                                cache.get(
                                        label(prefix, optimizer, lr, seed),
                                        arm(base, optimizer, lr, seed));
                        sweep.add(s);
                        return s.diverged() ? Double.POSITIVE_INFINITY : s.finalValLoss();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    public static Result run(
            TrainConfig base,
            Protocol p,
            List<Long> seeds,
            String prefix,
            RunCache cache,
            PrintStream log)
            throws IOException {
        List<RunSummary> sweep = new ArrayList<>();
        long s0 = seeds.get(0);
        log.printf("%stuning Muon's matrix rate (seed %d) ...%n", prefix, s0);
        LrSearch.Result ms = tune(base, "muon", p.muonGrid(), p, s0, prefix, cache, sweep);
        log.printf("%stuning AdamW's matrix rate (seed %d) ...%n", prefix, s0);
        LrSearch.Result as = tune(base, "adamw", p.adamwGrid(), p, s0, prefix, cache, sweep);
        List<RunSummary> muon = new ArrayList<>(), adamw = new ArrayList<>();
        for (long s : seeds) {
            muon.add(
                    cache.get(
                            label(prefix, "muon", ms.best(), s), arm(base, "muon", ms.best(), s)));
            adamw.add(
                    cache.get(
                            label(prefix, "adamw", as.best(), s),
                            arm(base, "adamw", as.best(), s)));
        }
        return new Result(
                base, p, seeds, ms, as, sweep, muon, adamw, ToTarget.analyze(muon, adamw));
    }

    /** Removes a directory tree (an interrupted run's leftovers). */
    static void clear(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var walk = Files.walk(dir)) {
                for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(q);
                }
            }
        }
    }
}
