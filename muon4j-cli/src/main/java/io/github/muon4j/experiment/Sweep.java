package io.github.muon4j.experiment;

import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A grid of training runs: batch sizes x optimizers x learning rates x seeds, through a {@link
 * RunCache}, so an interrupted grid resumes where it stopped and finished points are never trained
 * again.
 */
public final class Sweep {

    /** One grid point and its run. */
    public record Point(
            int batchSize,
            String optimizer,
            double lr,
            long seed,
            RunSummary run,
            boolean diverged,
            boolean spiked) {}

    private Sweep() {}

    public static List<Point> run(
            TrainConfig base,
            List<Integer> batchSizes,
            List<String> optimizers,
            List<Double> lrs,
            List<Long> seeds,
            RunCache cache,
            PrintStream log)
            throws IOException {
        List<Point> points = new ArrayList<>();
        for (int bs : batchSizes) {
            for (String opt : optimizers) {
                List<Double> rates =
                        lrs.isEmpty()
                                ? List.of(
                                        opt.equals("muon")
                                                ? base.lr()
                                                : TrainConfig.defaultLr("adamw"))
                                : lrs;
                for (double lr : rates) {
                    for (long seed : seeds) {
                        TrainConfig c =
                                Compare.arm(
                                        base.overlay("{\"batch_size\": " + bs + "}", "sweep"),
                                        opt,
                                        lr,
                                        seed);
                        RunSummary r =
                                cache.get(
                                        String.format(
                                                Locale.ROOT,
                                                "bs%d-%s",
                                                bs,
                                                Compare.label("", opt, lr, seed)),
                                        c);
                        points.add(new Point(bs, opt, lr, seed, r, r.diverged(), r.spikes() > 0));
                    }
                }
            }
        }
        return points;
    }
}
