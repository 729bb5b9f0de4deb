package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.bytes;
import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static io.github.muon4j.optim.OptimTestSupport.maxAbs;
import static io.github.muon4j.optim.OptimTestSupport.maxAbsDiff;
import static io.github.muon4j.optim.OptimTestSupport.singularValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MuonTest {

    private static Muon.Builder base() {
        return Muon.builder().optLearningRateTracker(Tracker.fixed(0.02f)).optWeightDecays(0.1f);
    }

    /** Stacking (forced on here: on a CPU it is off by default) gives the one-by-one result. */
    @Test
    void batchedStepEqualsOneByOne() {
        // two wide, one tall (stacked with the wide ones after transposition), one expert stack
        long[][] shapes = {{16, 24}, {16, 24}, {24, 16}, {2, 16, 24}, {8, 8}};
        try (NDManager m = Backend.get().newManager()) {
            Muon batched = base().optStackSameShape(true).build();
            Muon single = base().build();
            NDArray[] wb = new NDArray[shapes.length];
            NDArray[] ws = new NDArray[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                wb[i] = gaussian(m, 100 + i, 0.1, shapes[i]);
                ws[i] = wb[i].duplicate();
            }
            for (int step = 0; step < 3; step++) {
                Map<String, NDArray[]> all = new LinkedHashMap<>();
                for (int i = 0; i < shapes.length; i++) {
                    NDArray g = gaussian(m, 1000 * step + i, 1.0, shapes[i]);
                    all.put("p" + i, new NDArray[] {wb[i], g});
                    single.update("p" + i, ws[i], g);
                }
                batched.step(all);
            }
            for (int i = 0; i < shapes.length; i++) {
                float[] a = wb[i].toFloatArray();
                double err = maxAbsDiff(a, ws[i].toFloatArray()) / maxAbs(a);
                assertTrue(err < 1e-6, "parameter " + i + " differs by " + err);
                assertEquals(3, batched.stepCount("p" + i));
            }
        }
    }

    @Test
    void expertStackIsUpdatedMatrixByMatrix() {
        try (NDManager m = Backend.get().newManager()) {
            NDArray stack = gaussian(m, 1, 0.1, 3, 12, 20);
            NDArray[] parts = new NDArray[3];
            for (int e = 0; e < 3; e++) {
                parts[e] = stack.get(e).duplicate();
            }
            Muon stacked = base().optAdjustLr(AdjustLr.MATCH_RMS_ADAMW).build();
            Muon apart = base().optAdjustLr(AdjustLr.MATCH_RMS_ADAMW).build();
            for (int step = 0; step < 2; step++) {
                NDArray g = gaussian(m, 50 + step, 1.0, 3, 12, 20);
                stacked.update("experts", stack, g);
                for (int e = 0; e < 3; e++) {
                    apart.update("expert" + e, parts[e], g.get(e));
                }
            }
            for (int e = 0; e < 3; e++) {
                double err = maxAbsDiff(stack.get(e).toFloatArray(), parts[e].toFloatArray());
                assertTrue(err < 1e-6, "expert " + e + " differs by " + err);
            }
        }
    }

    @Test
    void perHeadOrthogonalizesEachHead() {
        int heads = 4;
        try (NDManager m = Backend.get().newManager()) {
            NDArray q = gaussian(m, 2, 0.1, heads * 6, 16);
            NDArray[] perHead = new NDArray[heads];
            for (int h = 0; h < heads; h++) {
                perHead[h] = q.get(new NDIndex(h * 6 + ":" + (h + 1) * 6)).duplicate();
            }
            Muon split = base().optPerHead("attn\\.q", heads).build();
            Muon plain = base().build();
            NDArray wholePlain = q.duplicate();
            for (int step = 0; step < 2; step++) {
                NDArray g = gaussian(m, 70 + step, 1.0, heads * 6, 16);
                split.update("layer0.attn.q", q, g);
                plain.update("layer0.attn.q", wholePlain, g);
                for (int h = 0; h < heads; h++) {
                    NDArray gh = g.get(new NDIndex(h * 6 + ":" + (h + 1) * 6));
                    perHeadRef(h).update("head" + h, perHead[h], gh);
                }
            }
            for (int h = 0; h < heads; h++) {
                float[] got = q.get(new NDIndex(h * 6 + ":" + (h + 1) * 6)).toFloatArray();
                assertTrue(maxAbsDiff(got, perHead[h].toFloatArray()) < 1e-6, "head " + h);
            }
            // and it is not the same as orthogonalizing the whole matrix
            assertTrue(maxAbsDiff(q.toFloatArray(), wholePlain.toFloatArray()) > 1e-4);
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            base().optPerHead("k", 5)
                                    .build()
                                    .update(
                                            "k",
                                            m.zeros(new Shape(12, 4)),
                                            m.ones(new Shape(12, 4))));
        }
    }

    private final Map<Integer, Muon> headRefs = new LinkedHashMap<>();

    private Muon perHeadRef(int h) {
        return headRefs.computeIfAbsent(h, k -> base().build());
    }

    @Test
    void nonFiniteGradientChangesNothing() throws Exception {
        try (NDManager m = Backend.get().newManager()) {
            Muon muon = base().build();
            NDArray w = gaussian(m, 3, 0.1, 8, 12);
            NDArray other = gaussian(m, 4, 0.1, 8, 12);
            muon.update("w", w, gaussian(m, 5, 1.0, 8, 12));
            muon.update("other", other, gaussian(m, 6, 1.0, 8, 12));
            float[] before = w.toFloatArray();
            float[] otherBefore = other.toFloatArray();
            byte[] state = bytes(muon::saveState);
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                NDArray g = gaussian(m, 7, 1.0, 8, 12);
                g.set(new NDIndex("3, 4"), bad);
                Map<String, NDArray[]> both = new LinkedHashMap<>();
                both.put("other", new NDArray[] {other, gaussian(m, 8, 1.0, 8, 12)});
                both.put("w", new NDArray[] {w, g});
                NonFiniteGradientException e =
                        assertThrows(NonFiniteGradientException.class, () -> muon.step(both));
                assertEquals("w", e.parameter());
                assertTrue(e.getMessage().contains("'w'"), e.getMessage());
                assertArrayEquals(before, w.toFloatArray());
                assertArrayEquals(otherBefore, other.toFloatArray());
                assertArrayEquals(state, bytes(muon::saveState));
                assertEquals(1, muon.stepCount("w"));
            }
            // a huge but finite gradient whose sum overflows float32 is accepted
            NDArray huge = m.full(new Shape(8, 12), 3e37f);
            muon.update("w", w, huge);
            assertEquals(2, muon.stepCount("w"));
        }
    }

    @Test
    void savedStateResumesBitIdentically() throws Exception {
        try (NDManager m = Backend.get().newManager()) {
            long[][] shapes = {{12, 8}, {8, 20}, {2, 6, 10}};
            NDArray[] straight = new NDArray[shapes.length];
            NDArray[] resumed = new NDArray[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                straight[i] = gaussian(m, 10 + i, 0.1, shapes[i]);
                resumed[i] = straight[i].duplicate();
            }
            Muon a = warmedUp();
            Muon b = warmedUp();
            for (int step = 0; step < 5; step++) {
                if (step == 3) {
                    byte[] saved = bytes(b::saveState);
                    b = warmedUp();
                    b.loadState(new java.io.ByteArrayInputStream(saved));
                    assertEquals(3, b.stepCount("p0"));
                    // saving again before any update writes the same bytes
                    assertArrayEquals(saved, bytes(b::saveState));
                }
                Map<String, NDArray[]> sa = new LinkedHashMap<>();
                Map<String, NDArray[]> sb = new LinkedHashMap<>();
                for (int i = 0; i < shapes.length; i++) {
                    NDArray g = gaussian(m, 100 * step + i, 1.0, shapes[i]);
                    sa.put("p" + i, new NDArray[] {straight[i], g});
                    sb.put("p" + i, new NDArray[] {resumed[i], g});
                }
                a.step(sa);
                b.step(sb);
            }
            for (int i = 0; i < shapes.length; i++) {
                assertArrayEquals(straight[i].toFloatArray(), resumed[i].toFloatArray());
            }
            // a fresh optimizer without the state would differ
            NDArray w = gaussian(m, 10, 0.1, 12, 8);
            Muon fresh = warmedUp();
            fresh.update("p0", w, gaussian(m, 400, 1.0, 12, 8));
            assertFalse(java.util.Arrays.equals(w.toFloatArray(), straight[0].toFloatArray()));
        }
    }

    /** Step-dependent learning rate and momentum, so restored step counts matter. */
    private static Muon warmedUp() {
        return Muon.builder()
                .optLearningRateTracker((id, t) -> 0.05f / t)
                .optMomentumWarmup(0.85f, 4)
                .optWeightDecays(0.1f)
                .build();
    }

    @Test
    void momentumWarmupRamps() {
        Muon muon = Muon.builder().optMomentumWarmup(0.85f, 300).build();
        assertEquals(0.85f, muon.momentumAt(1), 1e-7);
        assertEquals(0.90f, muon.momentumAt(151), 1e-6);
        assertEquals(0.95f, muon.momentumAt(301), 1e-7);
        assertEquals(0.95f, muon.momentumAt(5000), 1e-7);
        assertEquals(0.95f, Muon.builder().build().momentumAt(1), 1e-7);
    }

    @Test
    void stateLivesInTheWeightsManagerAndTemporariesAreClosed() {
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 3, 0.1, 3, 8, 12);
            NDArray g = gaussian(m, 4, 1.0, 3, 8, 12);
            Muon muon = base().optNesterov(false).build();
            muon.update("w", w, g);
            List<NDArray> arrays = m.getManagedArrays();
            assertEquals(3, arrays.size(), "weight, gradient and momentum only: " + arrays);
            muon.update("w", w, g);
            assertEquals(3, m.getManagedArrays().size());
            muon.clearState();
            assertEquals(2, m.getManagedArrays().size());
        }
    }

    @Test
    void diagnosticsWhenAsked() {
        try (NDManager m = Backend.get().newManager()) {
            NDArray w = gaussian(m, 3, 0.1, 16, 24);
            NDArray g = gaussian(m, 4, 1.0, 16, 24);
            NDArray v = gaussian(m, 5, 0.1, 24, 16);
            Muon muon =
                    Muon.builder()
                            .optLearningRateTracker(Tracker.fixed(0.02f))
                            .optAdjustLr(AdjustLr.MATCH_RMS_ADAMW)
                            .build();
            muon.update("w", w, g); // not asked: nothing recorded
            assertTrue(muon.lastDiagnostics().isEmpty());

            float[] before = w.toFloatArray();
            NDArray g2 = gaussian(m, 6, 1.0, 16, 24);
            muon.diagnoseNextStep("w");
            Map<String, NDArray[]> both = new LinkedHashMap<>();
            both.put("w", new NDArray[] {w, g2});
            both.put("v", new NDArray[] {v, gaussian(m, 7, 1.0, 24, 16)});
            muon.step(both);
            Map<String, MuonDiagnostics> d = muon.lastDiagnostics();
            assertEquals(2, d.size());
            // update RMS equals the RMS of the weight change (no weight decay here)
            float[] after = w.toFloatArray();
            double ss = 0;
            for (int i = 0; i < after.length; i++) {
                ss += Math.pow(after[i] - before[i], 2);
            }
            double rms = Math.sqrt(ss / after.length);
            assertEquals(rms, d.get("w").updateRms(), 1e-3 * rms);
            assertEquals(0.2 * Math.sqrt(24), d.get("w").scale(), 1e-9);
            assertTrue(Double.isNaN(d.get("v").orthogonalityError()));

            // orthogonality error from the singular values of X = (W_before - W_after)/(lr*scale)
            double step = 0.02 * d.get("w").scale();
            float[] x = new float[after.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) ((before[i] - after[i]) / step);
            }
            double sum = 0;
            for (double s : singularValues(x, 16, 24)) {
                sum += Math.pow(s * s - 1, 2);
            }
            double expected = Math.sqrt(sum) / Math.sqrt(16);
            assertEquals(expected, d.get("w").orthogonalityError(), 1e-3);
            assertTrue(expected > 0.05, "Keller Jordan's quintic is not exactly orthogonal");
            // spectral norm of the applied update: lr * scale * largest singular value of X
            double sMax = java.util.Arrays.stream(singularValues(x, 16, 24)).max().orElseThrow();
            assertEquals(step * sMax, d.get("w").spectralNorm(), 1e-3 * step * sMax);
            assertTrue(sMax > 0.6 && sMax < 1.3, "bounded whatever the gradient: " + sMax);
            assertTrue(Double.isNaN(d.get("v").spectralNorm()));

            // a step that was not asked for leaves the last diagnostics alone
            muon.update("w", w, g);
            assertEquals(d, muon.lastDiagnostics());
        }
    }

    @Test
    void vectorsGoToTheFallbackOrAreRefusedByName() {
        try (NDManager m = Backend.get().newManager()) {
            DecoupledAdamW adam = DecoupledAdamW.builder().optWeightDecays(0f).build();
            Muon muon =
                    base().optFallback(DecoupledAdamW.builder().optWeightDecays(0f).build())
                            .build();
            NDArray gain = m.ones(new Shape(8));
            NDArray same = m.ones(new Shape(8));
            NDArray g = gaussian(m, 9, 1.0, 8);
            muon.update("gain", gain, g);
            adam.update("gain", same, g);
            // exactly the fallback's update
            assertArrayEquals(same.toFloatArray(), gain.toFloatArray());
            assertTrue(maxAbsDiff(gain.toFloatArray(), m.ones(new Shape(8)).toFloatArray()) > 1e-4);
            assertEquals(1, muon.stepCount("gain"));
            assertEquals(1, muon.fallback().stepCount("gain"));

            Muon strict = base().optFallback(null).build();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    strict.update(
                                            "gain", m.ones(new Shape(8)), m.ones(new Shape(8))));
            assertTrue(e.getMessage().contains("'gain'"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void refusesBadInput() {
        try (NDManager m = Backend.get().newManager()) {
            Muon muon = base().build();
            assertThrows(
                    IllegalArgumentException.class,
                    () -> muon.update("w", m.ones(new Shape(4, 8)), m.ones(new Shape(8, 4))));
            assertThrows(
                    IllegalArgumentException.class, () -> Muon.builder().optClipGrad(1f).build());
            assertThrows(IllegalArgumentException.class, () -> Muon.builder().optMomentum(1f));
        }
    }
}
