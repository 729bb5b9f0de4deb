package io.github.muon4j.optim;

/**
 * What a parameter is in the model. The optimizer routes by role, not by shape: the embedding and
 * the LM head are 2-D like hidden matrices, yet they belong to AdamW.
 */
public enum ParamRole {
    /** token embedding table [vocab, d_model] */
    EMBEDDING,
    /** LM head [vocab, d_model] (absent when tied to the embedding) */
    HEAD,
    /** a hidden weight matrix [out, in]: attention and feed-forward projections */
    HIDDEN_MATRIX,
    /** stacked expert weights [E, out, in], orthogonalized matrix by matrix */
    EXPERT_STACK,
    /** RMSNorm gains */
    NORM,
    /** biases */
    BIAS,
    /** MoE router (gate) weights */
    ROUTER,
    /** anything else: a 1-D weight, a convolution kernel (updated by AdamW) */
    OTHER;

    /** True for the roles that Muon updates; everything else goes to AdamW. */
    public boolean isMuon() {
        return this == HIDDEN_MATRIX || this == EXPERT_STACK;
    }
}
