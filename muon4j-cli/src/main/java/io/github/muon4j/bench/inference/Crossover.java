package io.github.muon4j.bench.inference;

import io.github.muon4j.bench.inference.InferenceBenchResult.Point;
import io.github.muon4j.bench.inference.InferenceBenchResult.Variant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The measured speed ratio of two variants along the context, at one batch, and where it crosses 1
 * (interpolated linearly in log context between the two contexts around the sign change).
 */
public final class Crossover {

    /** The pairs compared: MLA over MHA, dense and MoE, and MLA MoE over MHA dense. */
    public static final String[][] PAIRS = {
        {"mla-dense", "mha-dense"}, {"mla-moe", "mha-moe"}, {"mla-moe", "mha-dense"}
    };

    /** Decode tokens/s of a over m at one context. */
    public record Ratio(int context, double ratio) {}

    /**
     * a over m at {@code batch}, by context; {@code crossing}: the first context where the ratio
     * reaches 1, NaN when it does not change sides in the measured range.
     */
    public record Ratios(String a, String m, int batch, List<Ratio> ratios, double crossing) {}

    private Crossover() {}

    /** The batches {@code v} was measured at, ascending. */
    public static TreeSet<Integer> batches(Variant v) {
        TreeSet<Integer> s = new TreeSet<>();
        v.points().forEach(p -> s.add(p.batch()));
        return s;
    }

    /** a over m at every context of a at {@code batch} that m also has. */
    public static Ratios of(Variant a, Variant m, int batch) {
        List<Ratio> out = new ArrayList<>();
        double prevCtx = -1, prevRatio = Double.NaN, cross = Double.NaN;
        for (Point p : a.points()) {
            Point q = m.at(p.context(), batch);
            if (p.batch() != batch || q == null) {
                continue;
            }
            double ratio = p.decodeTokensPerSecond() / q.decodeTokensPerSecond();
            out.add(new Ratio(p.context(), ratio));
            if (Double.isNaN(cross) && prevCtx > 0 && (prevRatio - 1) * (ratio - 1) < 0) {
                double f = (1 - prevRatio) / (ratio - prevRatio);
                cross =
                        Math.exp(
                                Math.log(prevCtx)
                                        + f * (Math.log(p.context()) - Math.log(prevCtx)));
            }
            prevCtx = p.context();
            prevRatio = ratio;
        }
        return new Ratios(a.name(), m.name(), batch, out, cross);
    }
}
