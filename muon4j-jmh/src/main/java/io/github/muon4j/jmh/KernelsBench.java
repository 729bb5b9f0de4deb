package io.github.muon4j.jmh;

import io.github.muon4j.infer.Kernels;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The decode kernels, SIMD against plain Java, at decode shapes: a weight block times one or a few
 * input rows ({@code matmul}), a dot product of one head, the softmax numerator and the weighted sum
 * of value rows over a context. Results agree with the plain kernels (KernelsTest in muon4j-core).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelsBench {

    @Param({"simd", "plain"})
    public String kernels;

    /** d_model (and the width of a weight row). */
    @Param({"512"})
    public int d;

    /** Positions attended (context). */
    @Param({"128", "4096"})
    public int context;

    /**
     * MLA heads attending together (a work item's head group: all heads of the model, 8 to 16 in
     * the presets, or fewer when a sequence's heads are split between threads). With 512-bit
     * vectors the SIMD scores kernel puts heads in the lanes from 9 heads on; try -p heads=4,8,16.
     */
    @Param({"16"})
    public int heads;

    private Kernels k;
    private float[] w;   // [d][d] weight block, row-major
    private float[] x;   // [4][d] input rows
    private float[] y;   // [4][d] output rows
    private float[] p;   // [context] attention weights
    private float[] v;   // [context][64] value rows of one head
    private int row;     // MLA cache row: kv_rank + rope = d/2 + 32 (the presets' derived sizes)
    private float[] latent;  // [context][row] MLA cache rows [c_KV | k_pe]
    private float[] qlat;    // [heads][row] absorbed queries [q_lat | q_pe]
    private float[] ws;      // [latentWorkspace(heads, row)] the queries in the kernel's layout
    private float[] block;   // [heads][32] scores of one block of positions

    @Setup
    public void setUp() {
        k = kernels.equals("simd") && Kernels.simd() != null ? Kernels.simd() : Kernels.plain();
        Random r = new Random(1);
        w = fill(r, d * d);
        x = fill(r, 4 * d);
        y = new float[4 * d];
        p = fill(r, context);
        v = fill(r, context * 64);
        row = d / 2 + 32;
        latent = fill(r, context * row);
        qlat = fill(r, heads * row);
        ws = new float[k.latentWorkspace(heads, row)];
        block = new float[heads * 32];
    }

    private static float[] fill(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** One d x d projection of one row (batch 1). */
    @Benchmark
    public float[] matmulBatch1() {
        k.matmul(w, 0, d, x, 0, d, 1, y, 0, d, 0, d);
        return y;
    }

    /** One d x d projection of 4 rows, each weight block read once. */
    @Benchmark
    public float[] matmulBatch4() {
        k.matmul(w, 0, d, x, 0, d, 4, y, 0, d, 0, d);
        return y;
    }

    /** One head's query . key (64 wide) over the context, as the scores loop does. */
    @Benchmark
    public float scores() {
        float s = 0;
        for (int t = 0; t < context; t++) {
            s += k.dot(x, 0, v, t * 64, 64);
        }
        return s;
    }

    /** Softmax numerator over the context. */
    @Benchmark
    public float expShift() {
        return k.expShift(p.clone(), 0, context, 1f, 0.125f);
    }

    /** One head's weighted sum of value rows over the context. */
    @Benchmark
    public float[] weightedSum() {
        k.weightedSum(p, 0, context, v, 0, 64, y, 0, 64);
        return y;
    }

    /**
     * MLA's absorbed scores of a head group over the context in blocks of 32 positions, as
     * MlaAttention does: the queries laid out once, then {@code latentScores} per block (SIMD:
     * heads in the lanes from more than half a vector of heads on, no lane reductions).
     */
    @Benchmark
    public float[] mlaScores() {
        k.prepareQueries(qlat, 0, heads, row, ws);
        for (int t0 = 0; t0 < context; t0 += 32) {
            int len = Math.min(32, context - t0);
            k.latentScores(ws, heads, row, latent, t0 * row, len, block, 0, 32);
        }
        return block;
    }

    /**
     * The same scores as dot products ({@code matmul} with the cached rows as weight rows: one
     * lane reduction per position and head), the kernel {@link #mlaScores} replaced.
     */
    @Benchmark
    public float[] mlaScoresDots() {
        for (int t0 = 0; t0 < context; t0 += 32) {
            int len = Math.min(32, context - t0);
            k.matmul(latent, t0 * row, row, qlat, 0, row, heads, block, 0, 32, 0, len);
        }
        return block;
    }
}
