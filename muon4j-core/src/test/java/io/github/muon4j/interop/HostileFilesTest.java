package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.muon4j.model.Small;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and hostile safetensors files are refused in one line naming the file, before anything
 * is allocated for them.
 */
class HostileFilesTest {

    static {
        Small.init();
    }

    @TempDir Path dir;

    Path seed(String name) throws Exception {
        Path f = dir.resolve(name + ".safetensors");
        try (InputStream in =
                getClass()
                        .getResourceAsStream("UntrustedFilesFuzzTestInputs/safetensors/" + name)) {
            Files.write(f, in.readAllBytes());
        }
        return f;
    }

    void refused(String seed, String why) throws Exception {
        Path f = seed(seed);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Safetensors.Reader.open(f).close(),
                        seed);
        assertTrue(
                e.getMessage().contains(f.toString()) && e.getMessage().contains(why),
                seed + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void overlapsGapsHugeShapesAndTerabyteHeadersAreRefused() throws Exception {
        refused("overlap", "overlap");
        refused("gap", "gap of 4 bytes");
        refused("huge-shape", "do not match its shape");
        refused(
                "header-claims-terabytes",
                "header length 4398046511104 does not fit a file of 10 bytes");
        try (Safetensors.Reader r = Safetensors.Reader.open(seed("valid-f32-bf16"))) {
            assertEquals(-2.0f, r.floats("b")[1]);
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(r.floats("a")[5]));
        }
    }
}
