package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.TorchScript;

/** The causal softmax shared by both attention kinds and by incremental decoding. */
public final class AttentionCore {

    private AttentionCore() {}

    /**
     * libtorch's fused causal attention ({@code scaled_dot_product_attention}: its flash kernel on
     * CPU and CUDA, which never holds the (T, T) scores and has a backward of its own); the kernel
     * applies the scale to its scores itself (no scaled copy of the queries, forward or backward).
     */
    private static final TorchScript FUSED =
            new TorchScript(
                    "CausalAttention",
                    "q: Tensor, k: Tensor, v: Tensor, scale: Tensor",
                    "Tensor",
                    "return torch.scaled_dot_product_attention(q, k, v, None, 0., True,"
                            + " scale=float(scale))");

    /**
     * Causal scaled dot-product attention, {@code softmax(q k^T * scale + mask) v}. The explicit
     * form applies the scale to the queries (T x head_dim numbers) rather than to the scores (T x
     * S); the fused kernel applies it inside.
     *
     * <p>A whole sequence ({@code start == 0}) with as wide values as keys (multi-head attention)
     * runs in libtorch's fused kernel (alone 1.6x faster forward and backward than the explicit
     * softmax at 8 x 8 x 512 x 64 on a Xeon; in a 6L-512d step the forward took 5-9% less, the
     * backward the same, memory 0.8 GB less: see docs/benchmarks-log.md). Otherwise (MLA's wider
     * keys, decoding) the explicit form runs, and a whole sequence of at least {@link
     * #SPLIT_MIN_TOKENS} (even) tokens is taken in two halves of queries, the first against the
     * first half of the keys only: the same result to float32 rounding, without computing the
     * quarter of the scores that the mask hides.
     *
     * @param q (B, h, T, dk) queries at absolute positions start..start+T-1
     * @param k (B, h, S, dk) keys, S = start + T
     * @param v (B, h, S, dv) values
     * @return (B, h, T, dv)
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, double scale, int start) {
        int t = (int) q.getShape().get(2);
        if (start == 0 && q.getShape().get(3) == v.getShape().get(3)) {
            NDList qkv = new NDList(q, k, v, q.getManager().create(scale));
            return FUSED.forwardEager(qkv).singletonOrThrow();
        }
        if (start == 0 && t >= SPLIT_MIN_TOKENS && t % 2 == 0) {
            // the first half of the queries sees only the first half of the keys: skip the
            // masked (T/2, T/2) corner of the scores, a quarter of them
            NDList halves = q.split(2, 2); //               2 x (B, h, T/2, dk)
            String first = ":, :, :" + t / 2 + ", :";
            NDArray early = attendBlock(halves.get(0), k.get(first), v.get(first), scale, 0);
            NDArray late = attendBlock(halves.get(1), k, v, scale, t / 2);
            return NDArrays.concat(new NDList(early, late), 2);
        }
        return attendBlock(q, k, v, scale, start);
    }

    /**
     * Query counts from which {@link #attend} splits a whole causal sequence in two halves (a
     * scratch timing of 8 x 8 x 512 x 64, forward and backward: 103 ms split, 124 ms whole).
     */
    static final int SPLIT_MIN_TOKENS = 256;

    private static NDArray attendBlock(NDArray q, NDArray k, NDArray v, double scale, int start) {
        NDArray scores = Tensors.scale(q, scale).matMul(k.transpose(0, 1, 3, 2)); // (B, h, T, S)
        return causalWeights(scores, 1.0, start).matMul(v);
    }

    /**
     * Causal attention weights: {@code softmax(scores * scale + mask)} over the last axis, where
     * query i (absolute position {@code start + i}) sees keys 0..start+i.
     *
     * @param scores (..., T, S) raw scores with S = start + T
     * @param scale multiplier of the scores (1/sqrt(qk_head_dim)); 1 when the queries carry it
     * @param start absolute position of the first query
     */
    public static NDArray causalWeights(NDArray scores, double scale, int start) {
        Shape s = scores.getShape();
        int d = s.dimension();
        int t = (int) s.get(d - 2);
        int keys = (int) s.get(d - 1);
        NDArray z = scale == 1.0 ? scores : Tensors.scale(scores, scale);
        if (t > 1 || start + t < keys) {
            NDManager m = scores.getManager();
            NDArray query = m.arange(start, start + t, 1, DataType.INT32).reshape(t, 1);
            NDArray key = m.arange(0, keys, 1, DataType.INT32).reshape(1, keys);
            NDArray future = key.gt(query); //                            (T, S) key after query
            NDArray minusInf =
                    Tensors.constant(
                            m,
                            new double[] {Double.NEGATIVE_INFINITY},
                            new Shape(),
                            scores.getDataType());
            NDArray zero = Tensors.constant(m, new double[] {0}, new Shape(), scores.getDataType());
            // additive mask (T, S): 0 where visible, -inf where masked; z + 0 is z exactly, so the
            // weights are the same bits as masking z by selection, but the broadcast add needs no
            // (..., T, S) mask and passes its gradient through without a masked copy
            NDArray mask =
                    NDArrays.where(future, minusInf.broadcast(t, keys), zero.broadcast(t, keys));
            z = z.add(mask);
        }
        return z.softmax(d - 1);
    }
}
