package io.github.muon4j.bench;

import java.util.Arrays;
import java.util.Collection;
import java.util.function.DoubleSupplier;
import java.util.function.IntConsumer;

/**
 * Order statistics of measured samples and the loops that take them: the one place the benchmarks
 * get a median, a quantile, a best-of or a series of timed calls from.
 */
public final class Measure {

    private Measure() {}

    /**
     * The q-quantile (0 = min, 0.5 = median, 1 = max) with linear interpolation between the two
     * nearest order statistics: at position q (n - 1) of the sorted values. NaN when empty.
     */
    public static double quantile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }

    public static double quantile(Collection<Double> values, double q) {
        return quantile(values.stream().mapToDouble(Double::doubleValue).toArray(), q);
    }

    /** The middle value; the mean of the two middle ones for an even count. NaN when empty. */
    public static double median(double[] values) {
        return quantile(values, 0.5);
    }

    public static double median(Collection<Double> values) {
        return quantile(values, 0.5);
    }

    public static double min(double[] values) {
        return quantile(values, 0);
    }

    public static double max(double[] values) {
        return quantile(values, 1);
    }

    public static double min(Collection<Double> values) {
        return quantile(values, 0);
    }

    public static double max(Collection<Double> values) {
        return quantile(values, 1);
    }

    /** The arithmetic mean; NaN when empty. */
    public static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    /**
     * The largest of {@code passes} readings of a rate (higher is better): what the machine offers
     * when nothing else gets in the way.
     */
    public static double bestOf(int passes, DoubleSupplier rate) {
        double best = Double.NaN;
        for (int i = 0; i < passes; i++) {
            double r = rate.getAsDouble();
            best = Double.isNaN(best) ? r : Math.max(best, r);
        }
        return best;
    }

    /** Wall seconds of one call. */
    public static double seconds(Runnable task) {
        long t0 = System.nanoTime();
        task.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Wall seconds of each of {@code reps} calls, after {@code warmup} untimed ones. */
    public static double[] times(int warmup, int reps, Runnable task) {
        for (int i = 0; i < warmup; i++) {
            task.run();
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            t[i] = seconds(task);
        }
        return t;
    }

    /**
     * Runs {@code body(i)} on each of {@code threads} new threads, i = 0 .. threads - 1, and
     * returns the wall seconds until the last one finished.
     */
    public static double onThreads(int threads, IntConsumer body) {
        Thread[] ts = new Thread[threads];
        long t0 = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            int id = i;
            ts[i] = new Thread(() -> body.accept(id));
            ts[i].start();
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
