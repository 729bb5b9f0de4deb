package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static io.github.muon4j.optim.OptimTestSupport.maxAbs;
import static io.github.muon4j.optim.OptimTestSupport.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.Denormals;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Precision;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Muon's parameters updated side by side ({@link Lanes}) against one at a time. */
class LanesTest {

    private static final long[][] SHAPES = {{16, 24}, {24, 16}, {2, 16, 24}, {8, 8}, {40, 12}};

    /**
     * Two lanes give the one-at-a-time weights, with weights that require gradients (as in
     * training: a lane thread must not run with libtorch's per-thread autograd on), and under a
     * bf16 scope (a lane must run Newton-Schulz's products in the caller's precision: in float32
     * the weights would differ by bf16 rounding, about 1e-2 of their size). The process's thread
     * count is back to its value after each step.
     */
    @Test
    void twoLanesGiveTheOneAtATimeWeights() {
        for (Precision precision : List.of(Precision.FP32, Precision.BF16)) {
            try (NDManager m = Backend.get().newManager()) {
                Muon lanes = base().optLanes(2).build();
                Muon single = base().optLanes(1).build();
                NDArray[] wl = new NDArray[SHAPES.length];
                NDArray[] ws = new NDArray[SHAPES.length];
                for (int i = 0; i < SHAPES.length; i++) {
                    wl[i] = gaussian(m, 10 + i, 0.1, SHAPES[i]);
                    ws[i] = wl[i].duplicate();
                    wl[i].setRequiresGradient(true);
                    ws[i].setRequiresGradient(true);
                }
                int threads = JniUtils.getNumThreads();
                for (int step = 0; step < 3; step++) {
                    try (Autocast ac = Autocast.enter(precision)) {
                        lanes.step(weightsAndGrads(wl, step));
                        single.step(weightsAndGrads(ws, step));
                    }
                    assertEquals(threads, JniUtils.getNumThreads(), "thread count after a step");
                }
                for (int i = 0; i < SHAPES.length; i++) {
                    float[] a = wl[i].toFloatArray();
                    double err = maxAbsDiff(a, ws[i].toFloatArray()) / maxAbs(a);
                    assertTrue(err < 1e-6, precision + ", parameter " + i + " differs by " + err);
                    assertEquals(3, lanes.stepCount("p" + i));
                }
            }
        }
    }

    /** Every item runs once, on more than one thread, and the thread count comes back. */
    @Test
    void runsEveryItemOnceOnTwoThreads() {
        Backend.get();
        int threads = JniUtils.getNumThreads();
        Map<Integer, Integer> seen = new ConcurrentHashMap<>();
        Set<Thread> on = ConcurrentHashMap.newKeySet();
        List<Integer> items = List.of(0, 1, 2, 3, 4, 5, 6, 7);
        Lanes.run(
                items,
                2,
                i -> {
                    assertEquals(1, JniUtils.getNumThreads(), "libtorch threads inside a lane");
                    seen.merge(i, 1, Integer::sum);
                    on.add(Thread.currentThread());
                    sleep(20); // long enough that the second lane takes items too
                });
        assertEquals(items.size(), seen.size());
        seen.values().forEach(n -> assertEquals(1, n));
        assertEquals(2, on.size(), "threads that ran items");
        assertEquals(threads, JniUtils.getNumThreads());
    }

    /**
     * A lane computes in the caller's {@link Denormals} mode: 1e-39 * 2 (a float32 denormal) is 0
     * in every lane inside a flush scope and 2e-39 outside one.
     */
    @Test
    void lanesFlushDenormalsLikeTheCaller() {
        assumeTrue(Denormals.supported(), "flush-to-zero scopes need Linux on x86-64");
        float tiny = 1e-39f;
        int twice = Float.floatToRawIntBits(2 * tiny);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.full(new ai.djl.ndarray.types.Shape(4096), tiny);
            Map<Integer, Integer> bits = new ConcurrentHashMap<>();
            Set<Thread> on = ConcurrentHashMap.newKeySet();
            java.util.function.Consumer<Integer> work =
                    i -> {
                        try (NDArray y = x.mul(2f)) {
                            bits.put(i, Float.floatToRawIntBits(y.toFloatArray()[i]));
                        }
                        on.add(Thread.currentThread());
                        sleep(10);
                    };
            List<Integer> items = List.of(0, 1, 2, 3, 4, 5);
            try (Denormals d = Denormals.flushToZero()) {
                Lanes.run(items, 2, work);
            }
            assertEquals(2, on.size(), "threads that ran items");
            items.forEach(i -> assertEquals(0, bits.get(i), "item " + i + " in a flush scope"));
            Lanes.run(items, 2, work);
            items.forEach(i -> assertEquals(twice, bits.get(i), "item " + i + " outside"));
        }
    }

    /** An item's exception reaches the caller, after the other lane stopped; threads restored. */
    @Test
    void anItemsFailureIsRethrown() {
        Backend.get();
        int threads = JniUtils.getNumThreads();
        IllegalStateException boom = new IllegalStateException("item 3");
        IllegalStateException thrown =
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                Lanes.run(
                                        List.of(0, 1, 2, 3, 4, 5),
                                        2,
                                        i -> {
                                            sleep(5);
                                            if (i == 3) {
                                                throw boom;
                                            }
                                        }));
        assertSame(boom, thrown);
        assertEquals(threads, JniUtils.getNumThreads());
    }

    private static Muon.Builder base() {
        return Muon.builder().optLearningRateTracker(Tracker.fixed(0.02f)).optWeightDecays(0.1f);
    }

    private static Map<String, NDArray[]> weightsAndGrads(NDArray[] w, int step) {
        Map<String, NDArray[]> all = new LinkedHashMap<>();
        for (int i = 0; i < w.length; i++) {
            NDArray g = w[i].getGradient();
            g.set(gaussian(w[i].getManager(), 1000 * step + i, 1.0, SHAPES[i]).toFloatArray());
            all.put("p" + i, new NDArray[] {w[i], g});
        }
        return all;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
