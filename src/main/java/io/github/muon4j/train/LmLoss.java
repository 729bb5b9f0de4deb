package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;

/** Next-token cross-entropy of a language model. */
public final class LmLoss {

    private LmLoss() {}

    /**
     * Mean negative log-likelihood of {@code targets} under {@code logits}.
     *
     * @param logits (B, T, V) float
     * @param targets (B, T) integer token ids
     * @return scalar loss, attached to the logits' manager
     */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logp = logits.logSoftmax(-1); //                         (B, T, V)
        NDArray picked = logp.gather(targets.toType(ai.djl.ndarray.types.DataType.INT64, false).expandDims(-1), -1); // (B, T, 1)
        return picked.mean().neg();
    }
}
