package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** Finite-difference gradient checks in float64 for every model component on tiny sizes. */
class ComponentGradientTest {

    static {
        Small.init();
    }

    private static final DataType F64 = DataType.FLOAT64;

    /** vocab 11, d 8, 2 heads of 4, MLA latent 4 + rope 2, 4 routed + 1 shared experts top-2. */
    static ModelConfig micro(AttentionKind a, FfnKind f) {
        ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
        b.vocabSize = 11;
        b.contextLength = 8;
        b.nLayers = 2;
        b.dModel = 8;
        b.nHeads = 2;
        b.nRoutedExperts = 4;
        b.nSharedExperts = 1;
        b.topK = 2;
        b.deriveDefaults();
        b.attention = a;
        b.ffn = f;
        b.ffnHidden = 12;
        b.expertHidden = 6;
        b.initScale = 0.5;
        b.seed = 3;
        return b.build();
    }

    /** Checks a block: its parameters (random gains too) and its input x (B, T, d). */
    private static void checkBlock(
            ModelBlock block,
            long[] inputShape,
            BiFunction<ParameterStore, NDArray, NDArray> forward) {
        try (NDManager m = Small.newManager()) {
            block.initialize(m, F64, 11L);
            Map<String, NDArray> leaves = new LinkedHashMap<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                NDArray a = p.getValue().getArray();
                if (p.getKey().endsWith("gain")) { // random gains, not all ones
                    a.addi(
                            Small.normal(m, p.getKey().hashCode(), F64, a.getShape().getShape())
                                    .mul(0.3));
                }
                leaves.put(p.getKey(), a);
            }
            NDArray x = Small.normal(m, 5, F64, inputShape);
            leaves.put("input", x);
            ParameterStore ps = Small.store(m);
            int n =
                    GradCheck.check(
                            m, leaves, s -> GradCheck.weightedSum(forward.apply(ps, x), 9), 6);
            assertTrue(n >= leaves.size());
        }
    }

    @Test
    void rmsNorm() {
        RMSNorm norm = new RMSNorm(6, 1e-6);
        checkBlock(norm, new long[] {2, 3, 6}, (ps, x) -> norm.forward(ps, x, true));
    }

    @Test
    void rotaryEmbeddingAtAnOffset() {
        RotaryEmbedding rope = new RotaryEmbedding(4, 10000);
        checkBlock(rope, new long[] {1, 2, 3, 4}, (ps, x) -> rope.apply(x, 5));
    }

    @Test
    void rotaryEmbeddingInPairOrderAtAnOffset() {
        RotaryEmbedding rope = new RotaryEmbedding(4, 10000);
        checkBlock(rope, new long[] {1, 3, 2, 4}, (ps, x) -> rope.applyPaired(x, 5));
    }

    @Test
    void multiHeadAttention() {
        MultiHeadAttention mha = new MultiHeadAttention(micro(AttentionKind.MHA, FfnKind.DENSE));
        checkBlock(mha, new long[] {2, 4, 8}, (ps, x) -> mha.forward(ps, x, true));
    }

    @Test
    void multiHeadLatentAttention() {
        MultiHeadLatentAttention mla =
                new MultiHeadLatentAttention(micro(AttentionKind.MLA, FfnKind.DENSE));
        checkBlock(mla, new long[] {2, 4, 8}, (ps, x) -> mla.forward(ps, x, true));
    }

    @Test
    void multiHeadLatentAttentionWithLowRankQuery() {
        ModelConfig.Builder b = micro(AttentionKind.MLA, FfnKind.DENSE).toBuilder();
        b.qLoraRank = 6;
        MultiHeadLatentAttention mla = new MultiHeadLatentAttention(b.build());
        checkBlock(mla, new long[] {2, 4, 8}, (ps, x) -> mla.forward(ps, x, true));
    }

    @Test
    void swiGLU() {
        SwiGLU ffn = new SwiGLU(micro(AttentionKind.MHA, FfnKind.DENSE), 12);
        checkBlock(ffn, new long[] {2, 3, 8}, (ps, x) -> ffn.forward(ps, x, true));
    }

    @Test
    void gateWeights() {
        for (ScoreFunction sf : ScoreFunction.values()) {
            ModelConfig c =
                    micro(AttentionKind.MHA, FfnKind.MOE).withBalancing(sf, 0.01, 0.001, 0.001);
            Gate gate = new Gate(c);
            gate.setBias(new float[] {0.05f, -0.05f, 0f, 0.02f});
            checkBlock(gate, new long[] {6, 8}, (ps, x) -> gate.route(ps, x, true).weights());
        }
    }

    @Test
    void moeWithBalanceLosses() {
        for (ScoreFunction sf : ScoreFunction.values()) {
            ModelConfig c =
                    micro(AttentionKind.MHA, FfnKind.MOE).withBalancing(sf, 0.1, 0.001, 0.05);
            MoE moe = new MoE(c);
            checkBlock(
                    moe,
                    new long[] {2, 5, 8},
                    (ps, x) -> {
                        FeedForward.Result r = moe.apply(ps, x, true);
                        return r.out().add(r.balanceLoss()); // both terms reach the loss
                    });
        }
    }

    @Test
    void transformerBlockMlaMoe() {
        TransformerBlock block = new TransformerBlock(micro(AttentionKind.MLA, FfnKind.MOE), 1);
        checkBlock(block, new long[] {1, 4, 8}, (ps, x) -> block.forward(ps, x, true).out());
    }

    @Test
    void decoderLM() {
        for (AttentionKind a : AttentionKind.values()) {
            ModelConfig c = micro(a, FfnKind.MOE).withTiedEmbeddings(false);
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, F64);
                Map<String, NDArray> leaves = new LinkedHashMap<>();
                for (Pair<String, Parameter> p : lm.getParameters()) {
                    leaves.put(p.getKey(), p.getValue().getArray());
                }
                ParameterStore ps = Small.store(m);
                NDArray tokens = Small.tokens(m, 2, 4, c.vocabSize(), 2);
                GradCheck.check(
                        m,
                        leaves,
                        s -> {
                            DecoderLM.Output o = lm.forward(ps, tokens, true);
                            return GradCheck.weightedSum(o.logits(), 4).add(o.balanceLoss());
                        },
                        2);
            }
        }
    }

    @Test
    void float64ForwardStaysFloat64() {
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(micro(AttentionKind.MLA, FfnKind.MOE), m, F64);
            NDList out =
                    lm.forward(Small.store(m), new NDList(Small.tokens(m, 1, 3, 11, 1)), false);
            assertEquals(F64, out.get(0).getDataType());
            assertEquals(F64, out.get(1).getDataType());
        }
    }
}
