package io.github.muon4j.experiment;

import java.util.Arrays;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * Means, spreads and 95% intervals over seeds. Intervals: Student's t for a mean; a percentile
 * bootstrap for a statistic of two independent samples (one per optimizer), computed exactly (every
 * resample enumerated) when there are few seeds and by a seeded Monte Carlo otherwise.
 */
public final class Stats {

    /**
     * A 95% interval; either end may be +/-infinity (unbounded), never NaN unless there were no
     * data.
     */
    public record Interval(double low, double high) {}

    /** Two-sided 97.5% quantiles of Student's t, for 1..30 degrees of freedom (standard tables). */
    private static final double[] T975 = {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
                2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
                2.045, 2.042
    };

    /**
     * Above this many equally likely resamples, the bootstrap draws {@link #MC_DRAWS} at random.
     */
    static final long EXACT_LIMIT = 200_000;

    static final int MC_DRAWS = 20_000;

    private Stats() {}

    public static double mean(double[] v) {
        double s = 0;
        for (double d : v) {
            s += d;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** Sample standard deviation (n - 1); 0 for a single value. */
    public static double std(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v), s = 0;
        for (double d : v) {
            s += (d - m) * (d - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    public static double t975(int df) {
        return df <= 0 ? Double.POSITIVE_INFINITY : df <= 30 ? T975[df - 1] : 1.960 + 2.4 / df;
    }

    /** mean +/- t(0.975, n-1) s / sqrt(n); one value gives (-inf, +inf). */
    public static Interval tInterval(double[] v) {
        if (v.length == 0) {
            return new Interval(Double.NaN, Double.NaN);
        }
        if (v.length == 1) {
            return new Interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        }
        double m = mean(v), h = t975(v.length - 1) * std(v) / Math.sqrt(v.length);
        return new Interval(m - h, m + h);
    }

    /**
     * Percentile bootstrap of {@code stat(a*, b*)}, a* and b* resampled with replacement from a and
     * b independently. The interval is the nearest-rank 2.5% and 97.5% points of the resampled
     * values ({@code sorted[ceil(p N) - 1]}); a statistic of +infinity (say, a target never
     * reached) sorts last, so an interval can be unbounded above.
     */
    public static Interval bootstrap(
            double[][] a,
            double[][] b,
            BiFunction<double[][], double[][], Double> stat,
            long seed) {
        long combos = pow(a.length, a.length);
        combos = combos > EXACT_LIMIT ? Long.MAX_VALUE : combos * pow(b.length, b.length);
        double[] vals;
        if (combos <= EXACT_LIMIT) {
            vals = new double[(int) combos];
            int[] ia = new int[a.length], ib = new int[b.length];
            for (int k = 0; k < vals.length; k++) {
                vals[k] = stat.apply(pick(a, ia), pick(b, ib));
                if (!advance(ib, b.length)) {
                    advance(ia, a.length);
                }
            }
        } else {
            Random r = new Random(seed);
            vals = new double[MC_DRAWS];
            int[] ia = new int[a.length], ib = new int[b.length];
            for (int k = 0; k < vals.length; k++) {
                for (int i = 0; i < ia.length; i++) {
                    ia[i] = r.nextInt(a.length);
                }
                for (int i = 0; i < ib.length; i++) {
                    ib[i] = r.nextInt(b.length);
                }
                vals[k] = stat.apply(pick(a, ia), pick(b, ib));
            }
        }
        for (int i = 0; i < vals.length; i++) {
            if (Double.isNaN(vals[i])) {
                vals[i] = Double.POSITIVE_INFINITY;
            }
        }
        Arrays.sort(vals);
        return new Interval(rank(vals, 0.025), rank(vals, 0.975));
    }

    static double rank(double[] sorted, double p) {
        int k = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, k))];
    }

    private static double[][] pick(double[][] src, int[] idx) {
        double[][] out = new double[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = src[idx[i]];
        }
        return out;
    }

    /** Next index tuple in base n (odometer); false when it wrapped to all zeros. */
    private static boolean advance(int[] idx, int n) {
        for (int i = idx.length - 1; i >= 0; i--) {
            if (++idx[i] < n) {
                return true;
            }
            idx[i] = 0;
        }
        return false;
    }

    private static long pow(long base, int exp) {
        long r = 1;
        for (int i = 0; i < exp; i++) {
            r *= base;
            if (r > EXACT_LIMIT) {
                return EXACT_LIMIT + 1;
            }
        }
        return r;
    }
}
