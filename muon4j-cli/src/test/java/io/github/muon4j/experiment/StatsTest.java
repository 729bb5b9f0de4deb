package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Intervals against hand-computed cases. */
class StatsTest {

    @Test
    void tIntervalOfOneTwoThree() {
        // mean 2, s = 1, n = 3: 2 +/- t(0.975, 2) / sqrt(3) = 2 +/- 4.303 / 1.7320508
        Stats.Interval i = Stats.tInterval(new double[] {1, 2, 3});
        assertEquals(2 - 4.303 / Math.sqrt(3), i.low(), 1e-12);
        assertEquals(2 + 4.303 / Math.sqrt(3), i.high(), 1e-12);
        Stats.Interval one = Stats.tInterval(new double[] {5});
        assertTrue(
                Double.isInfinite(one.low()) && Double.isInfinite(one.high()),
                "one value: no interval, not NaN");
    }

    @Test
    void exactBootstrapOfARatioOfMeansWithTwoSeedsEach() {
        // a* means over the 4 resamples of {1, 3}: 1, 2, 2, 3; b* over {2, 4}: 2, 3, 3, 4. The 16
        // ratios run from 1/4 to 3/2;
        // nearest rank 2.5% of 16 -> 1st (the minimum), 97.5% -> 16th (the maximum).
        Stats.Interval i =
                Stats.bootstrap(
                        new double[][] {{1}, {3}},
                        new double[][] {{2}, {4}},
                        (a, b) -> mean(a) / mean(b),
                        1);
        assertEquals(0.25, i.low(), 1e-12);
        assertEquals(1.5, i.high(), 1e-12);
    }

    @Test
    void exactBootstrapPercentilesWithFiveSeeds() {
        // resamples of {0, 0, 0, 0, 5}: the mean is k, the number of times 5 is drawn, k ~
        // Binomial(5, 1/5) over 3125 equally likely
        // resamples: counts 1024, 1280, 640, 160, 20, 1 for k = 0..5 (cumulative 1024, 2304, 2944,
        // 3104, 3124, 3125).
        // 2.5%: rank ceil(78.125) = 79 -> k = 0; 97.5%: rank ceil(3046.875) = 3047 -> k = 3.
        double[][] a = {{0}, {0}, {0}, {0}, {5}};
        Stats.Interval i = Stats.bootstrap(a, new double[][] {{0}}, (x, y) -> mean(x), 1);
        assertEquals(0, i.low(), 0);
        assertEquals(3, i.high(), 0);
    }

    @Test
    void unreachedResamplesMakeTheIntervalUnboundedNotNaN() {
        // the statistic is NaN whenever the resample holds only the 'never' run (value 0): 1 of 4
        // resamples of each arm
        double[][] a = {{0}, {2}};
        Stats.Interval i =
                Stats.bootstrap(
                        a,
                        new double[][] {{1}, {1}},
                        (x, y) -> mean(x) == 0 ? Double.NaN : mean(x),
                        1);
        assertEquals(Double.POSITIVE_INFINITY, i.high());
        assertEquals(1, i.low(), 0, "16 values: eight 1.0, four 2.0, four NaN counted as +inf");
    }

    static double mean(double[][] v) {
        double s = 0;
        for (double[] r : v) {
            s += r[0];
        }
        return s / v.length;
    }
}
