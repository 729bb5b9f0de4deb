package io.github.muon4j.model;

import java.util.List;
import java.util.Locale;

/**
 * Architecture of a decoder-only language model: sizes, attention kind (MHA or MLA), feed-forward
 * kind (dense SwiGLU or MoE), MoE balancing, normalisation, RoPE, embeddings and initialisation.
 *
 * <p>Every field is validated by the constructor; an impossible combination fails with an {@link
 * IllegalArgumentException} naming the field (in its JSON spelling) and the rule. Field names in
 * JSON are snake_case ({@code n_layers}, {@code d_model}, {@code kv_lora_rank}, ...).
 *
 * <p>Presets ({@link #preset(String)}): {@code tiny}, {@code 6L-256d}, {@code 6L-512d}, {@code
 * 9L-512d}, {@code 12L-768d}, {@code 12L-1024d}. A preset carries the MLA and MoE sizes as well, so
 * {@code withAttention(AttentionKind.MLA)} and {@code withFfn(FfnKind.MOE)} only switch the kind.
 * Derived defaults: {@code head_dim = d_model / n_heads}; MLA {@code kv_lora_rank = d_model / 2},
 * {@code q_lora_rank = 0}, {@code qk_nope_head_dim = v_head_dim = head_dim}, {@code
 * qk_rope_head_dim = head_dim / 2} (DeepSeek-V2's proportions); dense {@code ffn_hidden = 8 d / 3}
 * rounded up to a multiple of 64; MoE {@code expert_hidden = ffn_hidden / (n_shared_experts +
 * top_k)} so that the active expert parameters match the dense feed-forward.
 *
 * <p>{@link ModelSize} ({@link #size()}) counts parameters, KV cache and FLOPs; {@code
 * ModelConfigJson} reads and writes the JSON form ({@link #toJson()}, {@link #fromJson(String)}).
 *
 * @param vocabSize vocabulary size (set by the trainer from the tokenizer)
 * @param contextLength maximum sequence length
 * @param nLayers number of transformer blocks
 * @param dModel residual width
 * @param nHeads attention heads
 * @param headDim MHA head dimension (queries, keys and values)
 * @param attention MHA or MLA
 * @param mla the MLA sizes (used when {@code attention} is MLA)
 * @param ffn DENSE or MOE
 * @param ffnHidden SwiGLU hidden size of dense layers
 * @param moe the MoE sizes and balancing (used when {@code ffn} is MOE)
 * @param normEps RMSNorm epsilon
 * @param ropeBase RoPE base (theta)
 * @param tiedEmbeddings whether the LM head reuses the embedding table
 * @param initScale standard deviation of the normal initialisation
 * @param seed initialisation seed
 */
