package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Constants that are safe inside an autograd graph.
 *
 * <p>On CPU, DJL's PyTorch engine wraps arrays created from Java data around a direct buffer
 * without copying ({@code from_blob}); the buffer lives only as long as the Java handle. An op such
 * as {@code x.mul(2.0)} creates such a scalar and closes it at once, yet PyTorch's autograd keeps
 * the tensor to compute the backward pass, which then reads freed memory (observed as random zero
 * or NaN gradients). Every constant used on a differentiable path is therefore created here as a
 * tensor that owns its memory.
 */
public final class Tensors {

    private Tensors() {}

    /** A copy of {@code a} in memory owned by the engine; {@code a} is closed. */
    public static NDArray owned(NDArray a) {
        NDArray c = a.duplicate();
        a.close();
        return c;
    }

    /** An engine-owned array of the given type from doubles. */
    public static NDArray constant(NDManager m, double[] v, Shape shape, DataType type) {
        NDArray a;
        if (type == DataType.FLOAT64) {
            a = m.create(v, shape);
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            a = m.create(f, shape);
            if (type != DataType.FLOAT32) {
                NDArray t = a.toType(type, false);
                a.close();
                a = t;
            }
        }
        return owned(a);
    }

    /** An engine-owned array of the given type from floats. */
    public static NDArray constant(NDManager m, float[] v, Shape shape, DataType type) {
        NDArray a = m.create(v, shape);
        if (type != DataType.FLOAT32) {
            NDArray t = a.toType(type, false);
            a.close();
            return t; // toType to another type copies into engine memory
        }
        return owned(a);
    }

    /** {@code x * v} with an engine-owned scalar in x's manager and type. */
    public static NDArray scale(NDArray x, double v) {
        return x.mul(constant(x.getManager(), new double[] {v}, new Shape(), x.getDataType()));
    }

    /** {@code x + v} with an engine-owned scalar in x's manager and type. */
    public static NDArray plus(NDArray x, double v) {
        return x.add(constant(x.getManager(), new double[] {v}, new Shape(), x.getDataType()));
    }
}
