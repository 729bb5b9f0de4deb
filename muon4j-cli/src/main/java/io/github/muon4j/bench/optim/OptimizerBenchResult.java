package io.github.muon4j.bench.optim;

/**
 * What {@code bench optim} measured: medians over the interleaved rounds, times in milliseconds and
 * rates in GFLOP/s.
 */
public record OptimizerBenchResult(
        int layers,
        int dModel,
        int ffn,
        int parameters,
        int threads,
        int rounds,
        double matmulGflops,
        double steadyMatmulGflops,
        double nsFlops,
        double nsBatchedMs,
        double nsOneByOneMs,
        double muonStepMs,
        double muonStackedMs,
        double muonOneByOneMs,
        double adamWStepMs,
        double djlAdamWStepMs,
        double matmulGflopsMin,
        double matmulGflopsMax,
        double loadMin,
        double loadMax) {

    /** Newton-Schulz rate of the batched call. */
    public double nsGflops() {
        return nsFlops / (nsBatchedMs * 1e6);
    }

    /** Newton-Schulz rate, one matrix per call. */
    public double nsOneByOneGflops() {
        return nsFlops / (nsOneByOneMs * 1e6);
    }

    /** Target: NS FLOPs at the measured matmul rate plus one AdamW step. */
    public double muonBudgetMs() {
        return nsFlops / (matmulGflops * 1e6) + adamWStepMs;
    }
}
