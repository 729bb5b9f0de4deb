package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.model.Autocast;

/**
 * Newton-Schulz orthogonalization: an odd matrix polynomial, iterated, that maps a matrix G = U S
 * V^T to about U S' V^T with every singular value S' pushed towards 1. Muon applies it to its
 * momentum to get (nearly) the polar factor msign(G) = U V^T using matrix products only.
 *
 * <p>The last two dimensions of the input are the matrix; leading dimensions are a batch (an expert
 * stack [E, out, in], or same-shape matrices stacked to save calls), and every matrix of the batch
 * is normalized and iterated on its own. Per step, with X the normalized matrix (its transpose when
 * rows &gt; cols, so that the Gram matrix is the small one):
 *
 * <pre>
 *   A = X X^T;  B = b*A + c*A*A;  X = a*X + B X      (X -> a X + b X^3 + c X^5 on singular values)
 * </pre>
 *
 * <p>computed as {@code B = A (c A + b I) + a I; X = B X}: the same polynomial with the identity
 * terms added on the diagonal, so no element-wise pass over the m x n matrix is needed.
 *
 * <p>Cost per matrix and step for m = min(rows, cols), n = max: {@code 4 m^2 n + 2 m^3} FLOPs.
 *
 * <p>A batch is iterated with batched products on a GPU and matrix by matrix on a CPU, where a loop
 * of 2-D products is faster than PyTorch's batched product.
 *
 * <p>The products run in the thread's {@link Autocast} precision (bf16 operands under a bf16 scope,
 * as the reference Muon iterates in bf16); the iterate itself stays float32.
 *
 * <p>Memory: the result is attached to the input's manager (or to a manager the caller names);
 * every intermediate array lives in a sub-manager that is closed before returning.
 */
public final class NewtonSchulz {

    /** Coefficient sets (a, b, c) of the quintic iteration. */
    public enum Coefficients {
        /**
         * Keller Jordan's fixed quintic (3.4445, -4.7750, 2.0315), chosen for a large slope at zero
         * rather than convergence to 1: after 5 steps singular values land in about [0.68, 1.13].
         * The matrix is pre-normalized by {@code ||X||_F + 1e-7}.
         */
        KELLER_JORDAN(1.0f, 1e-7f, new float[][] {{3.4445f, -4.7750f, 2.0315f}}),

        /**
         * Polar Express: a different, minimax-optimal quintic per step (Amsel, Persson, Musco,
         * Gower, "The Polar Express: Optimal Matrix Sign Methods and Their Application to the Muon
         * Algorithm", arXiv 2505.16932). The 5 triples are the published set for 5 iterations,
         * safety factor 2e-2 and cushion 2, as used in KellerJordan/modded-nanogpt and
         * karpathy/nanochat ({@code nanochat/optim.py}); the matrix is pre-normalized by {@code
         * 1.02 ||X||_F + 1e-6} as there.
         *
         * <p>After the 5 published steps singular values lie in about [0.86, 1.14] (the last triple
         * sums to 1.06); steps beyond the fifth use (15/8, -10/8, 3/8), the classical quintic with
         * p(1) = 1 and p'(1) = p''(1) = 0 to which the paper's longer schedules converge. One such
         * step brings singular values to within 1% of 1.
         */
        POLAR_EXPRESS(
                1.02f,
                1e-6f,
                new float[][] {
                    {8.156554524902461f, -22.48329292557795f, 15.878769915207462f},
                    {4.042929935166739f, -2.808917465908714f, 0.5000178451051316f},
                    {3.8916678022926607f, -2.772484153217685f, 0.5060648178503393f},
                    {3.285753657755655f, -2.3681294933425376f, 0.46449024233003106f},
                    {2.3465413258596377f, -1.7097828382687081f, 0.42323551169305323f},
                    {1.875f, -1.25f, 0.375f}
                });

        private final float normScale;
        private final float eps;
        private final float[][] triples;

        Coefficients(float normScale, float eps, float[][] triples) {
            this.normScale = normScale;
            this.eps = eps;
            this.triples = triples;
        }

        /** The (a, b, c) triple of step {@code step} (0-based); the last triple repeats. */
        public float[] triple(int step) {
            return triples[Math.min(step, triples.length - 1)].clone();
        }

        /** The factor applied to the Frobenius norm before dividing by it (1 or 1.02). */
        public float normScale() {
            return normScale;
        }

        /** The constant added to the scaled norm (guards a zero matrix). */
        public float eps() {
            return eps;
        }
    }

    private NewtonSchulz() {}

    /**
     * Orthogonalizes every matrix (last two dims) of {@code g} with the Keller Jordan quintic.
     *
     * @param g float32 array of 2 or more dims; not modified
     * @param steps number of iterations (5 in Muon)
     * @return a new array of g's shape, attached to g's manager
     */
    public static NDArray orthogonalize(NDArray g, int steps) {
        return orthogonalize(g, steps, Coefficients.KELLER_JORDAN, g.getManager());
    }

    /** As {@link #orthogonalize(NDArray, int)} with the given coefficient set. */
    public static NDArray orthogonalize(NDArray g, int steps, Coefficients coefficients) {
        return orthogonalize(g, steps, coefficients, g.getManager());
    }

