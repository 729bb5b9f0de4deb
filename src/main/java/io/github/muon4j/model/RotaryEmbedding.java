package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Rotary position embedding (RoPE, Su et al.) in the half-split layout: the first and second
 * halves of the rotary slice form the pairs {@code (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1
 * sin)} with angle {@code pos * base^(-2i/dim)}. No parameters; the cos/sin tables are built from
 * Java doubles in the manager of the input, so nothing lives in the model's manager.
 */
public final class RotaryEmbedding extends ModelBlock {

    private final int dim;
    private final double base;

    /**
     * @param dim rotary dimension (even)
     * @param base RoPE base theta
     */
    public RotaryEmbedding(int dim, double base) {
        if (dim % 2 != 0) {
            throw new IllegalArgumentException("RotaryEmbedding dim must be even, got " + dim);
        }
        this.dim = dim;
        this.base = base;
    }

    public int dim() {
        return dim;
    }

    /**
     * Rotates x (..., T, dim) whose T positions start at {@code start}.
     *
     * @return an array of the same shape in x's manager
     */
    public NDArray apply(NDArray x, int start) {
        Shape s = x.getShape();
        int axis = s.dimension() - 1;
        int t = (int) s.get(axis - 1);
        NDArray[] cs = tables(x.getManager(), x.getDataType(), start, t);
        NDList halves = x.split(new long[] {dim / 2}, axis);
        NDArray x1 = halves.get(0);
        NDArray x2 = halves.get(1);
        NDArray a = x1.mul(cs[0]).sub(x2.mul(cs[1]));
        NDArray b = x2.mul(cs[0]).add(x1.mul(cs[1]));
        return NDArrays.concat(new NDList(a, b), axis);
    }

    /** cos and sin tables (T, dim/2) for positions start..start+T-1. */
    private NDArray[] tables(NDManager m, DataType type, int start, int t) {
        int half = dim / 2;
        double[] cos = new double[t * half];
        double[] sin = new double[t * half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, -2.0 * i / dim);
            for (int p = 0; p < t; p++) {
                double angle = (start + p) * freq;
                cos[p * half + i] = Math.cos(angle);
                sin[p * half + i] = Math.sin(angle);
            }
        }
        Shape shape = new Shape(t, half);
        return new NDArray[] {
            Tensors.constant(m, cos, shape, type), Tensors.constant(m, sin, shape, type)
        };
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        return new NDList(apply(inputs.singletonOrThrow(), 0));
    }
}
