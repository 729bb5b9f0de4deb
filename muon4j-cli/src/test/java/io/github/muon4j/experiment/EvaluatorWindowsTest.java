package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import io.github.muon4j.train.Evaluator;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Validation windows: each held-out token predicted at most once per evaluation, never wrapping.
 */
class EvaluatorWindowsTest {

    @Test
    void windowsNeverRepeatATokenAndStopAtTheEndOfTheData() {
        for (long size : new long[] {65, 100, 1000, 25_000}) {
            for (int t : new int[] {8, 64, 128}) {
                for (int max : new int[] {1, 7, 64, 10_000}) {
                    long[] starts = Evaluator.windowStarts(size, t, max);
                    Set<Long> predicted = new HashSet<>();
                    for (long s : starts) {
                        assertTrue(s + t < size, "window inside the data");
                        for (long i = s + 1; i <= s + t; i++) {
                            assertTrue(
                                    predicted.add(i),
                                    "token "
                                            + i
                                            + " predicted twice (size "
                                            + size
                                            + ", T "
                                            + t
                                            + ")");
                        }
                    }
                    assertEquals(Math.min(max, size < t + 1 ? 0 : (size - 1) / t), starts.length);
                }
            }
        }
    }

    @Test
    void theSameWindowsForEveryBatchSize() {
        // 128 windows requested as 32 batches of 4 or 4 batches of 32: the same starts
        assertArrayEquals(
                Evaluator.windowStarts(25_000, 128, Evaluator.windowCount(32, 4)),
                Evaluator.windowStarts(25_000, 128, Evaluator.windowCount(4, 32)));
    }
}
