package io.github.muon4j.experiment;

import java.util.ArrayList;
import java.util.List;

/**
 * The horizon-matched speedup. Each arm has a final validation loss at every budget D of a ladder
 * (one whole schedule per budget). The reference arm's data to reach a loss L, D_ref(L), is read
 * off its own ladder: linearly in (log D, L) between the two budgets around L (the headline), or
 * from a fitted L(D) = E + A D^-a ({@link PowerLaw}) where L lies outside the ladder (flagged as an
 * extrapolation). The speedup of the other arm at budget D is D_ref(L_other(D)) / D.
 */
public final class Horizon {

    private Horizon() {}

    /**
     * Where a reference ladder reaches a target loss.
     *
     * @param data the data (tokens) at which the reference reaches the target; +infinity when even
     *     the fitted law never does
     * @param position -1 below the smallest budget, 0 inside the ladder, +1 beyond the largest
     */
    public record Reach(double data, int position) {
        public boolean extrapolated() {
            return position != 0;
        }
    }

    /**
     * Log-data interpolation: the first crossing of {@code target} going up the ladder, linear in
     * log D between the budgets around it; NaN when the target lies outside the ladder (above the
     * smallest budget's loss, or below every loss).
     *
     * @param d budgets (ascending), @param l the reference's loss at each
     */
    public static double interpolate(double[] d, double[] l, double target) {
        if (!(l[0] >= target)) {
            return Double.NaN;
        }
        if (l[0] == target) {
            return d[0];
        }
        for (int i = 1; i < d.length; i++) {
            if (l[i] <= target) {
                double f = (l[i - 1] - target) / (l[i - 1] - l[i]);
                return StrictMath.exp(
                        StrictMath.log(d[i - 1])
                                + f * (StrictMath.log(d[i]) - StrictMath.log(d[i - 1])));
            }
        }
        return Double.NaN;
    }

    /** Interpolation inside the ladder, the fitted law outside it. */
    public static Reach reach(double[] d, double[] l, double target) {
        double x = interpolate(d, l, target);
        if (!Double.isNaN(x)) {
            return new Reach(x, 0);
        }
        PowerLaw fit = PowerLaw.fit(d, l);
        return new Reach(fit.data(target), l[0] < target ? -1 : +1);
    }

    /**
     * The headline speedup of a loss against a reference ladder at budget {@code budget}:
     * D_ref(loss) / budget.
     */
    public static double speedup(double[] d, double[] ref, double loss, double budget) {
        return reach(d, ref, loss).data() / budget;
    }

    /**
     * Per-seed (paired) speedups: seed k's loss against seed k's own reference ladder, by
     * interpolation only. Seeds whose loss lies outside their reference's ladder are counted, with
     * the bound the ladder gives (beyond the largest budget: the speedup is at least D_max /
     * budget; above the smallest budget's loss: at most D_min / budget), never as NaN.
     *
     * @param ratios one per seed: the speedup, or the bound for a seed outside the ladder
     * @param position per seed: -1 (at most the bound), 0 (inside), +1 (at least the bound)
     */
    public record Paired(double[] ratios, int[] position) {
        public int beyond() {
            return count(+1);
        }

        public int below() {
            return count(-1);
        }

        public int inside() {
            return count(0);
        }

        private int count(int p) {
            int n = 0;
            for (int x : position) {
                n += x == p ? 1 : 0;
            }
            return n;
        }

