package io.github.muon4j.bench.train;

import java.util.List;

/**
 * The figures of one {@code bench train} configuration (model, optimizer, head chunk, precision):
 * throughput, model and hardware FLOPs per token, the matrix-product ceilings sampled in the same
 * run and MFU / HFU against them, CPU time and page faults, and step time, memory and live arrays
 * early against late in the run; {@code warmupSteps}: untimed steps before them (at least {@code
 * --warmup}, more while the heap still grew); {@code heapReserveMb}: resident memory added to the
 * heap before them ({@code TrainBench.reserveHeap}). The component names are the JSON keys of
 * {@code bench train --json}. {@code profile} (with {@code --profile}) and {@code ops} (with {@code
 * --ops}) are null otherwise.
 */
public record TrainBenchResult(
        String model,
        String optimizer,
        int batch,
        int seqLen,
        int steps,
        int warmupSteps,
        int heapReserveMb,
        int headChunk,
        String precision,
        double tokensPerSecond,
        double stepSeconds,
        double medianStepSeconds,
        double optimizerShare,
        double flopsPerToken,
        double optimizerFlopsPerToken,
        double hardwareFlopsPerToken,
        double matmulGflops,
        double matmulGflopsMin,
        double matmulGflopsMax,
        int ceilingSamples,
        double loadMin,
        double loadMax,
        double mfu,
        double hfu,
        double modelShapesGflops,
        double libtorch2048Gflops,
        double libtorch2048Bf16Gflops,
        double externalGflops,
        String externalSource,
        double bestGflops,
        double mfuBest,
        double hfuBest,
        double userSecondsPerStep,
        double sysSecondsPerStep,
        double sysShare,
        double minorFaultsPerStep,
        double earlyStepSeconds,
        double lateStepSeconds,
        double earlyRssMb,
        double lateRssMb,
        int earlyLiveArrays,
        int lateLiveArrays,
        List<Phase> profile,
        OpBreakdown ops) {

    /** One phase of the step, per step. */
    public record Phase(
            String phase,
            double seconds,
            double share,
            double userSeconds,
            double sysSeconds,
            double minorFaults) {}
}
