package io.github.muon4j.model;

/** How the MoE router turns logits into expert scores. */
public enum ScoreFunction {
    /** softmax over the routed experts; top-k weights are the raw probabilities */
    SOFTMAX,
    /** independent sigmoids; the top-k weights are renormalized to sum to 1 (DeepSeek-V3) */
    SIGMOID
}
