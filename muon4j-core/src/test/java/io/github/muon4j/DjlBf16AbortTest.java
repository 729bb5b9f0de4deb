package io.github.muon4j;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The reason muon4j never makes a bfloat16 array through DJL: in a child JVM, the first cast of a
 * float32 array to BFLOAT16 (no product at all) kills the process with the C++ runtime's "terminate
 * called without an active exception" (DJL 0.36's JNI has no mapping for DJL type 11 and executes a
 * bare {@code throw;}). If a DJL upgrade fixes this, the test fails, and the TorchScript detour of
 * {@code model.Bf16Matmul} can go.
 */
class DjlBf16AbortTest {

    /** The child: a float32 array cast to bf16. */
    public static void main(String[] args) {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            System.out.println("float32 ok " + m.ones(new Shape(2, 2)).sum().getFloat());
            System.out.flush();
            m.ones(new Shape(2, 2)).toType(DataType.BFLOAT16, false);
            System.out.println("cast ok");
        }
    }

    @Test
    void castToBf16AbortsTheJvm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p =
                new ProcessBuilder(
                                java,
                                "-Dai.djl.offline=true",
                                "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                                "-cp",
                                System.getProperty("java.class.path"),
                                DjlBf16AbortTest.class.getName())
                        .redirectErrorStream(true)
                        .start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("float32 ok"), "the child never reached the cast: " + out);
        assertFalse(
                out.contains("cast ok"),
                "DJL cast to bf16 now works; drop the TorchScript detour: " + out);
        assertNotEquals(0, p.exitValue());
        assertTrue(out.contains("terminate called without an active exception"), out);
    }
}
