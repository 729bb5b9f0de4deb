package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/** A position-wise feed-forward: (..., d_model) -> (..., d_model), plus MoE balance terms. */
public interface FeedForward {

    /**
     * @param out the output (..., d_model)
     * @param balanceLoss weighted aux + z loss (scalar), or null for a dense layer
     * @param expertLoad tokens routed to each expert in this forward, or null for a dense layer
     */
    record Result(NDArray out, NDArray balanceLoss, float[] expertLoad) {}

    Result apply(ParameterStore ps, NDArray x, boolean training);
}
