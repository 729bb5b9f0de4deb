package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.optim.ParamRole;

/**
 * RMSNorm: {@code y = x / sqrt(mean(x^2) + eps) * gain} over the last axis (no bias, no centring).
 */
public final class RMSNorm extends ModelBlock {

    private final Parameter gain;
    private final double eps;

    /**
     * @param dim size of the normalised (last) axis
     * @param eps added to the mean square
     */
    public RMSNorm(int dim, double eps) {
        this.eps = eps;
        this.gain = param("gain", ParamRole.NORM, 0, dim);
    }

    /** x (..., dim) -> (..., dim). */
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        int last = x.getShape().dimension() - 1;
        NDArray rms = Tensors.plus(x.square().mean(new int[] {last}, true), eps).sqrt();
        return x.div(rms).mul(value(ps, gain, training));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training));
    }
}
