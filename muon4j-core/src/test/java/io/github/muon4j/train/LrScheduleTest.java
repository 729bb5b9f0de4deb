package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void warmupIsLinearThenCosineEndsAtTheFloor() {
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.COSINE, 1.0f, 10, 110);
        assertEquals(0.1, s.factor(1), 1e-12);
        assertEquals(0.5, s.factor(5), 1e-12);
        assertEquals(1.0, s.factor(10), 1e-12);
        // halfway through the decay: m + (1-m)/2
        assertEquals(0.1 + 0.9 * 0.5, s.factor(60), 1e-12);
        assertEquals(0.1, s.factor(110), 1e-12);
        for (int i = 11; i < 110; i++) {
            assertTrue(s.factor(i + 1) <= s.factor(i), "cosine must not increase after warm-up");
        }
    }

    @Test
    void wsdIsFlatThenDecaysLinearlyOverTheLastFifth() {
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.WSD, 2.0f, 0, 100);
        assertEquals(2.0f, s.getNewValue(1), 1e-6);
        assertEquals(2.0f, s.getNewValue(80), 1e-6);
        assertEquals(2.0f * (1 - 0.9 * 0.5), s.getNewValue(90), 1e-6);
        assertEquals(0.2f, s.getNewValue(100), 1e-6);
    }

    @Test
    void constantAfterWarmupAndBadArgumentsRejected() {
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.CONSTANT, 3e-4f, 4, 50);
        assertEquals(3e-4f / 4, s.getNewValue(1), 1e-9);
        assertEquals(3e-4f, s.getNewValue(49), 1e-9);
        assertThrows(
                IllegalArgumentException.class,
                () -> LrSchedule.of(LrSchedule.Kind.COSINE, -1f, 0, 10));
        assertThrows(
                IllegalArgumentException.class,
                () -> LrSchedule.of(LrSchedule.Kind.COSINE, 1f, 0, 0));
    }
}
