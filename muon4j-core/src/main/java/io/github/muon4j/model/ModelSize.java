package io.github.muon4j.model;

/**
 * Size accounting of a {@link ModelConfig}: parameters (total and active per token), the KV cache
 * and training FLOPs, all in closed form. {@code totalParams()} equals the sum of the parameter
 * sizes of the {@link DecoderLM} built from the config (a test checks every preset).
 *
 * @param c the architecture
 */
public record ModelSize(ModelConfig c) {

    /** Attention weight-matrix parameters of one layer (the pre-norm gain not included). */
    public long attentionMatrixParams() {
        long d = c.dModel();
        long h = c.nHeads();
        if (c.attention() == AttentionKind.MHA) {
            return 4 * d * h * c.headDim();
        }
        long qk = c.qkHeadDim();
        long q =
                c.qLoraRank() == 0 ? d * h * qk : d * c.qLoraRank() + (long) c.qLoraRank() * h * qk;
        return q
                + d * (c.kvLoraRank() + c.qkRopeHeadDim())
                + (long) c.kvLoraRank() * h * (c.qkNopeHeadDim() + c.vHeadDim())
                + h * c.vHeadDim() * d;
    }

    /** Attention parameters of one layer, including MLA's internal norms. */
    public long attentionParams() {
        long norms = c.attention() == AttentionKind.MLA ? c.kvLoraRank() + (long) c.qLoraRank() : 0;
        return attentionMatrixParams() + norms;
    }

    /** Parameters of one dense SwiGLU feed-forward. */
    public long denseFfnParams() {
        return 3L * c.dModel() * c.ffnHidden();
    }

    /** Parameters of one SwiGLU expert. */
    public long expertParams() {
        return 3L * c.dModel() * c.expertHidden();
    }

    /** Router parameters of one MoE layer. */
    public long routerParams() {
        return (long) c.nRoutedExperts() * c.dModel();
    }

    /** All parameters of one MoE feed-forward (router, routed and shared experts). */
    public long moeParams() {
        return routerParams() + (long) (c.nRoutedExperts() + c.nSharedExperts()) * expertParams();
    }

    /** Active parameters of one MoE feed-forward: router, shared and top-k routed experts. */
    public long moeActiveParams() {
        return routerParams() + (long) (c.nSharedExperts() + c.topK()) * expertParams();
    }

    private long ffnParams(int layer, boolean active) {
        if (!c.isMoeLayer(layer)) {
            return denseFfnParams();
        }
        return active ? moeActiveParams() : moeParams();
    }

    /** All parameters, by closed form (equals the sum of the model's parameter sizes). */
    public long totalParams() {
        return count(false);
    }

    /** Parameters used per token: for MoE only the router, shared and top-k routed experts. */
    public long activeParams() {
        return count(true);
    }

    private long count(boolean active) {
        long d = c.dModel();
        long n =
                (long) c.vocabSize() * d * (c.tiedEmbeddings() ? 1 : 2)
                        + d; // embedding, head, final norm
        for (int l = 0; l < c.nLayers(); l++) {
            n += 2 * d + attentionParams() + ffnParams(l, active);
        }
        return n;
    }

    /**
     * Active weight-matrix parameters that take part in a matmul per token: attention and active
     * feed-forward matrices (router included) of all layers plus the LM head (vocab x d_model, also
     * when tied). Norm gains and the embedding lookup are excluded.
     */
    public long activeMatrixParams() {
        long n = (long) c.vocabSize() * c.dModel();
        for (int l = 0; l < c.nLayers(); l++) {
            n += attentionMatrixParams() + ffnParams(l, true);
        }
        return n;
    }

    /**
     * Cached values per token in one layer: MHA 2 * n_heads * head_dim; MLA kv_lora_rank + rope.
     */
    public long kvCacheValuesPerTokenPerLayer() {
        return c.attention() == AttentionKind.MHA
                ? 2L * c.nHeads() * c.headDim()
                : (long) c.kvLoraRank() + c.qkRopeHeadDim();
    }

    /** Cached values per token over all layers. */
    public long kvCacheValuesPerToken() {
        return kvCacheValuesPerTokenPerLayer() * c.nLayers();
    }

    /**
     * Attention width used by the FLOP formula: {@code n_heads * (qk_head_dim + v_head_dim) / 2},
     * which is {@code n_heads * head_dim} for MHA.
     */
    public double attentionWidth() {
        return c.nHeads() * (c.qkHeadDim() + c.valueHeadDim()) / 2.0;
    }

    /**
     * Training FLOPs per token (forward and backward) at sequence length {@code seqLen}: {@code 6 *
     * activeMatrixParams() + 12 * n_layers * seqLen * attentionWidth()}. The second term counts the
     * score (QK^T) and value (AV) matmuls, 2 FLOPs per multiply-add, times 3 for forward plus
     * backward, over the full sequence (no causal halving, as in PaLM's MFU convention).
     */
    public double flopsPerToken(int seqLen) {
        return 6.0 * activeMatrixParams() + 12.0 * c.nLayers() * (double) seqLen * attentionWidth();
    }
}
