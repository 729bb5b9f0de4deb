package io.github.muon4j.bench.inference;

import io.github.muon4j.bench.Bandwidth;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.infer.Kernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The two ceilings of a decode step, sampled on the decode threads next to every point: memory
 * bandwidth ({@link Bandwidth}: a streaming sum over a buffer well above the last-level cache,
 * several passes) and the FLOP rate of the decode kernels' matrix product on cache-resident data
 * (best of 3).
 */
public final class DecodeCeilings {

    /** Passes of the bandwidth sampler per sample. */
    public static final int BANDWIDTH_PASSES = 5;

    /** One sample of both: bytes/s of the best bandwidth pass, FLOP/s of the best kernel run. */
    public record Sample(double bandwidth, double flopRate) {}

    private final int threads;
    private final Bandwidth bandwidth;
    private final Kernels k = Kernels.get();
    private final List<Double> flops = new ArrayList<>();

    public DecodeCeilings(int threads) {
        this.threads = threads;
        this.bandwidth = new Bandwidth(threads, BANDWIDTH_PASSES);
    }

    /** Takes one sample of each (about a second and a half). */
    public Sample sample() {
        double bw = bandwidth.sample().best();
        // 16 weight rows x 512 against 8 input rows: 48 KB, stays in L1/L2
        int rows = 16, n = 512, m = 8, calls = 20000; // ~30 ms per run
        float[][] w = new float[threads][rows * n],
                x = new float[threads][m * n],
                y = new float[threads][m * rows];
        for (int i = 0; i < threads; i++) {
            Arrays.fill(w[i], 0.5f);
            Arrays.fill(x[i], 0.25f);
        }
        double fl =
                Measure.bestOf(
                        3,
                        () ->
                                2.0
                                        * rows
                                        * n
                                        * m
                                        * calls
                                        * threads
                                        / Measure.onThreads(
                                                threads,
                                                i -> {
                                                    for (int c = 0; c < calls; c++) {
                                                        k.matmul(
                                                                w[i], 0, n, x[i], 0, n, m, y[i], 0,
                                                                rows, 0, rows);
                                                    }
                                                }));
        flops.add(fl);
        return new Sample(bw, fl);
    }

    /** Frees the bandwidth buffer; the samples stay. */
    public void release() {
        bandwidth.release();
    }

    public Bandwidth bandwidth() {
        return bandwidth;
    }

    /** FLOP/s samples. */
    public List<Double> flops() {
        return flops;
    }
}
