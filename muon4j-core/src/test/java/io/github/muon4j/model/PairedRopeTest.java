package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RoPE in pair order ({@link RotaryEmbedding#applyPaired}, one complex product) against the
 * half-split rotation ({@link RotaryEmbedding#apply}), and multi-head attention's forward, which
 * uses it, against the path through {@link MultiHeadAttention#qkv}.
 */
class PairedRopeTest {

    static {
        Small.init();
    }

    /** x's last axis (heads of dim) reordered into pair order. */
    private static NDArray pairOrder(NDArray x, RotaryEmbedding rope) {
        NDArray rows = x.getManager().create(rope.pairOrder(1));
        return x.get(new NDIndex(":, :, :, {}", rows));
    }

    @ParameterizedTest
    @CsvSource({"float64, 1e-12", "float32, 1e-6"})
    void pairedRotationIsTheHalvesRotationInPairOrder(String type, double tol) {
        DataType t = DataType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        RotaryEmbedding rope = new RotaryEmbedding(8, 10000);
        try (NDManager m = Small.newManager()) {
            NDArray x = Small.normal(m, 7, t, new long[] {2, 5, 3, 8}); // (B, T, heads, dim)
            int start = 6;
            NDArray halves = rope.apply(x.transpose(0, 2, 1, 3), start).transpose(0, 2, 1, 3);
            NDArray paired = rope.applyPaired(pairOrder(x, rope), start);
            NDArray expected = pairOrder(halves, rope);
            assertEquals(expected.getShape(), paired.getShape());
            assertEquals(t, paired.getDataType());
            double diff =
                    expected.sub(paired).abs().max().toType(DataType.FLOAT64, false).getDouble();
            assertTrue(diff < tol, "max |paired - halves| " + diff);
            // and it did rotate: position 6 onwards moves the vectors
            assertTrue(x.sub(halves).abs().max().toType(DataType.FLOAT64, false).getDouble() > 0.1);
        }
    }

    @ParameterizedTest
    @CsvSource({"float64, 1e-12", "float32, 2e-5"})
    void attentionInPairOrderEqualsTheHalvesPath(String type, double tol) {
        DataType t = DataType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        ModelConfig c = ComponentGradientTest.micro(AttentionKind.MHA, FfnKind.DENSE);
        MultiHeadAttention mha = new MultiHeadAttention(c);
        try (NDManager m = Small.newManager()) {
            mha.initialize(m, t, 11L);
            ParameterStore ps = Small.store(m);
            NDArray x = Small.normal(m, 5, t, new long[] {2, 6, c.dModel()});
            NDArray fused = mha.forward(ps, x, false);
            NDList qkv = mha.qkv(ps, x, 0, false);
            NDArray halves =
                    mha.output(ps, mha.attend(qkv.get(0), qkv.get(1), qkv.get(2), 0), false);
            double diff = fused.sub(halves).abs().max().toType(DataType.FLOAT64, false).getDouble();
            assertTrue(diff < tol, "max |pair order - halves| " + diff);
            NDList paired = mha.qkvPaired(ps, x, false);
            // q in pair order is not q: the order differs, the scores do not
            assertTrue(
                    paired.get(0)
                                    .sub(qkv.get(0))
                                    .abs()
                                    .max()
                                    .toType(DataType.FLOAT64, false)
                                    .getDouble()
                            > 1e-3);
        }
    }
}
