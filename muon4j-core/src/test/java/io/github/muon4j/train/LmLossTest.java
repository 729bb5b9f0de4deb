package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Precision;
import io.github.muon4j.model.Small;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chunked, fused head + cross-entropy ({@link LmLoss#fusedHead}) against the plain loss over
 * full logits ({@link LmLoss#crossEntropy}): the same loss and the same gradient of every parameter
 * (layers, final norm, head or tied embedding, MoE routers) to 1e-5, whatever the chunk.
 */
class LmLossTest {

    @BeforeAll
    static void init() {
        Small.init();
    }

    @Test
    void fusedHeadEqualsPlainLossAndGradients() {
        for (boolean tied : new boolean[] {true, false}) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = Small.config(AttentionKind.MHA, f).withTiedEmbeddings(tied);
                try (NDManager m = Small.newManager()) {
                    DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                    ParameterStore ps = Small.store(m);
                    // B=3, T=7: 21 tokens, so chunks of 5 and 8 leave a ragged last chunk
                    Result plain = run(lm, ps, m, 0);
                    assertTrue(plain.loss > 1, "a random model's loss is about ln(50)");
                    for (int chunk : new int[] {1, 5, 8, 21, 64}) {
                        Result fused = run(lm, ps, m, chunk);
                        String what = (tied ? "tied" : "untied") + "/" + f + " chunk " + chunk;
                        assertEquals(plain.loss, fused.loss, 1e-5, what + ": loss");
                        for (Map.Entry<String, float[]> e : plain.grads.entrySet()) {
                            float[] a = e.getValue();
                            float[] b = fused.grads.get(e.getKey());
                            double worst = 0, scale = 0;
                            for (int i = 0; i < a.length; i++) {
                                worst = Math.max(worst, Math.abs(a[i] - b[i]));
                                scale = Math.max(scale, Math.abs(a[i]));
                            }
                            assertTrue(
                                    worst <= 1e-5,
                                    what + ": gradient of " + e.getKey() + " off by " + worst);
                            if (e.getKey().contains("embedding") || e.getKey().contains("head")) {
                                assertTrue(
                                        scale > 1e-4, what + ": " + e.getKey() + " has a gradient");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A target far below the softmax's float range (log p[y] about -200, p[y] = 0 in float32) still
     * counts exactly: the loss is lse - logit[y] computed by hand, not infinite; a chunk of
     * ordinary rows beside it is unaffected.
     */
    @Test
    void aTargetTheModelRulesOutCountsExactly() {
        try (NDManager m = Small.newManager()) {
            // h (2, 1, 2) against W (3, 2): row 0 puts 200 nats between the target and the best
            float[] h = {1f, 0f, 0f, 1f};
            float[] w = {100f, 0f, -100f, 0f, 0f, 1f};
            NDArray hs = m.create(h, new ai.djl.ndarray.types.Shape(2, 1, 2));
            NDArray ws = m.create(w, new ai.djl.ndarray.types.Shape(3, 2));
            NDArray y = m.create(new int[] {1, 2}, new ai.djl.ndarray.types.Shape(2, 1));
            // row 0: logits (100, -100, 0), target 1; row 1: logits (0, 0, 1), target 2
            double lse0 = 100 + Math.log(1 + Math.exp(-200) + Math.exp(-100));
            double lse1 = 1 + Math.log(1 + 2 * Math.exp(-1));
            double expected = ((lse0 + 100) + (lse1 - 1)) / 2;
            for (int chunk : new int[] {1, 2}) {
                LmLoss.HeadLoss hl = LmLoss.fusedHead(hs, ws, y, chunk);
                assertEquals(expected, hl.loss().getFloat(), 1e-3, "chunk " + chunk);
            }
            LmLoss.HeadLoss ordinary = LmLoss.fusedHead(hs.get("1:"), ws, y.get("1:"), 1);
            assertEquals(lse1 - 1, ordinary.loss().getFloat(), 1e-6, "the ordinary row alone");
        }
    }

    /**
     * Under bf16 autocast the head's three products take bfloat16 operands: loss and gradients of
     * the hidden states and the head weight stay within bf16's rounding (8-bit mantissa, relative
     * 2^-9 per operand) of float32's, and are not bit-equal to them (the products ran in bf16).
     */
    @Test
    void bf16HeadFollowsFloat32Head() {
        try (NDManager m = Small.newManager()) {
            NDArray h = m.randomNormal(new ai.djl.ndarray.types.Shape(2, 5, 16));
            NDArray w = m.randomNormal(new ai.djl.ndarray.types.Shape(40, 16)).mul(0.3f);
            NDArray y =
                    m.randomInteger(0, 40, new ai.djl.ndarray.types.Shape(2, 5), DataType.INT32);
            float[][][] out = new float[2][][];
            for (Precision p : Precision.values()) {
                try (NDManager s = m.newSubManager();
                        Autocast ac = Autocast.enter(p)) {
                    NDArray hs = h.duplicate();
                    NDArray ws = w.duplicate();
                    hs.attach(s);
                    ws.attach(s);
                    hs.setRequiresGradient(true);
                    ws.setRequiresGradient(true);
                    float loss;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        LmLoss.HeadLoss hl = LmLoss.fusedHead(hs, ws, y, 3); // ragged: 10 = 3+3+3+1
                        loss = hl.loss().getFloat();
                        gc.backward(hl.surrogate());
                    }
                    out[p.ordinal()] =
                            new float[][] {
                                {loss},
                                hs.getGradient().toFloatArray(),
                                ws.getGradient().toFloatArray()
                            };
                }
            }
            String[] names = {"loss", "dL/dh", "dL/dW"};
            boolean differ = false;
            for (int k = 0; k < names.length; k++) {
                float[] a = out[0][k], b = out[1][k];
                double worst = 0, scale = 0;
                for (int i = 0; i < a.length; i++) {
                    worst = Math.max(worst, Math.abs(a[i] - b[i]));
                    scale = Math.max(scale, Math.abs(a[i]));
                    differ |= a[i] != b[i];
                }
                assertTrue(scale > 0, names[k] + " is not zero");
                assertTrue(
                        worst <= 0.02 * scale,
                        names[k] + ": bf16 off by " + worst + " at scale " + scale);
            }
            assertTrue(
                    differ,
                    "bf16 and float32 heads are bit-equal: the products did not run in bf16");
        }
    }

    private record Result(double loss, Map<String, float[]> grads) {}

    /** Loss (+ MoE balance loss) and every parameter's gradient; chunk 0 = plain loss. */
    private static Result run(DecoderLM lm, ParameterStore ps, NDManager m, int chunk) {
        double loss;
        try (NDManager s = m.newSubManager()) {
            NDArray all = Small.tokens(s, 3, 8, lm.config().vocabSize(), 11);
            NDArray x = all.get(":, :-1");
            NDArray y = all.get(":, 1:");
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                if (chunk == 0) {
                    DecoderLM.Output out = lm.forward(ps, x, true);
                    NDArray ce = LmLoss.crossEntropy(out.logits(), y);
                    loss = ce.getFloat();
                    gc.backward(ce.add(out.balanceLoss()));
                } else {
                    DecoderLM.Hidden h = lm.hidden(ps, x, true);
                    LmLoss.HeadLoss hl =
                            LmLoss.fusedHead(h.normed(), lm.headWeight(ps, true), y, chunk);
                    loss = hl.loss().getFloat();
                    gc.backward(hl.surrogate().add(h.balanceLoss()));
                }
            }
        }
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (Parameter p : lm.getParameters().values()) {
            try (NDArray g = p.getArray().getGradient()) {
                grads.put(p.getName(), g.toFloatArray());
                g.subi(g);
            }
        }
        return new Result(loss, grads);
    }
}
