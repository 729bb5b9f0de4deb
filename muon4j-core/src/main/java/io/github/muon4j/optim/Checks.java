package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Input checks shared by the optimizers; all run before any array is changed. */
final class Checks {

    private Checks() {}

    /**
     * Refuses a weight/gradient pair of different shapes or a non-float32 type, and a gradient that
     * holds NaN or an infinity. One reduction (the sum) over the gradient; only when that sum is
     * not finite are the elements inspected, so a sum that merely overflows passes.
     */
    static void weightAndGrad(String name, NDArray weight, NDArray grad) {
        if (!weight.getShape().equals(grad.getShape())) {
            throw new IllegalArgumentException(
                    "parameter '"
                            + name
                            + "': gradient shape "
                            + grad.getShape()
                            + " differs from weight shape "
                            + weight.getShape());
        }
        if (weight.getDataType() != DataType.FLOAT32 || grad.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    "parameter '"
                            + name
                            + "': weight and gradient must be float32, got "
                            + weight.getDataType()
                            + " and "
                            + grad.getDataType());
        }
        float sum;
        try (NDArray s = grad.sum()) {
            sum = s.getFloat();
        }
        if (!Float.isFinite(sum)) {
            boolean bad;
            try (NDArray nan = grad.isNaN();
                    NDArray anyNan = nan.any();
                    NDArray inf = grad.isInfinite();
                    NDArray anyInf = inf.any()) {
                bad = anyNan.getBoolean() || anyInf.getBoolean();
            }
            if (bad) {
                throw new NonFiniteGradientException(name);
            }
        }
    }

    /** Refuses a NaN or infinite learning rate or weight decay. */
    static void hyper(String name, float lr, float wd) {
        if (!Float.isFinite(lr) || !Float.isFinite(wd)) {
            throw new IllegalArgumentException(
                    "parameter '"
                            + name
                            + "': learning rate "
                            + lr
                            + " or weight decay "
                            + wd
                            + " is not finite");
        }
    }

    /** A builder's argument that must be given: {@code what must not be null}. */
    static <T> T given(String what, T value) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return value;
    }

    /** A moving-average decay (momentum, beta) in [0, 1). */
    static float decay(String what, float value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1), got " + value);
        }
        return value;
    }
}
