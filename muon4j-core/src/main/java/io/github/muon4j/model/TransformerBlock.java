package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Pre-norm transformer block: {@code h = x + Attn(RMSNorm(x)); y = h + FFN(RMSNorm(h))}, with MHA
 * or MLA attention and a dense SwiGLU or MoE feed-forward. Shapes (B, T, d_model) throughout.
 */
public final class TransformerBlock extends ModelBlock {

    private final RMSNorm attnNorm;
    private final ModelBlock attention;
    private final RMSNorm ffnNorm;
    private final ModelBlock ffn;

    /**
     * @param c the model config
     * @param layer 0-based index; decides dense or MoE via {@link ModelConfig#isMoeLayer}
     */
    public TransformerBlock(ModelConfig c, int layer) {
        attnNorm = addChildBlock("attn_norm", new RMSNorm(c.dModel(), c.normEps()));
        attention =
                addChildBlock(
                        "attention",
                        c.attention() == AttentionKind.MHA
                                ? new MultiHeadAttention(c)
                                : new MultiHeadLatentAttention(c));
        ffnNorm = addChildBlock("ffn_norm", new RMSNorm(c.dModel(), c.normEps()));
        ffn = addChildBlock("ffn", c.isMoeLayer(layer) ? new MoE(c) : new SwiGLU(c, c.ffnHidden()));
    }

    public RMSNorm attnNorm() {
        return attnNorm;
    }

    /** The attention block: a {@link MultiHeadAttention} or a {@link MultiHeadLatentAttention}. */
    public SelfAttention attention() {
        return (SelfAttention) attention;
    }

    public RMSNorm ffnNorm() {
        return ffnNorm;
    }

    /** The feed-forward: a {@link SwiGLU} or a {@link MoE}. */
    public FeedForward ffn() {
        return (FeedForward) ffn;
    }

    /** x (B, T, d) -> block output with the MoE terms of its feed-forward. */
    public FeedForward.Result forward(ParameterStore ps, NDArray x, boolean training) {
        NDArray h = x.add(attention().forward(ps, attnNorm.forward(ps, x, training), training));
        return feedForward(ps, h, training);
    }

    /** The second half: {@code h + FFN(RMSNorm(h))}, carrying the MoE terms. */
    public FeedForward.Result feedForward(ParameterStore ps, NDArray h, boolean training) {
        FeedForward.Result f = ffn().apply(ps, ffnNorm.forward(ps, h, training), training);
        return new FeedForward.Result(h.add(f.out()), f.balanceLoss(), f.expertLoad());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training).out());
    }
}
