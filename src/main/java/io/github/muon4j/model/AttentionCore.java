package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** The causal softmax shared by both attention kinds and by incremental decoding. */
public final class AttentionCore {

    private AttentionCore() {}

    /**
     * Causal attention weights: {@code softmax(scores * scale + mask)} over the last axis, where
     * query i (absolute position {@code start + i}) sees keys 0..start+i.
     *
     * @param scores (..., T, S) raw scores with S = start + T
     * @param scale multiplier of the scores (1/sqrt(qk_head_dim))
     * @param start absolute position of the first query
     */
    public static NDArray causalWeights(NDArray scores, double scale, int start) {
        Shape s = scores.getShape();
        int d = s.dimension();
        int t = (int) s.get(d - 2);
        int keys = (int) s.get(d - 1);
        NDArray z = Tensors.scale(scores, scale);
        if (t > 1 || start + t < keys) {
            double[] mask = new double[t * keys];
            for (int i = 0; i < t; i++) {
                for (int j = start + i + 1; j < keys; j++) {
                    mask[i * keys + j] = Double.NEGATIVE_INFINITY;
                }
            }
            z = z.add(Tensors.constant(
                    scores.getManager(), mask, new Shape(t, keys), scores.getDataType()));
        }
        return z.softmax(d - 1);
    }
}
