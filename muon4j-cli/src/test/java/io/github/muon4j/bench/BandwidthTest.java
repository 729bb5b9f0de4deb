package io.github.muon4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bandwidth sampler's buffer size and summary. */
class BandwidthTest {

    private static final long MB = 1L << 20;

    @Test
    void theBufferIsFourLastLevelCachesBetween256MbAnd1GbAndAQuarterOfTheHeap() {
        long heap = 8L << 30;
        assertEquals(256 * MB, Bandwidth.bufferBytes(32 * MB, heap), "4 x 32 MB is below 256 MB");
        assertEquals(256 * MB, Bandwidth.bufferBytes(0, heap), "unknown cache: the floor");
        assertEquals(400 * MB, Bandwidth.bufferBytes(100 * MB, heap));
        assertEquals(1024 * MB, Bandwidth.bufferBytes(480 * MB, heap), "capped at 1 GB");
        assertEquals(512 * MB, Bandwidth.bufferBytes(480 * MB, 2L << 30), "a quarter of 2 GB");
    }

    @Test
    void aSampleKeepsTheBestAndMedianOfItsPasses() {
        Bandwidth b = new Bandwidth(2, 3, 8 * MB);
        Bandwidth.Sample s = b.sample();
        b.sample();
        b.release();
        assertEquals(8 * MB, b.bufferBytes());
        assertTrue(
                s.worst() <= s.median() && s.median() <= s.best() && s.worst() > 0, s.toString());
        assertEquals(2, b.samples().size());
        assertTrue(b.min() <= b.median() && b.median() <= b.best());
        assertTrue(b.describe().contains("best of 3 passes"), b.describe());
    }
}