public record ModelConfig(
        int vocabSize,
        int contextLength,
        int nLayers,
        int dModel,
        int nHeads,
        int headDim,
        AttentionKind attention,
        Mla mla,
        FfnKind ffn,
        int ffnHidden,
        Moe moe,
        double normEps,
        double ropeBase,
        boolean tiedEmbeddings,
        double initScale,
        long seed) {

    /** Byte-level vocabulary: 256 bytes plus one end-of-text token. */
    public static final int BYTE_VOCAB = 257;

    /** GPT-2 BPE vocabulary. */
    public static final int GPT2_VOCAB = 50257;

    /** Names accepted by {@link #preset(String)}, smallest first. */
    public static final List<String> PRESETS =
            List.of("tiny", "6L-256d", "6L-512d", "9L-512d", "12L-768d", "12L-1024d");

    /**
     * Multi-head latent attention sizes (DeepSeek-V2).
     *
     * @param kvLoraRank MLA latent size c (cached)
     * @param qLoraRank MLA query low-rank size, 0 for a plain query projection
     * @param qkNopeHeadDim MLA position-free query/key head dimension
     * @param qkRopeHeadDim MLA rotary query/key head dimension (even); one rotary key per token
     * @param vHeadDim MLA value head dimension
     */
    public record Mla(
            int kvLoraRank, int qLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim) {}

    /**
     * Mixture-of-experts sizes and balancing (DeepSeekMoE, DeepSeek-V3's routing).
     *
     * @param nRoutedExperts routed experts per MoE layer
     * @param nSharedExperts shared (always active) experts per MoE layer
     * @param topK routed experts per token
     * @param expertHidden SwiGLU hidden size of one expert
     * @param scoreFunction router score function
     * @param auxLossCoef sequence-wise balance loss coefficient alpha (0 = off)
     * @param biasUpdateRate loss-free balancing bias step u (0 = off)
     * @param zLossCoef router z-loss coefficient (0 = off)
     * @param nDenseLayers leading layers that stay dense in a MoE model
     */
    public record Moe(
            int nRoutedExperts,
            int nSharedExperts,
            int topK,
            int expertHidden,
            ScoreFunction scoreFunction,
            double auxLossCoef,
            double biasUpdateRate,
            double zLossCoef,
            int nDenseLayers) {}

    /** Validates every field; see the class comment for the rules. */
    public ModelConfig {
        require(mla != null, "mla", "must be given");
        require(moe != null, "moe", "must be given");
        positive("vocab_size", vocabSize);
        positive("context_length", contextLength);
        positive("n_layers", nLayers);
        positive("d_model", dModel);
        positive("n_heads", nHeads);
        positive("head_dim", headDim);
        require(
                dModel % nHeads == 0,
                "n_heads",
                "must divide d_model (d_model=" + dModel + ", n_heads=" + nHeads + ")");
        require(vocabSize >= 2, "vocab_size", "must be at least 2, got " + vocabSize);
        require(attention != null, "attention", "must be MHA or MLA");
        require(ffn != null, "ffn", "must be DENSE or MOE");
        if (attention == AttentionKind.MHA) {
            require(headDim % 2 == 0, "head_dim", "must be even for RoPE with MHA, got " + headDim);
        } else {
            positive("kv_lora_rank", mla.kvLoraRank());
            require(
                    mla.qLoraRank() >= 0,
                    "q_lora_rank",
                    "must be 0 (plain query) or positive, got " + mla.qLoraRank());
            positive("qk_nope_head_dim", mla.qkNopeHeadDim());
            positive("qk_rope_head_dim", mla.qkRopeHeadDim());
            require(
                    mla.qkRopeHeadDim() % 2 == 0,
                    "qk_rope_head_dim",
                    "must be even for RoPE, got " + mla.qkRopeHeadDim());
            positive("v_head_dim", mla.vHeadDim());
        }
        boolean anyDense = ffn == FfnKind.DENSE || moe.nDenseLayers() > 0;
        if (anyDense) {
            positive("ffn_hidden", ffnHidden);
        }
        if (ffn == FfnKind.MOE) {
            positive("n_routed_experts", moe.nRoutedExperts());
            require(
                    moe.nSharedExperts() >= 0,
                    "n_shared_experts",
                    "must be >= 0, got " + moe.nSharedExperts());
            positive("top_k", moe.topK());
            require(
                    moe.topK() <= moe.nRoutedExperts(),
                    "top_k",
                    "must not exceed n_routed_experts (top_k="
                            + moe.topK()
                            + ", n_routed_experts="
                            + moe.nRoutedExperts()
                            + ")");
            positive("expert_hidden", moe.expertHidden());
            require(moe.scoreFunction() != null, "score_function", "must be SOFTMAX or SIGMOID");
            nonNegative("aux_loss_coef", moe.auxLossCoef());
            nonNegative("bias_update_rate", moe.biasUpdateRate());
            nonNegative("z_loss_coef", moe.zLossCoef());
            require(
                    moe.nDenseLayers() >= 0 && moe.nDenseLayers() < nLayers,
                    "n_dense_layers",
                    "must be in [0, n_layers) so that at least one layer is MoE, got "
                            + moe.nDenseLayers());
        } else {
            require(
                    moe.nDenseLayers() >= 0,
                    "n_dense_layers",
                    "must be >= 0, got " + moe.nDenseLayers());
        }
        require(
                normEps > 0 && Double.isFinite(normEps),
                "norm_eps",
                "must be positive, got " + normEps);
        require(
                ropeBase > 1 && Double.isFinite(ropeBase),
                "rope_base",
                "must be > 1, got " + ropeBase);
        require(
                initScale > 0 && Double.isFinite(initScale),
                "init_scale",
                "must be positive, got " + initScale);
    }

    // ------------------------------------------------------------------ the MLA and MoE parts,
    // flat

    /** {@link Mla#kvLoraRank()}. */
    public int kvLoraRank() {
        return mla.kvLoraRank();
    }

    /** {@link Mla#qLoraRank()}. */
    public int qLoraRank() {
        return mla.qLoraRank();
    }

    /** {@link Mla#qkNopeHeadDim()}. */
    public int qkNopeHeadDim() {
        return mla.qkNopeHeadDim();
    }

    /** {@link Mla#qkRopeHeadDim()}. */
    public int qkRopeHeadDim() {
        return mla.qkRopeHeadDim();
    }

    /** {@link Mla#vHeadDim()}. */
    public int vHeadDim() {
        return mla.vHeadDim();
    }

    /** {@link Moe#nRoutedExperts()}. */
    public int nRoutedExperts() {
        return moe.nRoutedExperts();
    }

    /** {@link Moe#nSharedExperts()}. */
    public int nSharedExperts() {
        return moe.nSharedExperts();
    }

    /** {@link Moe#topK()}. */
    public int topK() {
        return moe.topK();
    }

    /** {@link Moe#expertHidden()}. */
    public int expertHidden() {
        return moe.expertHidden();
    }

    /** {@link Moe#scoreFunction()}. */
    public ScoreFunction scoreFunction() {
        return moe.scoreFunction();
    }

    /** {@link Moe#auxLossCoef()}. */
    public double auxLossCoef() {
        return moe.auxLossCoef();
    }

    /** {@link Moe#biasUpdateRate()}. */
    public double biasUpdateRate() {
        return moe.biasUpdateRate();
    }

    /** {@link Moe#zLossCoef()}. */
    public double zLossCoef() {
        return moe.zLossCoef();
    }

    /** {@link Moe#nDenseLayers()}. */
    public int nDenseLayers() {
        return moe.nDenseLayers();
    }

    // ------------------------------------------------------------------ presets

    /**
     * A named preset with MHA and a dense feed-forward, at the byte-level vocabulary (257) for
     * {@code tiny} and the GPT-2 vocabulary (50257) for the paper sizes. Combine with {@link
     * #withAttention}, {@link #withFfn} and {@link #withVocab}.
     *
     * @param name one of {@link #PRESETS} (case-insensitive)
     */
    public static ModelConfig preset(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        switch (n) {
            case "tiny":
                // 4L/192d/6h; MoE: 16 fine-grained experts = 2 shared + top-2 of 14 routed
                return sized(4, 192, 6, 256, BYTE_VOCAB).routed(14, 2, 2).build();
            case "6l-256d":
                return paper(6, 256, 8);
            case "6l-512d":
                return paper(6, 512, 8);
            case "9l-512d":
                return paper(9, 512, 8);
            case "12l-768d":
                return paper(12, 768, 12);
            case "12l-1024d":
                return paper(12, 1024, 16);
            default:
                throw new IllegalArgumentException(
                        "preset: unknown name '" + name + "', expected one of " + PRESETS);
        }
    }

    /** Paper family: context 512, GPT-2 vocabulary, 64 experts = 2 shared + top-6 of 62 routed. */
    private static ModelConfig paper(int layers, int d, int heads) {
        return sized(layers, d, heads, 512, GPT2_VOCAB).routed(62, 2, 6).build();
    }

    private static Builder sized(int layers, int d, int heads, int context, int vocab) {
        Builder b = new Builder();
        b.vocabSize = vocab;
        b.contextLength = context;
        b.nLayers = layers;
        b.dModel = d;
        b.nHeads = heads;
        b.attention = AttentionKind.MHA;
        b.ffn = FfnKind.DENSE;
        // DeepSeek-V3's routing: sigmoid scores, selection-only bias balancing, a small
        // sequence-wise auxiliary loss, no z-loss
        b.scoreFunction = ScoreFunction.SIGMOID;
        b.auxLossCoef = 1e-4;
        b.biasUpdateRate = 1e-3;
        b.zLossCoef = 0;
        b.nDenseLayers = 0;
        b.normEps = 1e-6;
        b.ropeBase = 10000;
        b.tiedEmbeddings = true;
        b.initScale = 0.02;
        b.seed = 42;
        return b;
    }

    // ------------------------------------------------------------------ withers

    /** A mutable copy for changing several fields at once. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public ModelConfig withAttention(AttentionKind a) {
        Builder b = toBuilder();
        b.attention = a;
        return b.build();
    }

    public ModelConfig withFfn(FfnKind f) {
        Builder b = toBuilder();
        b.ffn = f;
        return b.build();
    }

    public ModelConfig withVocab(int vocab) {
        Builder b = toBuilder();
        b.vocabSize = vocab;
        return b.build();
    }

    public ModelConfig withContextLength(int context) {
        Builder b = toBuilder();
        b.contextLength = context;
        return b.build();
    }

    public ModelConfig withSeed(long s) {
        Builder b = toBuilder();
        b.seed = s;
        return b.build();
    }

    public ModelConfig withTiedEmbeddings(boolean tied) {
        Builder b = toBuilder();
        b.tiedEmbeddings = tied;
        return b.build();
    }

    /** Routed/shared expert counts and top-k; the expert hidden size is re-derived. */
    public ModelConfig withExperts(int routed, int shared, int k) {
        return toBuilder().routed(routed, shared, k).build();
    }

    /** Router score function and balancing: aux-loss alpha, bias step u, z-loss coefficient. */
    public ModelConfig withBalancing(ScoreFunction score, double aux, double biasRate, double z) {
        Builder b = toBuilder();
        b.scoreFunction = score;
        b.auxLossCoef = aux;
        b.biasUpdateRate = biasRate;
        b.zLossCoef = z;
        return b.build();
    }

    // ------------------------------------------------------------------ counts

    /** True when layer {@code layer} (0-based) uses the MoE feed-forward. */
    public boolean isMoeLayer(int layer) {
        return ffn == FfnKind.MOE && layer >= nDenseLayers();
    }

    /** Number of MoE layers. */
    public int moeLayers() {
        return ffn == FfnKind.MOE ? nLayers - nDenseLayers() : 0;
    }

    /** Query/key head dimension used in the attention scores. */
    public int qkHeadDim() {
        return attention == AttentionKind.MHA ? headDim : qkNopeHeadDim() + qkRopeHeadDim();
    }

    /** Value head dimension. */
    public int valueHeadDim() {
        return attention == AttentionKind.MHA ? headDim : vHeadDim();
    }

    /** Rotary dimension per head (MHA: the whole head; MLA: the decoupled slice). */
    public int ropeDim() {
        return attention == AttentionKind.MHA ? headDim : qkRopeHeadDim();
    }

    // ------------------------------------------------------------------ sizes (see ModelSize)

    /** Parameter, FLOP and KV-cache accounting of this architecture. */
    public ModelSize size() {
        return new ModelSize(this);
    }

    /** All parameters: {@link ModelSize#totalParams()}. */
    public long totalParams() {
        return size().totalParams();
    }

    /** Parameters used per token: {@link ModelSize#activeParams()}. */
    public long activeParams() {
        return size().activeParams();
    }

    /** Cached values per token over all layers: {@link ModelSize#kvCacheValuesPerToken()}. */
    public long kvCacheValuesPerToken() {
        return size().kvCacheValuesPerToken();
    }

    /** Training FLOPs per token: {@link ModelSize#flopsPerToken(int)}. */
    public double flopsPerToken(int seqLen) {
        return size().flopsPerToken(seqLen);
    }

    // ------------------------------------------------------------------ JSON (see ModelConfigJson)

    /** All fields as pretty JSON with snake_case names, loadable by {@link #fromJson}. */
    public String toJson() {
        return ModelConfigJson.toJson(this);
    }

    /**
     * Reads a config from JSON. Fields not given come from {@code "preset"} (default {@code tiny});
     * when sizes change, fields derived from them (head_dim, kv_lora_rank, ffn_hidden,
     * expert_hidden, ...) are re-derived unless given too. Unknown keys are rejected.
     */
    public static ModelConfig fromJson(String json) {
        return ModelConfigJson.fromJson(json);
    }

    private static void positive(String field, long v) {
        require(v > 0, field, "must be positive, got " + v);
    }

    private static void nonNegative(String field, double v) {
        require(v >= 0 && Double.isFinite(v), field, "must be >= 0, got " + v);
    }

    private static void require(boolean ok, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("model config " + field + ": " + rule);
        }
    }

    /** Mutable form of {@link ModelConfig}; {@link #build()} validates. */
    public static final class Builder {
        public int vocabSize;
        public int contextLength;
        public int nLayers;
        public int dModel;
        public int nHeads;
        public int headDim;
        public AttentionKind attention;
        public int kvLoraRank;
        public int qLoraRank;
        public int qkNopeHeadDim;
        public int qkRopeHeadDim;
        public int vHeadDim;
        public FfnKind ffn;
        public int ffnHidden;
        public int nRoutedExperts;
        public int nSharedExperts;
        public int topK;
        public int expertHidden;
        public ScoreFunction scoreFunction;
        public double auxLossCoef;
        public double biasUpdateRate;
        public double zLossCoef;
        public int nDenseLayers;
        public double normEps;
        public double ropeBase;
        public boolean tiedEmbeddings;
        public double initScale;
        public long seed;

        Builder() {}

        Builder(ModelConfig c) {
            vocabSize = c.vocabSize;
            contextLength = c.contextLength;
            nLayers = c.nLayers;
            dModel = c.dModel;
            nHeads = c.nHeads;
            headDim = c.headDim;
            attention = c.attention;
            kvLoraRank = c.kvLoraRank();
            qLoraRank = c.qLoraRank();
            qkNopeHeadDim = c.qkNopeHeadDim();
            qkRopeHeadDim = c.qkRopeHeadDim();
            vHeadDim = c.vHeadDim();
            ffn = c.ffn;
            ffnHidden = c.ffnHidden;
            nRoutedExperts = c.nRoutedExperts();
            nSharedExperts = c.nSharedExperts();
            topK = c.topK();
            expertHidden = c.expertHidden();
            scoreFunction = c.scoreFunction();
            auxLossCoef = c.auxLossCoef();
            biasUpdateRate = c.biasUpdateRate();
            zLossCoef = c.zLossCoef();
            nDenseLayers = c.nDenseLayers();
            normEps = c.normEps;
            ropeBase = c.ropeBase;
            tiedEmbeddings = c.tiedEmbeddings;
            initScale = c.initScale;
            seed = c.seed;
        }

        /** Sets routed/shared experts and top-k, then re-derives the expert hidden size. */
        Builder routed(int routed, int shared, int k) {
            nRoutedExperts = routed;
            nSharedExperts = shared;
            topK = k;
            deriveDefaults();
            return this;
        }

        /** Recomputes the fields derived from d_model, n_heads and the expert counts. */
        public Builder deriveDefaults() {
            headDim = nHeads > 0 ? dModel / nHeads : 0;
            kvLoraRank = dModel / 2;
            qLoraRank = 0;
            qkNopeHeadDim = headDim;
            qkRopeHeadDim = Math.max(2, headDim / 2 / 2 * 2);
            vHeadDim = headDim;
            ffnHidden = (int) Math.ceil(8.0 * dModel / 3.0 / 64.0) * 64;
            int active = nSharedExperts + topK;
            expertHidden = active > 0 ? Math.max(1, ffnHidden / active) : ffnHidden;
            return this;
        }

        /** Validates and returns the config. */
        public ModelConfig build() {
            return new ModelConfig(
                    vocabSize,
                    contextLength,
                    nLayers,
                    dModel,
                    nHeads,
                    headDim,
                    attention,
                    new Mla(kvLoraRank, qLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim),
                    ffn,
                    ffnHidden,
                    new Moe(
                            nRoutedExperts,
                            nSharedExperts,
                            topK,
                            expertHidden,
                            scoreFunction,
                            auxLossCoef,
                            biasUpdateRate,
                            zLossCoef,
                            nDenseLayers),
                    normEps,
                    ropeBase,
                    tiedEmbeddings,
                    initScale,
                    seed);
        }
    }
}
