package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/** A causal self-attention layer: (B, T, d_model) -> (B, T, d_model). */
interface SelfAttention {

    /** Full-sequence causal attention (training form), positions 0..T-1. */
    NDArray forward(ParameterStore ps, NDArray x, boolean training);
}
