package io.github.muon4j.bench.inference;

import io.github.muon4j.bench.inference.InferenceBenchResult.Point;
import io.github.muon4j.bench.inference.InferenceBenchResult.Variant;

/**
 * A variant's roofline followed past the measured contexts. Per variant and batch, the bytes read
 * and the FLOPs done per token are linear in the context (the cache read grows by one position's
 * values per position; the weights do not grow), so a line through the smallest and the largest
 * context measured gives them at any context; at fixed ceilings (bandwidth B, FLOP rate F) a token
 * then takes max(bytes / B, FLOPs / F) seconds. Unlike measured speeds, the ratio of two such
 * rooflines does not move with the machine's load.
 */
public final class Roofline {

    /**
     * Bytes and FLOPs per token as lines in the context s: bytes0 + bytesPerPosition x s, flops0 +
     * flopsPerPosition x s.
     */
    public record Fit(
            double bytes0, double bytesPerPosition, double flops0, double flopsPerPosition) {

        /** Seconds per token at context s against the ceilings. */
        public double seconds(double s, double bandwidth, double flopRate) {
            return Math.max(
                    (bytes0 + bytesPerPosition * s) / bandwidth,
                    (flops0 + flopsPerPosition * s) / flopRate);
        }
    }

    /**
     * Where a roofline ratio first reaches a target.
     *
     * @param context the first context (by 1% steps from 1) where it does; NaN when none up to 2^20
     * @param limit the ratio at 2^20 positions
     */
    public record Reach(double context, double limit) {}

    /** The largest context searched. */
    public static final double MAX_CONTEXT = 1 << 20;

    private Roofline() {}

    /**
     * The line through the smallest and the largest context of {@code v} at {@code batch}; null
     * with fewer than two contexts there.
     */
    public static Fit fit(Variant v, int batch) {
        Point lo = null, hi = null;
        for (Point p : v.points()) {
            if (p.batch() != batch) {
                continue;
            }
            if (lo == null || p.context() < lo.context()) {
                lo = p;
            }
            if (hi == null || p.context() > hi.context()) {
                hi = p;
            }
        }
        if (lo == null || hi.context() == lo.context()) {
            return null;
        }
        double ds = hi.context() - lo.context();
        double bs = (hi.bytesPerToken() - lo.bytesPerToken()) / ds,
                fs = (hi.flopsPerToken() - lo.flopsPerToken()) / ds;
        return new Fit(
                lo.bytesPerToken() - bs * lo.context(),
                bs,
                lo.flopsPerToken() - fs * lo.context(),
                fs);
    }

    /** Roofline tokens/s of a over m at context s. */
    public static double ratio(Fit a, Fit m, double s, double bandwidth, double flopRate) {
        return m.seconds(s, bandwidth, flopRate) / a.seconds(s, bandwidth, flopRate);
    }

    /** The first context, from 1 by 1% steps up to 2^20, where the ratio of a over m reaches r. */
    public static Reach reach(Fit a, Fit m, double r, double bandwidth, double flopRate) {
        for (double s = 1; s <= MAX_CONTEXT; s *= 1.01) {
            if (ratio(a, m, s, bandwidth, flopRate) >= r) {
                return new Reach(s, ratio(a, m, MAX_CONTEXT, bandwidth, flopRate));
            }
        }
        return new Reach(Double.NaN, ratio(a, m, MAX_CONTEXT, bandwidth, flopRate));
    }
}