        /** The inside seeds' ratios. */
        public double[] insideRatios() {
            List<Double> v = new ArrayList<>();
            for (int i = 0; i < ratios.length; i++) {
                if (position[i] == 0) {
                    v.add(ratios[i]);
                }
            }
            return v.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /**
     * @param loss per seed, the arm's final loss at the budget
     * @param ref per seed, the reference's final losses at every budget of {@code d}
     */
    public static Paired paired(double[] d, double[][] ref, double[] loss, double budget) {
        double[] r = new double[loss.length];
        int[] pos = new int[loss.length];
        for (int k = 0; k < loss.length; k++) {
            double x = interpolate(d, ref[k], loss[k]);
            if (!Double.isNaN(x)) {
                r[k] = x / budget;
            } else if (ref[k][0] < loss[k]) {
                r[k] = d[0] / budget;
                pos[k] = -1;
            } else {
                r[k] = d[d.length - 1] / budget;
                pos[k] = +1;
            }
        }
        return new Paired(r, pos);
    }

    /** Seed means of per-seed rows: column j = mean over rows of row[j]. */
    public static double[] columnMeans(double[][] rows) {
        double[] m = new double[rows[0].length];
        for (double[] r : rows) {
            for (int j = 0; j < m.length; j++) {
                m[j] += r[j] / rows.length;
            }
        }
        return m;
    }

    /**
     * The seed-mean speedup at a budget and its 95% percentile-bootstrap interval: the arm's seeds
     * and the reference's seeds (each seed's whole ladder as one unit) resampled independently.
     *
     * @param scale multiplies every speedup (1 for data; reference FLOPs per token x budget / the
     *     arm's total FLOPs at the budget for compute)
     */
    public static Estimate estimate(
            double[] d, double[][] ref, double[] loss, double budget, double scale) {
        double[][] a = new double[loss.length][];
        for (int i = 0; i < loss.length; i++) {
            a[i] = new double[] {loss[i]};
        }
        double[] refMean = columnMeans(ref);
        Reach r = reach(d, refMean, Stats.mean(loss));
        // a resample of the reference is a multiset of its seeds: its mean ladder and fitted law
        // are computed once per multiset
        java.util.IdentityHashMap<double[], Integer> index = new java.util.IdentityHashMap<>();
        for (int i = 0; i < ref.length; i++) {
            index.put(ref[i], i);
        }
        java.util.Map<String, double[]> means = new java.util.HashMap<>();
        java.util.Map<String, PowerLaw> fits = new java.util.HashMap<>();
        Stats.Interval ci =
                Stats.bootstrap(
                        a,
                        ref,
                        (x, y) -> {
                            double m = 0;
                            for (double[] v : x) {
                                m += v[0] / x.length;
                            }
                            int[] idx = new int[y.length];
                            for (int i = 0; i < y.length; i++) {
                                idx[i] = index.get(y[i]);
                            }
                            java.util.Arrays.sort(idx);
                            String key = java.util.Arrays.toString(idx);
                            double[] mean = means.computeIfAbsent(key, k -> columnMeans(y));
                            double data = interpolate(d, mean, m);
                            if (Double.isNaN(data)) {
                                data =
                                        fits.computeIfAbsent(key, k -> PowerLaw.fit(d, mean))
                                                .data(m);
                            }
                            return data / budget * scale;
                        },
                        16);
        double bound = (r.position() > 0 ? d[d.length - 1] : d[0]) / budget * scale;
        return new Estimate(
                r.data() / budget * scale,
                ci,
                r.position(),
                PowerLaw.fit(d, refMean).data(Stats.mean(loss)) / budget * scale,
                bound);
    }

    /**
     * The same estimate with every number multiplied by {@code scale} (FLOPs from data: the
     * interval scales with it).
     */
    public static Estimate scaled(Estimate e, double scale) {
        return new Estimate(
                e.value() * scale,
                new Stats.Interval(e.ci().low() * scale, e.ci().high() * scale),
                e.position(),
                e.fitted() * scale,
                e.bound() * scale);
    }

    /**
     * @param value the headline (interpolated inside the ladder, fitted law outside)
     * @param position where the loss lies against the reference's ladder (see {@link Reach})
     * @param fitted the same read from the fitted law alone, at every budget
     * @param bound what the reference's trained ladder alone says where the loss lies outside it:
     *     at least its largest budget / the budget (position +1), at most its smallest (position
     *     -1)
     */
    public record Estimate(
            double value, Stats.Interval ci, int position, double fitted, double bound) {
        public boolean extrapolated() {
            return position != 0;
        }
    }

    /**
     * The loss-matched speedup curve: at each target loss inside both ladders' ranges, the
     * reference's data to reach it over the arm's (both interpolated in log data).
     *
     * @return rows {target loss, speedup}, targets descending
     */
    public static List<double[]> lossMatched(
            double[] dRef, double[] ref, double[] dArm, double[] arm, int points) {
        double hi = Math.min(max(ref), max(arm)), lo = Math.max(min(ref), min(arm));
        List<double[]> out = new ArrayList<>();
        if (!(hi > lo)) {
            return out;
        }
        for (int i = 0; i < points; i++) {
            double t = hi - (hi - lo) * i / (points - 1);
            double dr = interpolate(dRef, ref, t), da = interpolate(dArm, arm, t);
            if (!Double.isNaN(dr) && !Double.isNaN(da)) {
                out.add(new double[] {t, dr / da});
            }
        }
        return out;
    }

    static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }
}
