package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/** DJL's optimizer contract: the gradient an update consumed is zeroed in place afterwards. */
final class Gradients {

    private Gradients() {}

    /**
     * Zeroes the gradient of {@code weight} in place (as DJL's own optimizers do after their
     * update), so that the next backward pass starts from zero; NaN-safe, unlike {@code g - g}. A
     * weight with no gradient (a plain array) is left alone. The gradient handle and the scalar the
     * assignment creates live in a sub-manager closed before returning.
     */
    static void zero(NDArray weight) {
        if (!weight.hasGradient()) {
            return;
        }
        try (NDManager scope = weight.getManager().newSubManager()) {
            NDArray g = weight.getGradient();
            g.attach(scope);
            g.set(new NDIndex(":"), 0f);
        }
    }
}
