package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.optim.ParamRole;

/**
 * Multi-head latent attention (DeepSeek-V2), plain (training) form.
 *
 * <pre>
 * queries: q = x W_q, or q = RMSNorm(x W_qa) W_qb when q_lora_rank > 0    (B, T, h, nope + rope)
 *          q_nope | q_pe = split(q); q_pe = RoPE(q_pe)
 * latent:  c | k_pe = x W_kva                              (B, T, kv_lora_rank) | (B, T, rope)
 *          c = RMSNorm(c); k_pe = RoPE(k_pe)   (one rotary key per token, shared by all heads)
 * expand:  k_nope | v = c W_kvb                             (B, T, h, nope) | (B, T, h, v_dim)
 * scores:  (q_nope . k_nope + q_pe . k_pe) / sqrt(nope + rope), causal softmax
 * output:  y = (weights v) W_o
 * </pre>
 *
 * Inference caches only c and k_pe and folds W_kvb into the query and output side ({@code
 * io.github.muon4j.infer}); {@link #wkvB} exposes the weight for that.
 */
public final class MultiHeadLatentAttention extends ModelBlock implements SelfAttention {

    private final int heads;
    private final int nope;
    private final int ropeDim;
    private final int vDim;
    private final int kvRank;
    private final Parameter wq;
    private final Parameter wqa;
    private final RMSNorm qNorm;
    private final Parameter wqb;
    private final Parameter wkva;
    private final RMSNorm kvNorm;
    private final Parameter wkvb;
    private final Parameter wo;
    private final RotaryEmbedding rope;

    public MultiHeadLatentAttention(ModelConfig c) {
        heads = c.nHeads();
        nope = c.qkNopeHeadDim();
        ropeDim = c.qkRopeHeadDim();
        vDim = c.vHeadDim();
        kvRank = c.kvLoraRank();
        int d = c.dModel();
        int qk = nope + ropeDim;
        double std = c.initScale();
        if (c.qLoraRank() == 0) {
            wq = param("wq", ParamRole.HIDDEN_MATRIX, std, (long) heads * qk, d);
            wqa = null;
            wqb = null;
            qNorm = null;
        } else {
            wq = null;
            wqa = param("wq_a", ParamRole.HIDDEN_MATRIX, std, c.qLoraRank(), d);
            wqb = param("wq_b", ParamRole.HIDDEN_MATRIX, std, (long) heads * qk, c.qLoraRank());
            qNorm = addChildBlock("q_norm", new RMSNorm(c.qLoraRank(), c.normEps()));
        }
        wkva = param("wkv_a", ParamRole.HIDDEN_MATRIX, std, kvRank + ropeDim, d);
        kvNorm = addChildBlock("kv_norm", new RMSNorm(kvRank, c.normEps()));
        wkvb = param("wkv_b", ParamRole.HIDDEN_MATRIX, std, (long) heads * (nope + vDim), kvRank);
        wo = param("wo", ParamRole.HIDDEN_MATRIX, DecoderLM.outputStd(c), d, (long) heads * vDim);
        rope = addChildBlock("rope", new RotaryEmbedding(ropeDim, c.ropeBase()));
    }

    public int heads() {
        return heads;
    }

    public int nopeDim() {
        return nope;
    }

    public int ropeDim() {
        return ropeDim;
    }

    public int vDim() {
        return vDim;
    }

    public int kvLoraRank() {
        return kvRank;
    }

    /** Softmax scale 1/sqrt(nope + rope). */
    public double scale() {
        return 1.0 / Math.sqrt(nope + ropeDim);
    }

    /** The up-projection W_kvb [h * (nope + v), kv_lora_rank], for absorption at inference. */
    public Parameter wkvB() {
        return wkvb;
    }

    /**
     * @param x (B, T, d_model) at positions start..start+T-1
     * @return q_nope (B, h, T, nope) and q_pe (B, h, T, rope) after RoPE
     */
    public NDList queries(ParameterStore ps, NDArray x, int start, boolean training) {
        NDArray q;
        if (wq != null) {
            q = MultiHeadAttention.project(x, value(ps, wq, training));
        } else {
            NDArray a =
                    qNorm.forward(
                            ps, MultiHeadAttention.project(x, value(ps, wqa, training)), training);
            q = MultiHeadAttention.project(a, value(ps, wqb, training));
        }
        Shape s = x.getShape();
        q = q.reshape(s.get(0), s.get(1), heads, nope + ropeDim).transpose(0, 2, 1, 3);
        NDList parts = q.split(new long[] {nope}, 3);
        return new NDList(parts.get(0), rope.apply(parts.get(1), start));
    }

    /**
     * @param x (B, T, d_model) at positions start..start+T-1
     * @return the normalised latent c (B, T, kv_lora_rank) and the rotary key k_pe (B, T, rope)
     */
    public NDList latent(ParameterStore ps, NDArray x, int start, boolean training) {
        NDArray kv = MultiHeadAttention.project(x, value(ps, wkva, training));
        NDList parts = kv.split(new long[] {kvRank}, 2);
        NDArray c = kvNorm.forward(ps, parts.get(0), training);
        return new NDList(c, rope.apply(parts.get(1), start));
    }

    /**
     * Plain up-projection of the latent.
     *
     * @param c (B, S, kv_lora_rank)
     * @return k_nope (B, h, S, nope) and v (B, h, S, v_dim)
     */
    public NDList expand(ParameterStore ps, NDArray c, boolean training) {
        Shape s = c.getShape();
        NDArray kv =
                MultiHeadAttention.project(c, value(ps, wkvb, training))
                        .reshape(s.get(0), s.get(1), heads, nope + vDim)
                        .transpose(0, 2, 1, 3);
        return kv.split(new long[] {nope}, 3);
    }

    /** o (B, h, T, v_dim) -> (B, T, d_model). */
    public NDArray output(ParameterStore ps, NDArray o, boolean training) {
        return MultiHeadAttention.project(
                MultiHeadAttention.mergeHeads(o), value(ps, wo, training));
    }

    /**
     * Plain-form attention of new queries over S cached positions.
     *
     * @param qNope (B, h, T, nope); qPe (B, h, T, rope)
     * @param c (B, S, kv_lora_rank); kPe (B, S, rope)
     * @return (B, h, T, v_dim)
     */
    public NDArray attendPlain(
            ParameterStore ps,
            NDArray qNope,
            NDArray qPe,
            NDArray c,
            NDArray kPe,
            int start,
            boolean training) {
        NDList kv = expand(ps, c, training);
        NDArray q = NDArrays.concat(new NDList(qNope, qPe), 3);
        Shape ks = kPe.getShape();
        NDArray kPeHeads = kPe.expandDims(1).broadcast(ks.get(0), heads, ks.get(1), ropeDim);
        NDArray k = NDArrays.concat(new NDList(kv.get(0), kPeHeads), 3);
        // float32 under bf16 autocast too (see MultiHeadAttention.attend)
        return AttentionCore.attend(q, k, kv.get(1), scale(), start);
    }

    @Override
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        NDList q = queries(ps, x, 0, training);
        NDList lat = latent(ps, x, 0, training);
        NDArray o = attendPlain(ps, q.get(0), q.get(1), lat.get(0), lat.get(1), 0, training);
        return output(ps, o, training);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training));
    }
}
