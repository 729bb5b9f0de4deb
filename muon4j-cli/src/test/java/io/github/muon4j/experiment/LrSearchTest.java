package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The self-extending grid: stops at an interior optimum, or at the cap. */
class LrSearchTest {

    /** A loss bowl in log2(lr) with its minimum at {@code best}: 2 + 0.05 (log2(lr / best))^2. */
    static double bowl(double lr, double best) {
        double u = Math.log(lr / best) / Math.log(2);
        return 2 + 0.05 * u * u;
    }

    @Test
    void extendsUpwardsUntilTheOptimumIsInterior() {
        List<Double> asked = new ArrayList<>();
        LrSearch.Result r =
                LrSearch.search(
                        List.of(0.01, 0.02, 0.04),
                        2,
                        8,
                        0.01,
                        lr -> {
                            asked.add(lr);
                            return bowl(lr, 0.16);
                        });
        // 0.04 is the best at first (edge) -> 0.08 -> 0.16 (edge) -> 0.32: 0.16 is now interior,
        // both neighbours 0.05 worse
        assertEquals(
                List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32),
                asked.stream().map(x -> Math.round(x * 1e6) / 1e6).toList());
        assertEquals(0.16, r.best(), 1e-12);
        assertTrue(r.bracketed());
        assertFalse(r.capped());
        assertEquals(6, r.trials().size());
    }

    @Test
    void extendsDownwardsAndCountsADivergedRunAsWorse() {
        LrSearch.Result r =
                LrSearch.search(
                        List.of(1e-3, 2e-3, 4e-3),
                        2,
                        8,
                        0.01,
                        lr -> lr > 3e-3 ? Double.NaN : bowl(lr, 5e-4));
        assertEquals(5e-4, r.best(), 1e-12);
        assertTrue(r.bracketed());
        assertEquals(List.of(2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3), r.lrs());
        assertEquals(Double.POSITIVE_INFINITY, r.trials().get(4).loss());
    }

    @Test
    void stopsAtTheCapWhenTheLossKeepsFalling() {
        LrSearch.Result r = LrSearch.search(List.of(0.01, 0.02, 0.04), 2, 5, 0.01, lr -> 3 - lr);
        assertEquals(5, r.trials().size());
        assertEquals(0.16, r.best(), 1e-12);
        assertFalse(r.bracketed());
        assertTrue(r.capped());
    }

    @Test
    void aNeighbourWithinDeltaIsNotMeasurablyWorse() {
        // flat between 0.02 and 0.04 (0.004 apart, below delta): the search goes on beyond the flat
        // side
        LrSearch.Result r =
                LrSearch.search(
                        List.of(0.01, 0.02, 0.04),
                        2,
                        8,
                        0.01,
                        lr -> lr == 0.02 ? 2.0 : lr == 0.04 ? 2.004 : lr < 0.02 ? 2.1 : 2.3);
        assertEquals(0.02, r.best(), 1e-12);
        assertEquals(List.of(0.01, 0.02, 0.04, 0.08), r.lrs());
        assertTrue(r.bracketed());
    }
}