    /**
     * Orthogonalizes every matrix (last two dims) of {@code g}.
     *
     * @param g float32 array [..., rows, cols]; not modified
     * @param steps number of iterations, at least 1
     * @param coefficients the coefficient set
     * @param target the manager the result is attached to
     * @return a new array [..., rows, cols] attached to {@code target}
     */
    public static NDArray orthogonalize(
            NDArray g, int steps, Coefficients coefficients, NDManager target) {
        return orthogonalize(g, steps, coefficients, target, g.getDevice().isGpu());
    }

    /**
     * As {@link #orthogonalize(NDArray, int, Coefficients, NDManager)}, choosing how a batch is
     * multiplied: batched products (one bmm per product for the whole batch, best on a GPU) or one
     * 2-D product per matrix (about 1.2-1.7x faster on CPU with PyTorch 2.7, where bmm is slower
     * than a loop of gemm calls). Both give the same result to float32 rounding.
     */
    static NDArray orthogonalize(
            NDArray g,
            int steps,
            Coefficients coefficients,
            NDManager target,
            boolean batchedProducts) {
        Shape shape = g.getShape();
        int nd = shape.dimension();
        if (nd < 2) {
            throw new IllegalArgumentException(
                    "g: Newton-Schulz needs a matrix (2 or more dims), got shape " + shape);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (g.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(
                    "g: Newton-Schulz runs in float32, got " + g.getDataType());
        }
        long rows = shape.get(nd - 2);
        long cols = shape.get(nd - 1);
        long batch = shape.size() / Math.max(1, rows * cols);
        try (NDManager scope = g.getManager().newSubManager()) {
            NDArray x;
            if (nd > 2 && batch == 1 && !batchedProducts) {
                NDArray g2 = inScope(g.reshape(rows, cols), scope);
                x = run(g2, steps, coefficients, scope).reshape(shape);
            } else if (nd > 2 && !batchedProducts) {
                // matrix by matrix, each from normalization to result while it is in cache
                NDArray flat = inScope(g.reshape(batch, rows, cols), scope);
                NDList done = new NDList((int) batch);
                for (long k = 0; k < batch; k++) {
                    try (NDArray gk = flat.get(k)) {
                        done.add(run(gk, steps, coefficients, scope));
                    }
                }
                x = inScope(NDArrays.stack(done), scope).reshape(shape);
            } else {
                x = run(g, steps, coefficients, scope);
            }
            x.attach(target);
            return x;
        }
    }

    /** Normalization, orientation and iteration of g [..., rows, cols]; result in scope. */
    private static NDArray run(NDArray g, int steps, Coefficients coefficients, NDManager scope) {
        Shape shape = g.getShape();
        int nd = shape.dimension();
        boolean tall = shape.get(nd - 2) > shape.get(nd - 1);
        // per-matrix Frobenius norm [..., 1, 1]
        NDArray norm = inScope(g.square(), scope).sum(new int[] {nd - 2, nd - 1}, true).sqrt();
        if (coefficients.normScale() != 1f) {
            norm.muli(coefficients.normScale());
        }
        norm.addi(coefficients.eps());
        NDArray x = inScope(g.div(norm), scope);
        if (tall) {
            x = x.swapAxes(nd - 2, nd - 1); // work on the wide orientation: A is m x m
        }
        x = iterate(x, steps, coefficients);
        if (tall) {
            x = x.swapAxes(nd - 2, nd - 1);
        }
        return x;
    }

    /**
     * Runs the iteration on x [..., m, n] (m &lt;= n) and returns the result, a new array in x's
     * manager; x is left as it was. Per step, in three products and one m x m element-wise pass: A
     * = X X^T; B = A (c A + b I) + a I; X = B X, which is a X + b A X + c A^2 X.
     */
    private static NDArray iterate(NDArray x0, int steps, Coefficients coefficients) {
        int nd = x0.getShape().dimension();
        NDArray x = x0;
        for (int i = 0; i < steps; i++) {
            float[] abc = coefficients.triple(i);
            NDArray next;
            try (NDArray xt = x.swapAxes(nd - 2, nd - 1);
                    NDArray a = Autocast.matMul(x, xt);
                    NDArray ca = a.mul(abc[2])) {
                addToDiagonal(ca, abc[1]);
                try (NDArray b = Autocast.matMul(a, ca)) {
                    addToDiagonal(b, abc[0]);
                    next = Autocast.matMul(b, x);
                }
            }
            if (x != x0) {
                x.close();
            }
            x = next;
        }
        return x;
    }

    /** m[..., i, i] += v, in place through a diagonal view. */
    private static void addToDiagonal(NDArray m, float v) {
        int nd = m.getShape().dimension();
        try (NDArray d = m.diagonal(0, nd - 2, nd - 1)) {
            d.addi(v);
        }
    }

    /**
     * FLOPs of one call on one matrix: {@code steps * (4 m^2 n + 2 m^3)} with m = min(rows, cols),
     * n = max(rows, cols).
     */
    public static double flops(long rows, long cols, int steps) {
        double m = Math.min(rows, cols);
        double n = Math.max(rows, cols);
        return steps * (4 * m * m * n + 2 * m * m * m);
    }

    private static NDArray inScope(NDArray a, NDManager scope) {
        a.attach(scope);
        return a;
    }
}
