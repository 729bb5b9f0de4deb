package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.optim.ParamRole;

/**
 * Causal multi-head attention with RoPE on the whole head: {@code q, k, v = x W_q, x W_k, x W_v}
 * split into {@code n_heads} heads of {@code head_dim}; {@code o = softmax(q k^T / sqrt(head_dim) +
 * causal) v}; {@code y = o W_o}. Weights are stored [out, in].
 */
public final class MultiHeadAttention extends ModelBlock implements SelfAttention {

    private final int heads;
    private final int headDim;
    private final Parameter wq;
    private final Parameter wk;
    private final Parameter wv;
    private final Parameter wo;
    private final RotaryEmbedding rope;
    private final long[] pairOrder; // rows of W_q, W_k in RoPE's pair order (qkvPaired)

    public MultiHeadAttention(ModelConfig c) {
        this.heads = c.nHeads();
        this.headDim = c.headDim();
        int inner = heads * headDim;
        double std = c.initScale();
        wq = param("wq", ParamRole.HIDDEN_MATRIX, std, inner, c.dModel());
        wk = param("wk", ParamRole.HIDDEN_MATRIX, std, inner, c.dModel());
        wv = param("wv", ParamRole.HIDDEN_MATRIX, std, inner, c.dModel());
        wo = param("wo", ParamRole.HIDDEN_MATRIX, DecoderLM.outputStd(c), c.dModel(), inner);
        rope = addChildBlock("rope", new RotaryEmbedding(headDim, c.ropeBase()));
        pairOrder = rope.pairOrder(heads);
    }

    public int heads() {
        return heads;
    }

    public int headDim() {
        return headDim;
    }

    /**
     * Projections for T new positions starting at {@code start}.
     *
     * @param x (B, T, d_model)
     * @return q, k (after RoPE) and v, each (B, heads, T, head_dim)
     */
    public NDList qkv(ParameterStore ps, NDArray x, int start, boolean training) {
        NDArray q = rope.apply(split(project(x, value(ps, wq, training))), start);
        NDArray k = rope.apply(split(project(x, value(ps, wk, training))), start);
        NDArray v = split(project(x, value(ps, wv, training)));
        return new NDList(q, k, v);
    }

    /** o (B, heads, T, head_dim) -> (B, T, d_model). */
    public NDArray output(ParameterStore ps, NDArray o, boolean training) {
        return project(mergeHeads(o), value(ps, wo, training));
    }

    /** Attention of q over keys/values (B, heads, S, ·) with causal offset {@code start}. */
    public NDArray attend(NDArray q, NDArray k, NDArray v, int start) {
        // float32 under bf16 autocast too: with K = head_dim these products gained nothing from
        // bf16 operands (measured)
        return AttentionCore.attend(q, k, v, 1.0 / Math.sqrt(headDim), start);
    }

    /**
     * The whole sequence: {@link #qkvPaired} (float32, float64) or {@link #qkv}, attention, output.
     */
    @Override
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        DataType type = x.getDataType();
        NDList qkv =
                type == DataType.FLOAT32 || type == DataType.FLOAT64
                        ? qkvPaired(ps, x, training)
                        : qkv(ps, x, 0, training);
        return output(ps, attend(qkv.get(0), qkv.get(1), qkv.get(2), 0), training);
    }

    /**
     * As {@link #qkv} from position 0, with the head dimensions of q and k in RoPE's pair order
     * ({@link RotaryEmbedding#applyPaired}): the rows of W_q and W_k are taken in that order, so
     * the products give each rotary pair side by side and RoPE is one complex product. A score q .
     * k sums over the head dimensions, in any order both share, so attention gives {@link #qkv}'s
     * result to float rounding; the weights keep their layout (gradients come back through the row
     * gather).
     *
     * @param x (B, T, d_model)
     * @return q, k (after RoPE, pair order) and v, each (B, heads, T, head_dim)
     */
    NDList qkvPaired(ParameterStore ps, NDArray x, boolean training) {
        NDArray rows = x.getManager().create(pairOrder); //                   (heads * head_dim)
        NDArray q = rope.applyPaired(byHead(project(x, pairRows(ps, wq, rows, training))), 0);
        NDArray k = rope.applyPaired(byHead(project(x, pairRows(ps, wk, rows, training))), 0);
        NDArray v = byHead(project(x, value(ps, wv, training)));
        return new NDList(headsFirst(q), headsFirst(k), headsFirst(v));
    }

    /** W's rows in the given order, in the manager of the order (the step's), not W's. */
    private NDArray pairRows(ParameterStore ps, Parameter w, NDArray rows, boolean training) {
        NDArray r = value(ps, w, training).get(new NDIndex("{}", rows)); //   (heads * head_dim, in)
        r.attach(rows.getManager());
        return r;
    }

    static NDArray project(NDArray x, NDArray w) {
        return Autocast.linear(x, w);
    }

    /** (B, T, h*dh) -> (B, h, T, dh). */
    private NDArray split(NDArray y) {
        return headsFirst(byHead(y));
    }

    /** (B, T, h*dh) -> (B, T, h, dh). */
    private NDArray byHead(NDArray y) {
        Shape s = y.getShape();
        return y.reshape(s.get(0), s.get(1), heads, -1);
    }

    /** (B, T, h, dh) -> (B, h, T, dh), a view. */
    private static NDArray headsFirst(NDArray y) {
        return y.transpose(0, 2, 1, 3);
    }

    /** (B, h, T, dh) -> (B, T, h*dh). */
    static NDArray mergeHeads(NDArray o) {
        Shape s = o.getShape();
        return o.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), -1);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training));
    }
}
