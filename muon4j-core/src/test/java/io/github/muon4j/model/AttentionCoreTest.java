package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Causal attention over a whole sequence, which {@link AttentionCore#attend} runs in libtorch's
 * fused kernel when values are as wide as keys, and otherwise takes in two halves of queries from
 * {@link AttentionCore#SPLIT_MIN_TOKENS} tokens: output against a plain loop over (batch, head,
 * query), gradients against the one-block formula of {@link AttentionCore#causalWeights}.
 */
class AttentionCoreTest {

    static {
        Small.init();
    }

    private static final int B = 2, H = 2, DK = 6;

    /**
     * Values of width 5 (as MLA's, narrower than the keys): 255 one block, 256 the smallest split,
     * 258 halves of 129. Width 6 (as the keys): the fused kernel, at 2, 64 and 258 tokens.
     */
    @ParameterizedTest
    @CsvSource({"255, 5", "256, 5", "258, 5", "2, 6", "64, 6", "258, 6"})
    void wholeSequenceEqualsThePlainCausalSoftmax(int t, int dv) {
        double scale = 1 / Math.sqrt(DK);
        try (NDManager m = Small.newManager()) {
            DataType f64 = DataType.FLOAT64;
            NDArray q = Small.normal(m, 1, f64, B, H, t, DK);
            NDArray k = Small.normal(m, 2, f64, B, H, t, DK);
            NDArray v = Small.normal(m, 3, f64, B, H, t, dv);
            double[] out = AttentionCore.attend(q, k, v, scale, 0).toDoubleArray();
            double[] want =
                    plain(q.toDoubleArray(), k.toDoubleArray(), v.toDoubleArray(), t, dv, scale);
            assertEquals(want.length, out.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], out[i], 1e-12, "output " + i);
            }

            NDArray g = Small.normal(m, 4, f64, B, H, t, dv); // d loss / d output
            double[][] split =
                    grads(q, k, v, g, a -> AttentionCore.attend(a[0], a[1], a[2], scale, 0));
            double[][] whole =
                    grads(
                            q,
                            k,
                            v,
                            g,
                            a ->
                                    AttentionCore.causalWeights(
                                                    a[0].matMul(a[1].transpose(0, 1, 3, 2)),
                                                    scale,
                                                    0)
                                            .matMul(a[2]));
            String[] names = {"dq", "dk", "dv"};
            for (int j = 0; j < 3; j++) {
                double max = 0;
                for (int i = 0; i < whole[j].length; i++) {
                    max = Math.max(max, Math.abs(whole[j][i] - split[j][i]));
                }
                assertTrue(max < 1e-12, names[j] + " differs by " + max);
                assertTrue(
                        java.util.Arrays.stream(whole[j]).anyMatch(x -> x != 0),
                        names[j] + " is all zero");
            }
        }
    }

    /** Gradients of sum(f(q, k, v) * g) with respect to q, k and v. */
    private static double[][] grads(
            NDArray q,
            NDArray k,
            NDArray v,
            NDArray g,
            java.util.function.Function<NDArray[], NDArray> f) {
        NDArray[] a = {q.duplicate(), k.duplicate(), v.duplicate()};
        for (NDArray x : a) {
            x.setRequiresGradient(true);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(f.apply(a).mul(g).sum());
        }
        return new double[][] {
            a[0].getGradient().toDoubleArray(),
            a[1].getGradient().toDoubleArray(),
            a[2].getGradient().toDoubleArray()
        };
    }

    /** softmax over keys 0..i of (q_i . k_j) * scale, times v; row-major (B, H, T, *) arrays. */
    private static double[] plain(double[] q, double[] k, double[] v, int t, int dv, double scale) {
        double[] out = new double[B * H * t * dv];
        double[] p = new double[t];
        for (int bh = 0; bh < B * H; bh++) {
            for (int i = 0; i < t; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int d = 0; d < DK; d++) {
                        s += q[(bh * t + i) * DK + d] * k[(bh * t + j) * DK + d];
                    }
                    p[j] = s * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < dv; d++) {
                        out[(bh * t + i) * dv + d] += p[j] / sum * v[(bh * t + j) * dv + d];
                    }
                }
            }
        }
        return out;
    }
}
