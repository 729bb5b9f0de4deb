package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.*;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors codec: layout, conversions, and bad files. */
class SafetensorsTest {

    @Test
    void halfPrecisionConversionsAreExactAndRoundToNearestEven() {
        for (int bits = 0; bits < 0x10000; bits++) {
            short h = (short) bits;
            float f = Safetensors.fromF16(h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Safetensors.fromF16(Safetensors.toF16(f))));
                continue;
            }
            assertEquals(
                    h,
                    Safetensors.toF16(f),
                    "half " + Integer.toHexString(bits)); // every half survives
            float bf = Float.intBitsToFloat(bits << 16);
            if (!Float.isNaN(bf)) {
                assertEquals(h, Safetensors.toBf16(bf), "bf16 " + Integer.toHexString(bits));
            }
        }
        // ties go to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10
        assertEquals(Safetensors.toF16(1f), Safetensors.toF16(1f + 0x1p-11f));
        assertEquals(Safetensors.toF16(1f + 0x1p-9f), Safetensors.toF16(1f + 0x1p-10f + 0x1p-11f));
        assertEquals((short) 0x7c00, Safetensors.toF16(70000f)); // overflow -> infinity
        assertEquals(
                Float.intBitsToFloat(0x3f80_0000),
                Float.intBitsToFloat(Safetensors.toBf16(1.0039062f) << 16)); // tie -> even
        assertEquals(
                0x1p-24f, Safetensors.fromF16(Safetensors.toF16(0x1p-24f))); // smallest subnormal
    }

    @Test
    void writesTheLayoutTheFormatSpecifies(@TempDir Path dir) throws Exception {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("a", new Safetensors.Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        t.put("b", new Safetensors.Tensor(new long[] {1}, new float[] {-0.5f}));
        Path f = dir.resolve("x.safetensors");
        try (OutputStream out = Files.newOutputStream(f)) {
            Safetensors.write(
                    out,
                    t,
                    n -> n.equals("a") ? Safetensors.DType.BF16 : Safetensors.DType.F32,
                    Map.of("format", "pt"));
        }
        byte[] b = Files.readAllBytes(f);
        long n = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        assertEquals(8 + n + 6 * 2 + 4, b.length);
        String header = new String(b, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.contains("\"__metadata__\":{\"format\":\"pt\"}"), header);
        assertTrue(
                header.contains(
                        "\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]}"),
                header);
        assertTrue(
                header.contains("\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}"),
                header);
        try (Safetensors.Reader r = Safetensors.Reader.open(f)) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.floats("a"));
            assertArrayEquals(new float[] {-0.5f}, r.floats("b"));
        }
        Files.write(dir.resolve("bad"), new byte[] {1, 2, 3});
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Safetensors.Reader.open(dir.resolve("bad")));
        assertTrue(e.getMessage().contains("not a valid safetensors file"), e.getMessage());
    }
}
