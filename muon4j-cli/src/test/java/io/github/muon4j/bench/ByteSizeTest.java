package io.github.muon4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    private static final long MB = 1L << 20;

    @Test
    void cacheSizesFromSysfsAreRead() {
        assertEquals(491520L * 1024, ByteSize.parse("491520K\n"));
        assertEquals(32 * MB, ByteSize.parse("32M"));
        assertEquals(1024, ByteSize.parse("1024"));
    }

    @Test
    void sizesOnTheCommandLineAreRead() {
        assertEquals(512 * MB, ByteSize.parse("512m"));
        assertEquals(64 * 1024, ByteSize.parse("64k"));
        assertEquals(3L << 29, ByteSize.parse("1.5g"), "1.5 x 2^30");
    }

    @Test
    void whatIsNotAPositiveSizeIsRejected() {
        for (String s : new String[] {"lots", "", "m", "0", "-2g", "NaN", "1e16"}) {
            assertThrows(NumberFormatException.class, () -> ByteSize.parse(s), s);
        }
    }
}
