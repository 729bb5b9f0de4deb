package io.github.muon4j.infer;

/**
 * The threads that take part in a {@link BatchDecoder} step, the kernels they run, and the matrix
 * product {@code y = x W^T} split over them by output rows. A section whose multiply-adds fall
 * below {@link #parallelMin} runs on the calling thread alone.
 */
final class Team implements AutoCloseable {

    final Kernels k;
    private final Parallel par;
    private long parallelMin;
    private final MatmulTask mmTask = new MatmulTask();

    Team(Kernels k, int threads, long parallelMin) {
        this.k = k;
        this.par = new Parallel(threads);
        this.parallelMin = parallelMin;
    }

    int threads() {
        return par.threads();
    }

    /** Sections of fewer multiply-adds run on one thread (tests lower it to 1). */
    void parallelMin(long macs) {
        parallelMin = macs;
    }

    /** Items [0, n) of {@code costPerItem} multiply-adds each, shared between the threads. */
    void forRange(int n, long costPerItem, Parallel.Body body) {
        par.forRange(n, costPerItem, parallelMin, body);
    }

    /**
     * y (m, rows) = x (m, n) W^T: W [rows][n] row-major at {@code wt[wo]}, input rows at {@code
     * xin[xo + i*xs]}, output rows at {@code y[yo + i*ys]}. Each thread takes a range of W's rows.
     */
    void matmul(
            float[] wt,
            int wo,
            int rows,
            int n,
            float[] xin,
            int xo,
            int xs,
            int m,
            float[] y,
            int yo,
            int ys) {
        MatmulTask t = mmTask;
        t.wt = wt;
        t.wo = wo;
        t.n = n;
        t.xin = xin;
        t.xo = xo;
        t.xs = xs;
        t.m = m;
        t.y = y;
        t.yo = yo;
        t.ys = ys;
        par.forRange(rows, (long) n * m, parallelMin, t);
    }

    /** One range of W's rows of the product {@link #matmul} was last called with. */
    private final class MatmulTask implements Parallel.Body {
        private float[] wt, xin, y;
        private int wo, n, xo, xs, m, yo, ys;

        @Override
        public void run(int chunk, int from, int to) {
            k.matmul(wt, wo, n, xin, xo, xs, m, y, yo, ys, from, to);
        }
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        par.close();
    }
}
