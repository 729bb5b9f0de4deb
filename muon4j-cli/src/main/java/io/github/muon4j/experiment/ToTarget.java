package io.github.muon4j.experiment;

import java.util.ArrayList;
import java.util.List;

/**
 * Muon against AdamW to a target loss, over seeds, without NaN.
 *
 * <p>The target is the final validation loss of AdamW's seed-mean curve (the mean over seeds of the
 * validation loss at each evaluation), so AdamW's mean curve reaches it by construction. Each arm's
 * steps to the target are read off its own seed-mean curve (first crossing, linear between
 * evaluations); tokens, model FLOPs, Newton-Schulz FLOPs and total FLOPs follow from the steps,
 * wall time from the seed-mean of the runs' training seconds. The 95% interval of each Muon/AdamW
 * ratio is a percentile bootstrap over seeds (each arm resampled on its own, the target recomputed
 * from the resampled AdamW runs). A resample in which Muon's mean curve never reaches the target
 * counts as an infinite ratio, so the interval can be unbounded above; it is then printed as such,
 * not as NaN. Runs that diverged are left out of the mean curves and counted. Each run's own
 * crossing of the target is shown too, with the number of runs that reached it.
 */
public final class ToTarget {

    /**
     * Where an arm's seed-mean curve reaches the target; {@code reached} false: never (other
     * fields: at the end).
     */
    public record Reach(
            boolean reached,
            double steps,
            double tokens,
            double modelFlops,
            double nsFlops,
            double totalFlops,
            double seconds) {}

    /**
     * A ratio Muon / AdamW and its interval; {@code value} is +infinity when Muon's mean curve
     * never reached.
     */
    public record Ratio(double value, Stats.Interval ci95) {}

    public record Result(
            double target,
            String targetDefinition,
            Reach muon,
            Reach adamw,
            Ratio steps,
            Ratio tokens,
            Ratio modelFlops,
            Ratio totalFlops,
            Ratio wall,
            List<Curve.Hit> muonRuns,
            List<Curve.Hit> adamwRuns,
            int muonReached,
            int adamwReached,
            int muonDiverged,
            int adamwDiverged) {}

    public static final String DEFINITION =
            "target = final validation loss of AdamW's seed-mean curve; each arm's cost to target read off its seed-mean curve"
                    + " (linear between evaluations); 95% intervals: percentile bootstrap over seeds, each arm resampled independently";

    private ToTarget() {}

    public static Result analyze(List<RunSummary> muon, List<RunSummary> adamw) {
        List<RunSummary> m = muon.stream().filter(r -> !r.diverged()).toList(),
                a = adamw.stream().filter(r -> !r.diverged()).toList();
        if (a.isEmpty() || m.isEmpty()) {
            throw new IllegalStateException(
                    "every "
                            + (a.isEmpty() ? "AdamW" : "Muon")
                            + " run at the chosen rate diverged: no target");
        }
        RunSummary m0 = m.get(0), a0 = a.get(0);
        int n = Math.min(len(m), len(a));
        double[][] mv = vectors(m, n), av = vectors(a, n);
        double target = target(av, n);
        Reach rm = reach(m0, mean(mv, n, 0), mean(mv, n, n), target),
                ra = reach(a0, mean(av, n, 0), mean(av, n, n), target);
        Ratio[] ratios = new Ratio[5];
        for (int q = 0; q < 5; q++) {
            final int k = q;
            Stats.Interval ci =
                    Stats.bootstrap(
                            mv,
                            av,
                            (ms, as) -> {
                                double t = target(as, n);
                                Reach x = reach(m0, mean(ms, n, 0), mean(ms, n, n), t),
                                        y = reach(a0, mean(as, n, 0), mean(as, n, n), t);
                                return x.reached()
                                        ? pick(x, k) / pick(y, k)
                                        : Double.POSITIVE_INFINITY;
                            },
                            20251125L);
            if (m.size() < 2 || a.size() < 2) {
                ci =
                        new Stats.Interval(
                                Double.NEGATIVE_INFINITY,
                                Double.POSITIVE_INFINITY); // one seed: no interval
            }
            ratios[q] =
                    new Ratio(
                            rm.reached() ? pick(rm, k) / pick(ra, k) : Double.POSITIVE_INFINITY,
                            ci);
        }
        List<Curve.Hit> mh = new ArrayList<>(), ah = new ArrayList<>();
        muon.forEach(r -> mh.add(r.curve().reach(target)));
        adamw.forEach(r -> ah.add(r.curve().reach(target)));
        return new Result(
                target,
                DEFINITION,
                rm,
                ra,
                ratios[0],
                ratios[1],
                ratios[2],
                ratios[3],
                ratios[4],
                mh,
                ah,
                (int) mh.stream().filter(Curve.Hit::reached).count(),
                (int) ah.stream().filter(Curve.Hit::reached).count(),
                muon.size() - m.size(),
                adamw.size() - a.size());
    }

    private static double pick(Reach r, int k) {
        return switch (k) {
            case 0 -> r.steps();
            case 1 -> r.tokens();
            case 2 -> r.modelFlops();
            case 3 -> r.totalFlops();
            default -> r.seconds();
        };
    }

    private static int len(List<RunSummary> runs) {
        return runs.stream().mapToInt(r -> r.valLoss().length).min().orElse(0);
    }

    /** Each run as [valLoss[0..n), seconds[0..n)]. */
    private static double[][] vectors(List<RunSummary> runs, int n) {
        double[][] v = new double[runs.size()][2 * n];
        for (int i = 0; i < runs.size(); i++) {
            System.arraycopy(runs.get(i).valLoss(), 0, v[i], 0, n);
            System.arraycopy(runs.get(i).seconds(), 0, v[i], n, n);
        }
        return v;
    }

    private static double[] mean(double[][] v, int n, int off) {
        double[] out = new double[n];
        for (double[] r : v) {
            for (int i = 0; i < n; i++) {
                out[i] += r[off + i] / v.length;
            }
        }
        return out;
    }

    static double target(double[][] adamw, int n) {
        return mean(adamw, n, 0)[n - 1];
    }

    /** The first crossing of {@code target} by a mean curve on {@code like}'s evaluation grid. */
    static Reach reach(RunSummary like, double[] loss, double[] seconds, double target) {
        int n = loss.length;
        double[] steps = java.util.Arrays.copyOf(like.steps(), n),
                tokens = java.util.Arrays.copyOf(like.tokens(), n),
                fl = new double[n];
        Curve c = new Curve(steps, tokens, fl, seconds, loss, new double[0], new double[0]);
        Curve.Hit h = c.reach(target);
        Cost cost = like.cost();
        if (!h.reached()) {
            return new Reach(
                    false,
                    steps[n - 1],
                    tokens[n - 1],
                    cost.modelFlops(tokens[n - 1]),
                    cost.nsFlops(steps[n - 1]),
                    cost.totalFlops(steps[n - 1], tokens[n - 1]),
                    seconds[n - 1]);
        }
        return new Reach(
                true,
                h.steps(),
                h.tokens(),
                cost.modelFlops(h.tokens()),
                cost.nsFlops(h.steps()),
                cost.totalFlops(h.steps(), h.tokens()),
                h.seconds());
    }
}
