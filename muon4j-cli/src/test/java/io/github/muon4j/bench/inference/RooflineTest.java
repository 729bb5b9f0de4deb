package io.github.muon4j.bench.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.muon4j.bench.inference.InferenceBenchResult.Point;
import io.github.muon4j.bench.inference.InferenceBenchResult.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Roofline fits and crossovers on two made-up variants whose bytes and FLOPs per token are lines in
 * the context, so every figure can be worked out by hand.
 */
class RooflineTest {

    /** A point with only the fields the roofline and the ratios read. */
    private static Point point(
            int context, double decode, double weightBytes, double cacheBytes, double flops) {
        return new Point(
                context, 1, 0, decode, 0, weightBytes, cacheBytes, flops, 0, 0, 1000, 10000);
    }

    // "mla": bytes 1000 + 1 x s, FLOPs 4000 + 10 x s (at 100: 1100 and 5000; at 1100: 2100, 15000)
    private static final Variant A =
            new Variant(
                    "mla-dense",
                    0,
                    0,
                    0,
                    0,
                    List.of(point(100, 10, 1000, 100, 5000), point(1100, 30, 1000, 1100, 15000)));
    // "mha": bytes 1000 + 4 x s, FLOPs 1800 + 2 x s
    private static final Variant M =
            new Variant(
                    "mha-dense",
                    0,
                    0,
                    0,
                    0,
                    List.of(point(100, 20, 1000, 400, 2000), point(1100, 15, 1000, 4400, 4000)));

    @Test
    void theFitIsTheLineThroughTheSmallestAndLargestContext() {
        Roofline.Fit a = Roofline.fit(A, 1);
        assertEquals(1000, a.bytes0(), 1e-9);
        assertEquals(1, a.bytesPerPosition(), 1e-12);
        assertEquals(4000, a.flops0(), 1e-9);
        assertEquals(10, a.flopsPerPosition(), 1e-12);
        assertNull(Roofline.fit(A, 2), "no points at batch 2");
    }

    @Test
    void ratiosAndReachFollowTheLinesAtFixedCeilings() {
        Roofline.Fit a = Roofline.fit(A, 1), m = Roofline.fit(M, 1);
        // at 1000 B/s and 10000 FLOP/s both are bandwidth-bound: a token of a takes 1 + s / 1000
        // seconds, one of m 1 + 4 s / 1000; their ratio at s = 1000 is 5 / 2
        assertEquals(1 + 0.5, a.seconds(500, 1000, 10000), 1e-12);
        assertEquals(2.5, Roofline.ratio(a, m, 1000, 1000, 10000), 1e-12);
        // 1.5 x at (1 + 0.004 s) = 1.5 (1 + 0.001 s): s = 200; the search steps by 1%
        Roofline.Reach r = Roofline.reach(a, m, 1.5, 1000, 10000);
        assertTrue(r.context() >= 200 && r.context() < 202.1, "" + r);
        assertEquals(1, Roofline.reach(a, m, 1, 1000, 10000).context(), 0, "above 1 everywhere");
        double limit = (1 + 4 * 1048.576) / (1 + 1048.576);
        Roofline.Reach never = Roofline.reach(a, m, 5, 1000, 10000);
        assertTrue(Double.isNaN(never.context()));
        assertEquals(limit, never.limit(), 1e-9);
        // at a FLOP rate of 1000, a is compute-bound: 4 + s / 100 seconds against 1 + 4 s / 1000
        assertEquals((1 + 4.0) / (4 + 10.0), Roofline.ratio(a, m, 1000, 1000, 1000), 1e-12);
    }

    @Test
    void theMeasuredCrossoverIsInterpolatedInLogContext() {
        Crossover.Ratios c = Crossover.of(A, M, 1);
        assertEquals(2, c.ratios().size());
        assertEquals(0.5, c.ratios().get(0).ratio(), 1e-12);
        assertEquals(2.0, c.ratios().get(1).ratio(), 1e-12);
        // the ratio goes 0.5 -> 2: a third of the way from log 100 to log 1100
        assertEquals(100 * Math.cbrt(11), c.crossing(), 1e-9);
        assertTrue(Double.isNaN(Crossover.of(A, A, 1).crossing()), "always 1: no crossing");
    }
}
