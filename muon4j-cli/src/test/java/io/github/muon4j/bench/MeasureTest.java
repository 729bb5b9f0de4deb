package io.github.muon4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Medians and quantiles against values worked out by hand, and the loops that take samples. */
class MeasureTest {

    @Test
    void quantilesInterpolateBetweenTheNearestOrderStatistics() {
        // sorted: 1 2 4 7 11; position q (n - 1) = 4q
        double[] v = {7, 1, 11, 2, 4};
        assertEquals(1, Measure.quantile(v, 0), 0);
        assertEquals(11, Measure.quantile(v, 1), 0);
        assertEquals(4, Measure.median(v), 0, "the middle of five");
        // q = 0.25: position 1, exactly the second value
        assertEquals(2, Measure.quantile(v, 0.25), 0);
        // q = 0.9: position 3.6, 7 + 0.6 x (11 - 7) = 9.4
        assertEquals(9.4, Measure.quantile(v, 0.9), 1e-12);
        // q = 0.1: position 0.4, 1 + 0.4 x (2 - 1) = 1.4
        assertEquals(1.4, Measure.quantile(v, 0.1), 1e-12);
        assertArrayEquals(new double[] {7, 1, 11, 2, 4}, v, "the input is left as it was");
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() {
        assertEquals(2.5, Measure.median(new double[] {4, 1, 3, 2}), 0);
        assertEquals(2.5, Measure.median(List.of(4.0, 1.0, 3.0, 2.0)), 0);
        assertEquals(5, Measure.median(new double[] {5}), 0);
        assertTrue(Double.isNaN(Measure.median(new double[0])));
        assertEquals(1, Measure.min(List.of(3.0, 1.0, 2.0)), 0);
        assertEquals(3, Measure.max(new double[] {3, 1, 2}), 0);
        assertEquals(2, Measure.mean(new double[] {3, 1, 2}), 0);
    }

    @Test
    void bestOfKeepsTheLargestReadingAndTimesSkipTheWarmup() {
        double[] readings = {3, 9, 4};
        AtomicInteger i = new AtomicInteger();
        assertEquals(9, Measure.bestOf(3, () -> readings[i.getAndIncrement()]), 0);
        assertEquals(3, i.get());

        AtomicInteger calls = new AtomicInteger();
        double[] t = Measure.times(2, 5, calls::incrementAndGet);
        assertEquals(5, t.length);
        assertEquals(7, calls.get(), "2 untimed calls, then 5 timed ones");
        for (double s : t) {
            assertTrue(s >= 0);
        }
    }

    @Test
    void onThreadsRunsTheBodyOncePerThreadIndex() {
        int[] seen = new int[4];
        Measure.onThreads(4, id -> seen[id]++);
        assertArrayEquals(new int[] {1, 1, 1, 1}, seen);
    }
}
