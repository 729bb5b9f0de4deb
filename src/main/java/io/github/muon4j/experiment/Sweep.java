package io.github.muon4j.experiment;

import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A grid of training runs: batch sizes x optimizers x learning rates x seeds. Each point trains into
 * its own directory with a DONE marker, so an interrupted grid resumes where it stopped and finished
 * points are never trained again.
 */
public final class Sweep {

    /** One grid point and its run. */
    public record Point(int batchSize, String optimizer, double lr, long seed, Compare.RunResult run, boolean diverged, boolean spiked) {}

    private Sweep() {}

    /** A spike: a training loss above 1.5x the lowest loss seen so far, after the first 10% of steps. */
    public static boolean spiked(Curve c) {
        double[] l = c.trainLoss();
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < l.length; i++) {
            if (i > l.length / 10 && l[i] > 1.5 * min) {
                return true;
            }
            min = Math.min(min, l[i]);
        }
        return false;
    }

    /** Diverged: no finite final validation loss, or a final loss above the first evaluation's. */
    public static boolean diverged(Curve c) {
        double f = c.finalValLoss();
        return !Double.isFinite(f) || c.valLoss().length == 0 || f > c.valLoss()[0];
    }

    public static List<Point> run(TrainConfig base, List<Integer> batchSizes, List<String> optimizers, List<Double> lrs, List<Long> seeds,
            Path out, PrintStream log) throws IOException {
        List<Point> points = new ArrayList<>();
        for (int bs : batchSizes) {
            for (String opt : optimizers) {
                List<Double> rates = lrs.isEmpty() ? List.of(opt.equals("muon") ? base.lr() : base.adamwLr()) : lrs;
                for (double lr : rates) {
                    for (long seed : seeds) {
                        TrainConfig c = base.overlay("{\"batch_size\": " + bs + "}", "sweep");
                        String name = String.format(Locale.ROOT, "bs%d-%s-lr%s-seed%d", bs, opt, Double.toString(lr), seed);
                        Compare.RunResult r;
                        try {
                            r = Compare.train(c, opt, lr, seed, out.resolve(name), log);
                        } catch (io.github.muon4j.train.Trainer.DivergedException e) {
                            log.println("  " + name + ": diverged (" + e.getMessage() + ")");
                            java.nio.file.Files.writeString(out.resolve(name).resolve("DONE"), "diverged\n");
                            r = new Compare.RunResult(opt, lr, seed, out.resolve(name), Double.NaN,
                                    Curve.read(out.resolve(name).resolve("metrics.jsonl"), 0));
                        }
                        points.add(new Point(bs, opt, lr, seed, r, diverged(r.curve()), spiked(r.curve())));
                    }
                }
            }
        }
        return points;
    }
}
