package io.github.muon4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * {@link Denormals}: inside a scope libtorch's work on this thread and its pool flushes denormals
 * to zero; after it, every thread computes them again. Values are compared bit for bit, since a
 * float comparison inside the scope would itself read a denormal as zero.
 */
class DenormalsTest {

    /** 1e-39: a float32 denormal (the smallest normal float is 1.18e-38). */
    private static final float TINY = 1e-39f;

    /** 2^20 elements: libtorch splits the product over its two threads. */
    private static final int N = 1 << 20;

    /**
     * x * 2 for x = 1e-39 everywhere: 2e-39 outside a scope, 0 in every element inside one (on two
     * intra-op threads, so both the caller's half and the pool thread's half are checked); a nested
     * scope's close keeps the outer one; another thread's libtorch work meanwhile and this thread's
     * Java arithmetic afterwards keep gradual underflow.
     */
    @Test
    void flushesOnTheCallerAndItsPoolAndRestoresBoth() throws Exception {
        assumeTrue(Denormals.supported(), "flush-to-zero scopes need Linux on x86-64");
        int threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(2);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.full(new Shape(N), TINY);
            int twice = Float.floatToRawIntBits(2 * TINY);
            assertEquals(N, count(x.mul(2f), twice), "before the scope");
            try (Denormals d = Denormals.flushToZero()) {
                assertTrue(Denormals.active());
                assertEquals(N, count(x.mul(2f), 0), "inside the scope");
                try (Denormals inner = Denormals.flushToZero()) {
                    assertEquals(N, count(x.mul(2f), 0), "inside a nested scope");
                }
                assertEquals(N, count(x.mul(2f), 0), "after the nested scope closed");
                int elsewhere =
                        other.submit(
                                        () -> {
                                            JniUtils.setNumThreads(2);
                                            assertFalse(Denormals.active());
                                            return count(x.mul(2f), twice);
                                        })
                                .get();
                assertEquals(N, elsewhere, "another thread, meanwhile");
            }
            assertFalse(Denormals.active());
            assertEquals(N, count(x.mul(2f), twice), "after the scope");
            float javaTiny = Float.intBitsToFloat(Float.floatToRawIntBits(TINY));
            assertEquals(twice, Float.floatToRawIntBits(javaTiny * 2f), "Java on this thread");
        } finally {
            other.shutdownNow();
            JniUtils.setNumThreads(threads);
        }
    }

    /** Elements of {@code y} whose bits equal {@code bits}; closes y. */
    private static int count(NDArray y, int bits) {
        try (y) {
            int n = 0;
            for (float v : y.toFloatArray()) {
                if (Float.floatToRawIntBits(v) == bits) {
                    n++;
                }
            }
            return n;
        }
    }
}
