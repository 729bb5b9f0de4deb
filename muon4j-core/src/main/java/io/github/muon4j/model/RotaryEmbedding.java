package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.TorchScript;
import java.util.Arrays;

/**
 * Rotary position embedding (RoPE, Su et al.) in the half-split layout: the first and second halves
 * of the rotary slice form the pairs {@code (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)} with
 * angle {@code pos * base^(-2i/dim)} ({@link #apply}); or, for vectors stored pair by pair, the
 * same rotation as one complex product ({@link #applyPaired}). No parameters; the cos/sin tables
 * are computed once in Java (grown on demand) and copied into the manager of the input at each
 * call, so nothing lives in the model's manager.
 */
public final class RotaryEmbedding extends ModelBlock {

    private final int dim;
    private final double base;
    private Table table = new Table(0, new double[0], new double[0], new float[0], new float[0]);

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

    /**
     * The same rotation for vectors stored in pair order: {@code (x1_0, x2_0, x1_1, x2_1, ...)}
     * instead of the two halves (see {@link #pairOrder}). Each pair is then one complex number and
     * the rotation one complex product {@code (x1 + i x2)(cos + i sin)} in libtorch, forward and
     * backward, where {@link #apply} takes six half-size element-wise operations and a
     * concatenation. The result is {@link #apply}'s, in pair order.
     *
     * @param y (B, T, heads, dim), float32 or float64, pairs side by side, T positions from {@code
     *     start}
     * @return (B, T, heads, dim) in pair order, in y's manager
     */
    public NDArray applyPaired(NDArray y, int start) {
        int t = (int) y.getShape().get(1);
        int half = dim / 2;
        int from = start * half;
        Shape shape = new Shape(t, 1, half, 2);
        Table tab = cached(start + t);
        DataType type = y.getDataType();
        // (T, 1, dim/2, 2): (cos, sin) side by side, from the half-split tables; rounded to y's
        // type by constant(), as the float table is
        double[] pairs = new double[2 * t * half];
        for (int k = 0; k < t * half; k++) {
            pairs[2 * k] = tab.cos[from + k];
            pairs[2 * k + 1] = tab.sin[from + k];
        }
        NDArray cs = Tensors.constant(y.getManager(), pairs, shape, type);
        NDArray r = PAIRED.forwardEager(new NDList(y, cs)).singletonOrThrow();
        r.attach(y.getManager());
        return r;
    }

    /**
     * The rows of a (heads * dim, in) projection in pair order, per head: row {@code h * dim + 2 i
     * + j} of the result is row {@code h * dim + j * dim / 2 + i} of the projection (j = 0: the
     * first half's i-th, j = 1: the second half's).
     */
    public long[] pairOrder(int heads) {
        long[] rows = new long[heads * dim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < dim / 2; i++) {
                for (int j = 0; j < 2; j++) {
                    rows[h * dim + 2 * i + j] = h * dim + j * (dim / 2) + i;
                }
            }
        }
        return rows;
    }

    /**
     * y (..., dim) in pair order times cs (T, 1, dim/2, 2) (cos, sin), both as complex numbers;
     * view_as_complex needs the pairs adjacent, which the unflatten of y's last axis gives.
     */
    private static final TorchScript PAIRED =
            new TorchScript(
                    "PairedRope",
                    "y: Tensor, cs: Tensor",
                    "Tensor",
                    "z = torch.view_as_complex(torch.unflatten(y, -1, [-1, 2]))",
                    "r = torch.view_as_real(torch.mul(z, torch.view_as_complex(cs)))",
                    "return torch.flatten(r, -2, -1)");

    /** cos and sin tables (T, dim/2) for positions start..start+T-1, from the Java cache. */
    private NDArray[] tables(NDManager m, DataType type, int start, int t) {
        int from = start * (dim / 2);
        int to = (start + t) * (dim / 2);
        Shape shape = new Shape(t, dim / 2);
        Table tab = cached(start + t);
        if (type == DataType.FLOAT32) {
            return new NDArray[] {
                Tensors.constant(m, Arrays.copyOfRange(tab.cosF, from, to), shape, type),
                Tensors.constant(m, Arrays.copyOfRange(tab.sinF, from, to), shape, type)
            };
        }
        return new NDArray[] {
            Tensors.constant(m, Arrays.copyOfRange(tab.cos, from, to), shape, type),
            Tensors.constant(m, Arrays.copyOfRange(tab.sin, from, to), shape, type)
        };
    }

    /**
     * cos/sin for {@code positions} positions (pos-major, dim/2 frequencies), in double and float.
     */
    private record Table(int positions, double[] cos, double[] sin, float[] cosF, float[] sinF) {}

    /** The table for at least {@code positions} positions, computed once and grown by doubling. */
    private synchronized Table cached(int positions) {
        if (table.positions() >= positions) {
            return table;
        }
        int half = dim / 2;
        int n = Math.max(positions, 2 * table.positions());
        double[] c = new double[n * half];
        double[] s = new double[n * half];
        float[] cf = new float[n * half];
        float[] sf = new float[n * half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, -2.0 * i / dim);
            for (int p = 0; p < n; p++) {
                c[p * half + i] = Math.cos(p * freq);
                s[p * half + i] = Math.sin(p * freq);
                cf[p * half + i] = (float) c[p * half + i];
                sf[p * half + i] = (float) s[p * half + i];
            }
        }
        table = new Table(n, c, s, cf, sf);
        return table;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(inputs.singletonOrThrow(), 0));
    }
}
