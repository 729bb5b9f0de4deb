package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static io.github.muon4j.optim.OptimTestSupport.maxAbs;
import static io.github.muon4j.optim.OptimTestSupport.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DecoupledAdamWTest {

    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.95f;
    private static final float EPS = 1e-8f;
    private static final float WD = 0.1f;

    private static float lr(int t) {
        return 0.01f / (1 + 0.1f * t); // step-dependent, to check the count given to the tracker
    }

    /** The test's betas, eps, weight decay and step-dependent learning rate. */
    private static DecoupledAdamW withTestHypers(boolean fused) {
        return DecoupledAdamW.builder()
                .optFused(fused)
                .optLearningRateTracker((id, t) -> lr(t))
                .optBeta1(BETA1)
                .optBeta2(BETA2)
                .optEpsilon(EPS)
                .optWeightDecays(WD)
                .build();
    }

    @ParameterizedTest(name = "fused {0}")
    @ValueSource(booleans = {true, false})
    void matchesAFloat64ReferenceOverSeveralSteps(boolean fused) {
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 1, 0.5, 6, 10);
            DecoupledAdamW opt = withTestHypers(fused);
            double[] rw = toDouble(w.toFloatArray());
            double[] rm = new double[rw.length];
            double[] rv = new double[rw.length];
            for (int t = 1; t <= 6; t++) {
                // gradients of very different scales per element, a few exactly zero
                NDArray g = gaussian(m, 10 + t, 1.0, 6, 10);
                g.set(new NDIndex("0"), 0f);
                g.set(new NDIndex("1"), g.get(1).mul(1e-4f));
                float[] gf = g.toFloatArray();
                opt.update("w", w, g);
                double lr = lr(t);
                double bc1 = 1 - Math.pow(BETA1, t);
                double bc2 = 1 - Math.pow(BETA2, t);
                for (int i = 0; i < rw.length; i++) {
                    rm[i] = BETA1 * rm[i] + (1 - BETA1) * gf[i];
                    rv[i] = BETA2 * rv[i] + (1 - BETA2) * (double) gf[i] * gf[i];
                    rw[i] *= 1 - lr * WD;
                    rw[i] -= lr * (rm[i] / bc1) / (Math.sqrt(rv[i] / bc2) + EPS);
                }
                float[] got = w.toFloatArray();
                float[] want = toFloat(rw);
                double err = maxAbsDiff(got, want) / maxAbs(want);
                // float32 state against float64: a few ulps per step
                assertTrue(err < 2e-6, "step " + t + " relative error " + err);
                assertEquals(t, opt.stepCount("w"));
            }
        }
    }

    @ParameterizedTest(name = "fused {0}")
    @ValueSource(booleans = {true, false})
    void updatesInPlaceWithoutLeaks(boolean fused) {
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 1, 0.5, 4, 4);
            NDArray g = gaussian(m, 2, 1.0, 4, 4);
            DecoupledAdamW opt = DecoupledAdamW.builder().optFused(fused).build();
            float[] before = w.toFloatArray();
            opt.update("w", w, g);
            opt.update("w", w, g);
            assertEquals(4, m.getManagedArrays().size(), "weight, gradient, two moments");
            assertTrue(maxAbsDiff(before, w.toFloatArray()) > 1e-4);
        }
    }

    @Test
    void theFusedKernelUpdatesWeightAndMomentsAsTheOpByOpUpdate() {
        // libtorch's kernel called directly (so a silent fall-back could not pass), three updates
        // against the op-by-op optimizer on the same gradients
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 1, 0.5, 5, 7);
            NDArray wRef = w.duplicate();
            NDArray mom = m.zeros(w.getShape());
            NDArray var = m.zeros(w.getShape());
            DecoupledAdamW ref = withTestHypers(false);
            for (int t = 1; t <= 3; t++) {
                NDArray g = gaussian(m, 20 + t, 1.0, 5, 7);
                ref.update("w", wRef, g);
                try (NDManager scope = m.newSubManager()) {
                    FusedAdamW.update(w, g, mom, var, t, lr(t), BETA1, BETA2, WD, EPS, scope);
                }
                float[] want = wRef.toFloatArray();
                double err = maxAbsDiff(w.toFloatArray(), want) / maxAbs(want);
                assertTrue(err < 1e-6, "update " + t + " relative error " + err);
            }
            float[] first = ref.states().slot("w", wRef).arrays[0].toFloatArray();
            assertTrue(maxAbsDiff(mom.toFloatArray(), first) <= 1e-6 * maxAbs(first));
        }
    }

    @Test
    void nonFiniteGradientChangesNothing() throws Exception {
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 1, 0.5, 5);
            DecoupledAdamW opt = DecoupledAdamW.builder().build();
            opt.update("gain", w, gaussian(m, 2, 1.0, 5));
            float[] before = w.toFloatArray();
            byte[] state = OptimTestSupport.bytes(opt::saveState);
            NDArray bad = m.create(new float[] {1, Float.NEGATIVE_INFINITY, 0, 2, 3});
            NonFiniteGradientException e =
                    assertThrows(
                            NonFiniteGradientException.class, () -> opt.update("gain", w, bad));
            assertEquals("gain", e.parameter());
            assertArrayEquals(before, w.toFloatArray());
            assertArrayEquals(state, OptimTestSupport.bytes(opt::saveState));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> DecoupledAdamW.builder().optClipGrad(1f).build());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> opt.update("gain", w, m.ones(new Shape(6))));
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
