package io.github.muon4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.Backend;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The matrix-product ceilings a benchmark is divided by, sampled in the same process before,
 * between and after the timed work, each sample with the 1-minute load average:
 *
 * <ul>
 *   <li>{@link #sample()}: libtorch's fp32 rate on a few 1024^3 products (about a tenth of a
 *       second), between steps: what the engine offered while the steps ran;
 *   <li>{@link #sampleShapes}: libtorch's rate on the model's own products (in the precision asked;
 *       bench train asks fp32);
 *   <li>{@link #sampleBest}: the best the machine offers: the largest of a 2048^3 product through
 *       libtorch and through an independent BLAS ({@code ExternalBlas}: numpy), best of 3 each; and
 *       in bf16, libtorch's bf16 2048^3 rate.
 * </ul>
 */
public final class Ceiling {

    /** One product shape: (m, k) x (k, n). */
    public record Gemm(long m, long k, long n) {
        public double flops() {
            return 2.0 * m * k * n;
        }
    }

    private final Backend backend;
    private final int reps;
    private final List<Double> gflops = new ArrayList<>();
    private final List<Double> shapes = new ArrayList<>();
    private final List<Double> load = new ArrayList<>();
    private double libtorch2048 = Double.NaN;
    private double libtorch2048Bf16 = Double.NaN;
    private ExternalBlas.Rate external;

    /** A sampler doing {@code reps} 1024^3 products per {@link #sample()}. */
    public Ceiling(Backend backend, int reps) {
        this.backend = backend;
        this.reps = reps;
    }

    /** Takes one 1024^3 sample; returns its GFLOP/s. */
    public double sample() {
        double g = gflops(backend, List.of(new Gemm(1024, 1024, 1024)), reps, Precision.FP32);
        gflops.add(g);
        noteLoad();
        return g;
    }

    /** One pass over {@code gemms} in {@code precision}; returns its GFLOP/s. */
    public double sampleShapes(List<Gemm> gemms, Precision precision) {
        double g = gflops(backend, gemms, 1, precision);
        shapes.add(g);
        noteLoad();
        return g;
    }

    /**
     * Samples the machine's best: libtorch fp32 2048^3 (best of 3), the external BLAS (best of 3 of
     * its own), and with {@code bf16} libtorch's bf16 2048^3. Keeps the largest seen.
     */
    public void sampleBest(boolean bf16) {
        List<Gemm> big = List.of(new Gemm(2048, 2048, 2048));
        libtorch2048 =
                max(libtorch2048, Measure.bestOf(3, () -> gflops(backend, big, 1, Precision.FP32)));
        if (bf16) {
            libtorch2048Bf16 =
                    max(
                            libtorch2048Bf16,
                            Measure.bestOf(3, () -> gflops(backend, big, 1, Precision.BF16)));
        }
        ExternalBlas.Rate e = ExternalBlas.sgemm(2048, 3);
        if (e != null && (external == null || e.gflops() > external.gflops())) {
            external = e;
        }
        noteLoad();
    }

    private static double max(double a, double b) {
        return Double.isNaN(a) ? b : Math.max(a, b);
    }

    private void noteLoad() {
        double l = Machine.loadAverage();
        if (!Double.isNaN(l)) {
            load.add(l);
        }
    }

    /**
     * libtorch's GFLOP/s over {@code reps} passes of the products {@code gemms} in {@code
     * precision}, after one untimed pass; each product's output is freed before the next one. The
     * one sgemm sampler of the benchmarks.
     */
    public static double gflops(Backend backend, List<Gemm> gemms, int reps, Precision precision) {
        try (NDManager m = backend.newManager();
                Autocast ac = Autocast.enter(precision)) {
            List<NDArray[]> ops = new ArrayList<>();
            double flops = 0;
            for (Gemm g : gemms) {
                ops.add(
                        new NDArray[] {
                            m.randomNormal(new Shape(g.m(), g.k())),
                            m.randomNormal(new Shape(g.k(), g.n()))
                        });
                flops += g.flops();
            }
            long t0 = 0;
            for (int r = 0; r <= reps; r++) {
                if (r == 1) {
                    t0 = System.nanoTime();
                }
                NDArray last = null;
                for (NDArray[] ab : ops) {
                    if (last != null) {
                        last.close();
                    }
                    last = Autocast.matMul(ab[0], ab[1]);
                }
                if (r == 0 || r == reps) {
                    // forces completion on a GPU too (the untimed pass before the clock starts,
                    // the last timed one before it stops); the passes between queue in order
                    last.get(0, 0).toFloatArray();
                }
                last.close();
            }
            return flops * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
    }

    public int samples() {
        return gflops.size();
    }

    /** Median of the 1024^3 samples (GFLOP/s). */
    public double median() {
        return Measure.median(gflops);
    }

    public double min() {
        return Measure.quantile(gflops, 0);
    }

    public double max() {
        return Measure.quantile(gflops, 1);
    }

    /** (max - min) / median of the 1024^3 samples. */
    public double spread() {
        return (max() - min()) / median();
    }

    /** Median of the model-shape samples (GFLOP/s; NaN if none). */
    public double shapesMedian() {
        return Measure.median(shapes);
    }

    /** libtorch's best fp32 2048^3 rate (NaN before {@link #sampleBest}). */
    public double libtorch2048() {
        return libtorch2048;
    }

    /** libtorch's best bf16 2048^3 rate (NaN unless sampled). */
    public double libtorch2048Bf16() {
        return libtorch2048Bf16;
    }

    /** The external BLAS's best 2048^3 rate, NaN when there is none. */
    public double external2048() {
        return external == null ? Double.NaN : external.gflops();
    }

    /** What the external BLAS was ("numpy 2.x, openblas"), or "none: why". */
    public String externalSource() {
        return external == null ? "none (" + ExternalBlas.whyNone() + ")" : external.source();
    }

    /** The machine's best fp32 rate: the larger of libtorch's and the external BLAS's 2048^3. */
    public double bestFp32() {
        return Double.isNaN(external2048()) ? libtorch2048 : max(libtorch2048, external2048());
    }

    /** The machine's best rate for {@code precision}: bf16 adds libtorch's bf16 2048^3. */
    public double best(Precision precision) {
        return precision == Precision.BF16 ? max(bestFp32(), libtorch2048Bf16) : bestFp32();
    }

    /** Lowest and highest 1-minute load average seen at the samples (NaN off Linux). */
    public double loadMin() {
        return Measure.quantile(load, 0);
    }

    public double loadMax() {
        return Measure.quantile(load, 1);
    }

    /** "median GFLOP/s (min-max, n samples)". */
    public String describe() {
        return String.format(
                Locale.ROOT,
                "%.1f GFLOP/s (%.1f-%.1f over %d samples), load %.2f-%.2f",
                median(),
                min(),
                max(),
                samples(),
                loadMin(),
                loadMax());
    }
}
