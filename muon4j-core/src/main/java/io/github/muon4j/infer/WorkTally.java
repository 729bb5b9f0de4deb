package io.github.muon4j.infer;

/**
 * Running totals of the work of decode steps, added by each component once per step and layer (see
 * {@link BatchDecoder.Work}): FLOPs count 2 per multiply-add, weight bytes every matrix read once
 * per step, cache bytes the cached entries attended.
 */
final class WorkTally {

    long steps;
    long tokens;
    double flops;
    double weightBytes;
    double cacheBytes;

    /** A matrix (rows, n) of float32 read once and applied to m rows. */
    void matmul(long rows, long n, long m) {
        weightBytes += 4.0 * rows * n;
        flops += 2.0 * rows * n * m;
    }

    BatchDecoder.Work snapshot() {
        return new BatchDecoder.Work(steps, tokens, flops, weightBytes, cacheBytes);
    }

    void reset() {
        steps = 0;
        tokens = 0;
        flops = 0;
        weightBytes = 0;
        cacheBytes = 0;
    }
}
