package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HorizonTest {

    static final double[] D = {1e5, 2e5, 4e5, 8e5};

    @Test
    void interpolatesDataInLogDataBetweenTheBudgetsAroundTheTarget() {
        double[] adamw = {3.0, 2.6, 2.3, 2.1};
        // 2.45 lies halfway (in loss) from 2.6 at 2e5 to 2.3 at 4e5, so halfway in log D: 2e5 *
        // 2^0.5
        assertEquals(2e5 * Math.sqrt(2), Horizon.interpolate(D, adamw, 2.45), 1e-6);
        // the speedup of an arm reaching 2.45 at 1e5 tokens
        assertEquals(2 * Math.sqrt(2), Horizon.speedup(D, adamw, 2.45, 1e5), 1e-9);
        // a quarter of the way from 2.3 (4e5) to 2.1 (8e5): 4e5 * 2^0.25
        assertEquals(4e5 * Math.pow(2, 0.25), Horizon.interpolate(D, adamw, 2.25), 1e-6);
        // exactly on a budget
        assertEquals(4e5, Horizon.interpolate(D, adamw, 2.3), 1e-6);
        assertTrue(
                Double.isNaN(Horizon.interpolate(D, adamw, 2.0)),
                "below every loss: outside the ladder");
        assertTrue(
                Double.isNaN(Horizon.interpolate(D, adamw, 3.1)),
                "above the smallest budget's loss: outside the ladder");
        Horizon.Reach in = Horizon.reach(D, adamw, 2.45);
        assertFalse(in.extrapolated());
    }

    @Test
    void fittedLawRecoversKnownConstantsAndExtrapolatesBeyondTheLadder() {
        double e = 1.7, a = 40, alpha = 0.3;
        double[] d = new double[8], l = new double[8];
        for (int i = 0; i < d.length; i++) {
            d[i] = 1e5 * Math.pow(2, i);
            l[i] = e + a * Math.pow(d[i], -alpha);
        }
        PowerLaw f = PowerLaw.fit(d, l);
        assertEquals(e, f.e(), 1e-3);
        assertEquals(a, f.a(), a * 1e-3);
        assertEquals(alpha, f.alpha(), 1e-4);
        // four of those budgets, and a target below the last one: the law's inverse, flagged
        double[] d4 = {d[0], d[1], d[2], d[3]}, l4 = {l[0], l[1], l[2], l[3]};
        double target = e + a * Math.pow(3.2e6, -alpha);
        Horizon.Reach r = Horizon.reach(d4, l4, target);
        assertTrue(r.extrapolated());
        assertEquals(1, r.position());
        assertEquals(3.2e6, r.data(), 3.2e6 * 1e-3);
        // at or below E the reference never gets there
        assertTrue(Double.isInfinite(PowerLaw.fit(d, l).data(e - 0.01)));
    }

    @Test
    void pairedRatiosCountSeedsWhoseReferenceNeverReachesTheLoss() {
        double[][] ref = {{3.0, 2.6, 2.3, 2.1}, {3.1, 2.7, 2.4, 2.2}, {3.0, 2.6, 2.3, 2.1}};
        // seed 1 inside its ladder (2e5 * sqrt 2); seed 2 beyond its ladder (2.0 < 2.2); seed 3
        // above its smallest budget's loss
        double[] muon = {2.45, 2.0, 3.05};
        Horizon.Paired p = Horizon.paired(D, ref, muon, 1e5);
        for (double r : p.ratios()) {
            assertTrue(Double.isFinite(r), "no NaN and no infinity: " + r);
        }
        assertEquals(1, p.inside());
        assertEquals(1, p.beyond());
        assertEquals(1, p.below());
        assertArrayEquals(new int[] {0, 1, -1}, p.position());
        assertEquals(2 * Math.sqrt(2), p.ratios()[0], 1e-9);
        assertEquals(8.0, p.ratios()[1], 1e-12, "beyond: the bound D_max / D");
        assertEquals(1.0, p.ratios()[2], 1e-12, "below: the bound D_min / D");
        assertArrayEquals(new double[] {2 * Math.sqrt(2)}, p.insideRatios(), 1e-9);
    }

    @Test
    void seedMeanEstimateHasAnIntervalAroundIt() {
        double[][] ref = {
            {3.0, 2.6, 2.3, 2.1},
            {3.02, 2.62, 2.32, 2.12},
            {2.98, 2.58, 2.28, 2.08},
            {3.0, 2.6, 2.3, 2.1}
        };
        double[] muon = {2.44, 2.46, 2.45, 2.45};
        Horizon.Estimate e = Horizon.estimate(D, ref, muon, 1e5, 1);
        assertEquals(2 * Math.sqrt(2), e.value(), 1e-9);
        assertFalse(e.extrapolated());
        assertTrue(e.ci().low() < e.value() && e.value() < e.ci().high(), e.ci().toString());
        // a compute scale multiplies every number
        Horizon.Estimate f = Horizon.estimate(D, ref, muon, 1e5, 0.5);
        assertEquals(e.value() / 2, f.value(), 1e-12);
        assertEquals(e.ci().low() / 2, f.ci().low(), 1e-12);
    }
}
