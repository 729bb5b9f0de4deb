package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.github.muon4j.Backend;
import io.github.muon4j.optim.ParamRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecoderLMTest {

    static {
        Small.init();
    }

    @Test
    void tinyForwardShapesInAllFourCombinations() {
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = ModelConfig.preset("tiny").withAttention(a).withFfn(f);
                try (NDManager m = Backend.get().newManager()) {
                    DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                    assertEquals(c.totalParams(), lm.parameterCount(), a + "/" + f);
                    try (NDManager step = m.newSubManager()) {
                        NDArray tok = Small.tokens(step, 2, 16, c.vocabSize(), 1);
                        DecoderLM.Output out = lm.forward(Small.store(m), tok, false);
                        assertEquals(new Shape(2, 16, c.vocabSize()), out.logits().getShape());
                        assertEquals(DataType.FLOAT32, out.logits().getDataType());
                        assertTrue(out.balanceLoss().getShape().isScalar());
                        assertEquals(c.moeLayers(), out.expertLoad().size());
                        for (float[] load : out.expertLoad()) {
                            double sum = 0;
                            for (float v : load) {
                                sum += v;
                            }
                            assertEquals(2 * 16 * c.topK(), sum, 0.0);
                        }
                        if (f == FfnKind.DENSE) {
                            assertEquals(0f, out.balanceLoss().getFloat());
                        } else {
                            assertTrue(out.balanceLoss().getFloat() > 0);
                        }
                        float[] logits = out.logits().toFloatArray();
                        for (float v : logits) {
                            assertTrue(Float.isFinite(v));
                        }
                    }
                }
            }
        }
    }

    @Test
    void rolesCoverExactlyTheParameterNames() {
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = Small.config(a, f).withTiedEmbeddings(false);
                DecoderLM lm = new DecoderLM(c);
                Map<String, ParamRole> roles = lm.roles();
                List<String> names = new ArrayList<>(lm.getParameters().keys());
                assertEquals(names, new ArrayList<>(roles.keySet()));
                for (Pair<String, Parameter> p : lm.getParameters()) {
                    ParamRole r = roles.get(p.getKey());
                    int dims = p.getValue().getShape().dimension();
                    String n = p.getKey();
                    if (n.equals("embedding")) {
                        assertEquals(ParamRole.EMBEDDING, r);
                    } else if (n.equals("head")) {
                        assertEquals(ParamRole.HEAD, r);
                    } else if (n.endsWith("gain")) {
                        assertEquals(ParamRole.NORM, r);
                        assertEquals(1, dims);
                    } else if (n.contains("gate_weight")) {
                        assertEquals(ParamRole.ROUTER, r);
                    } else if (n.contains("experts_w")) {
                        assertEquals(ParamRole.EXPERT_STACK, r);
                        assertEquals(3, dims);
                    } else {
                        assertEquals(ParamRole.HIDDEN_MATRIX, r, n);
                        assertEquals(2, dims, n);
                    }
                }
                assertEquals(f == FfnKind.MOE, roles.containsValue(ParamRole.EXPERT_STACK));
                assertEquals(f == FfnKind.MOE, roles.containsValue(ParamRole.ROUTER));
            }
        }
    }

    @Test
    void initialisationIsSeededAndScaled() {
        ModelConfig c = Small.config(AttentionKind.MHA, FfnKind.DENSE);
        try (NDManager m = Backend.get().newManager()) {
            DecoderLM a = Small.model(c, m, DataType.FLOAT32);
            DecoderLM b = Small.model(c, m, DataType.FLOAT32);
            DecoderLM other = Small.model(c.withSeed(8), m, DataType.FLOAT32);
            DecoderLM viaDjl = new DecoderLM(c); // DJL's own initialize path is seeded too
            viaDjl.initialize(m, DataType.FLOAT32, new Shape(1, 8));
            assertSame(m, viaDjl.manager());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new DecoderLM(c).initialize(m, DataType.BFLOAT16));
            for (String name : a.getParameters().keys()) {
                float[] va = a.getParameters().get(name).getArray().toFloatArray();
                float[] vb = b.getParameters().get(name).getArray().toFloatArray();
                float[] vo = other.getParameters().get(name).getArray().toFloatArray();
                assertArrayEquals(va, vb, name);
                assertArrayEquals(va, viaDjl.getParameters().get(name).getArray().toFloatArray());
                if (!name.endsWith("gain")) {
                    assertFalse(java.util.Arrays.equals(va, vo), name);
                }
            }
            // std of a hidden matrix vs an output projection: ratio sqrt(2 * n_layers) = 2
            double sq = std(a.getParameters().get("01layer0_02attention_wq").getArray());
            double so = std(a.getParameters().get("01layer0_02attention_wo").getArray());
            assertEquals(c.initScale(), sq, 0.1 * c.initScale());
            assertEquals(2.0, sq / so, 0.2);
        }
    }

    private static double std(NDArray a) {
        float[] v = a.toFloatArray();
        double s = 0;
        for (float x : v) {
            s += x * (double) x;
        }
        return Math.sqrt(s / v.length);
    }

    @Test
    void laterTokensNeverChangeEarlierLogits() {
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = Small.config(a, f);
                try (NDManager m = Backend.get().newManager()) {
                    DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                    ParameterStore ps = Small.store(m);
                    int t = 12;
                    int cut = 7;
                    int[] x = Small.tokens(m, 1, t, c.vocabSize(), 3).toIntArray();
                    int[] y = x.clone();
                    for (int i = cut; i < t; i++) {
                        y[i] = (x[i] + 1 + i) % c.vocabSize();
                    }
                    float[] lx = logits(lm, ps, m, x);
                    float[] ly = logits(lm, ps, m, y);
                    int v = c.vocabSize();
                    for (int i = 0; i < cut * v; i++) {
                        assertEquals(lx[i], ly[i], 1e-5, a + "/" + f + " position " + i / v);
                    }
                    boolean changed = false;
                    for (int i = cut * v; i < t * v; i++) {
                        changed |= Math.abs(lx[i] - ly[i]) > 1e-4;
                    }
                    assertTrue(changed, "the changed positions must change their logits");
                }
            }
        }
    }

    private static float[] logits(DecoderLM lm, ParameterStore ps, NDManager m, int[] tokens) {
        try (NDManager s = m.newSubManager()) {
            NDArray tok = s.create(tokens, new Shape(1, tokens.length));
            return lm.forward(ps, tok, false).logits().toFloatArray();
        }
    }

    @Test
    void forwardAndBackwardInAStepManagerLeaveNothingInTheModelManager() {
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = Small.config(a, f).withTiedEmbeddings(false);
                try (NDManager m = Backend.get().newManager()) {
                    DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                    ParameterStore ps = Small.store(m);
                    int before = m.getManagedArrays().size();
                    for (int step = 0; step < 2; step++) {
                        try (NDManager s = m.newSubManager()) {
                            NDArray tok = Small.tokens(s, 2, 8, c.vocabSize(), step);
                            try (GradientCollector gc =
                                    Engine.getInstance().newGradientCollector()) {
                                DecoderLM.Output out = lm.forward(ps, tok, true);
                                NDArray loss = out.logits().square().mean().add(out.balanceLoss());
                                gc.backward(loss);
                            }
                            lm.updateBalanceBias(lm.forward(ps, tok, false));
                        }
                        for (Parameter p : lm.getParameters().values()) {
                            try (NDArray g = p.getArray().getGradient()) {
                                // reading to Java creates no array; g.abs() would land in m
                                assertTrue(
                                        maxAbs(g.toFloatArray()) > 0,
                                        a + "/" + f + " step " + step + " " + p.getName());
                                g.subi(g);
                            }
                        }
                    }
                    assertEquals(before, m.getManagedArrays().size(), a + "/" + f);
                }
            }
        }
    }

    private static double maxAbs(float[] v) {
        double mx = 0;
        for (float x : v) {
            mx = Math.max(mx, Math.abs(x));
        }
        return mx;
    }
}
