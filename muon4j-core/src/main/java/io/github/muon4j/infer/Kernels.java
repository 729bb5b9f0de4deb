package io.github.muon4j.infer;

/**
 * The inner loops of {@link BatchDecoder} over plain {@code float[]}: dot products, axpy and
 * row-blocked matrix products. Two implementations compute the same sums: SIMD through {@code
 * jdk.incubator.vector} when the JVM was started with {@code --add-modules jdk.incubator.vector}
 * (the launcher does this for {@code generate} and {@code bench inference}), and plain Java loops
 * with several accumulators otherwise. {@code -Dmuon4j.simd=false} forces the plain loops.
 */
public abstract class Kernels {

    private static final Kernels ACTIVE = pick();

    /** The implementation in use. */
    public static Kernels get() {
        return ACTIVE;
    }

    /** The plain-Java implementation (always available). */
    public static Kernels plain() {
        return new PlainKernels();
    }

    /** The SIMD implementation, or null when the JVM does not have jdk.incubator.vector. */
    public static Kernels simd() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return (Kernels)
                    Class.forName("io.github.muon4j.infer.VectorKernels")
                            .getDeclaredConstructor()
                            .newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    private static Kernels pick() {
        Kernels k = Boolean.parseBoolean(System.getProperty("muon4j.simd", "true")) ? simd() : null;
        return k != null ? k : plain();
    }

    /** Short description, e.g. "SIMD 512-bit (16 floats)" or "plain Java". */
    public abstract String name();

    /** sum_i a[ao + i] * b[bo + i], i &lt; n. */
    public abstract float dot(float[] a, int ao, float[] b, int bo, int n);

    /** y[yo + i] += alpha * x[xo + i], i &lt; n. */
    public abstract void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /**
     * Rows r0..r1-1 of {@code Y = X W^T} for m input rows: {@code y[yo + b*ys + r] = dot(W row r, x
     * row b)}, with W [rows][n] row-major at {@code wo} and x rows of n at {@code xo + b*xs}. Each
     * block of weight rows is read once for all m input rows.
     */
    public abstract void matmul(
            float[] w,
            int wo,
            int n,
            float[] x,
            int xo,
            int xs,
            int m,
            float[] y,
            int yo,
            int ys,
            int r0,
            int r1);

    /**
     * Softmax numerator in place: {@code a[o + i] = exp((a[o + i] - max) * scale)}, i &lt; n.
     *
     * @return the sum of the new values
     */
    public abstract float expShift(float[] a, int o, int n, float max, float scale);

    /**
     * Weighted sum of n rows: {@code y[yo + i] += sum_t p[po + t] * v[vo + t*vs + i]}, i &lt; len,
     * keeping the accumulators in registers across the rows.
     */
    public abstract void weightedSum(
            float[] p, int po, int n, float[] v, int vo, int vs, float[] y, int yo, int len);

    /**
     * {@link #weightedSum} for h weight rows over the same n rows of v: {@code y[yo + j*ys + i] +=
     * sum_t p[po + j*ps + t] * v[vo + t*vs + i]}, j &lt; h, reading each row of v once for 4 of
     * them.
     */
    public void weightedSums(
            float[] p,
            int po,
            int ps,
            int h,
            int n,
            float[] v,
            int vo,
            int vs,
            float[] y,
            int yo,
            int ys,
            int len) {
        for (int j = 0; j < h; j++) {
            weightedSum(p, po + j * ps, n, v, vo, vs, y, yo + j * ys, len);
        }
    }

    /**
     * Floats of the workspace that {@link #prepareQueries} fills and {@link #latentScores} reads
     * for h query rows of width n: the queries in this implementation's layout and any scratch the
     * scores need. Here (the plain reference) the rows as given, h n floats.
     */
    public int latentWorkspace(int h, int n) {
        return h * n;
    }

    /**
     * Lays out h query rows q (h, n), row-major at {@code q[qo]}, in the workspace {@code ws} (at
     * least {@link #latentWorkspace}(h, n) floats) for {@link #latentScores}; once per query block,
     * reused for every block of cached positions. Here a plain copy.
     */
    public void prepareQueries(float[] q, int qo, int h, int n, float[] ws) {
        System.arraycopy(q, qo, ws, 0, h * n);
    }

    /**
     * MLA's absorbed scores for a block of cached positions: {@code s[so + j*ss + t] = q_j . c_t}
     * for j &lt; h, t &lt; count, with the queries q_j = [q_lat | q_pe] prepared in {@code ws} by
     * {@link #prepareQueries} and the cached rows c_t = [c_KV | k_pe] (n wide) at {@code c[co +
     * t*n]}. Here the reference: {@link #matmul} with the cached rows as the weight rows (one dot
     * product, and with SIMD one lane reduction, per position and head).
     */
    public void latentScores(
            float[] ws, int h, int n, float[] c, int co, int count, float[] s, int so, int ss) {
        matmul(c, co, n, ws, 0, n, h, s, so, ss, 0, count);
    }

    /** Sum of a[from..to): a streaming read, for the bandwidth ceiling. */
    public abstract double sum(float[] a, int from, int to);
}
