package io.github.muon4j.bench.inference;

import io.github.muon4j.bench.Bandwidth;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.model.ModelConfig;
import java.util.List;

/**
 * What {@code bench inference} measured: each variant's points (context x batch) and the machine's
 * ceilings sampled next to them.
 *
 * @param base the preset the variants were made from
 * @param variants in the order measured (the first is the reference of the ratios)
 * @param run the settings and the ceilings of the run
 */
public record InferenceBenchResult(ModelConfig base, List<Variant> variants, Run run) {

    /**
     * One measurement.
     *
     * @param context cached positions before the timed steps
     * @param batch sequences decoded together
     * @param prefillTokensPerSecond DJL prefill of one sequence from 0 to this context
     * @param decodeTokensPerSecond tokens of all sequences per second of decode steps (best rep)
     * @param cacheBytes bytes of the decode cache as allocated (batch x capacity)
     * @param weightBytesPerToken matrix bytes each step reads, divided by the batch
     * @param cacheBytesPerToken cache bytes each step reads, divided by the batch
     * @param flopsPerToken FLOPs per token (matrix products and attention)
     * @param load 1-minute load average when the point was measured
     * @param tokensPerCpuSecond tokens per second of the CPU time of this process's Java threads
     *     ({@code Machine.cpuNanos}) over all repetitions (less sensitive than wall time to other
     *     jobs on a shared machine; NaN where the JVM gives no thread CPU time)
     * @param bandwidth bytes/s of the ceiling sample taken just before this point
     * @param flopRate FLOP/s of the ceiling sample taken just before this point
     */
    public record Point(
            int context,
            int batch,
            double prefillTokensPerSecond,
            double decodeTokensPerSecond,
            long cacheBytes,
            double weightBytesPerToken,
            double cacheBytesPerToken,
            double flopsPerToken,
            double load,
            double tokensPerCpuSecond,
            double bandwidth,
            double flopRate) {

        /** Roofline speed against the ceilings sampled next to this point. */
        public double rooflineTokensPerSecond() {
            return rooflineTokensPerSecond(bandwidth, flopRate);
        }

        /** Bound against the ceilings sampled next to this point. */
        public String bound() {
            return bound(bandwidth, flopRate);
        }

        /** Bytes read per token, weights and cache. */
        public double bytesPerToken() {
            return weightBytesPerToken + cacheBytesPerToken;
        }

        /** Roofline speed: the slower of the bandwidth and the FLOP limits. */
        public double rooflineTokensPerSecond(double bandwidth, double flopRate) {
            return Math.min(bandwidth / bytesPerToken(), flopRate / flopsPerToken);
        }

        /** "bandwidth" or "compute": which ceiling the roofline is at. */
        public String bound(double bandwidth, double flopRate) {
            return bandwidth / bytesPerToken() <= flopRate / flopsPerToken
                    ? "bandwidth"
                    : "compute";
        }
    }

    /** One variant. */
    public record Variant(
            String name,
            long totalParams,
            long activeParams,
            long kvCacheBytesPerTokenFormula,
            double kvCacheBytesPerTokenMeasured,
            List<Point> points) {

        /** The point at (context, batch), or null. */
        public Point at(int context, int batch) {
            for (Point p : points) {
                if (p.context() == context && p.batch() == batch) {
                    return p;
                }
            }
            return null;
        }
    }

    /**
     * Settings and ceilings of one run.
     *
     * @param kernels the decode kernels' name
     * @param threads decode threads
     * @param budget bytes of KV cache in the budget mode, 0 otherwise
     * @param bandwidth the bandwidth samples, one before every point
     * @param bandwidthBytes bytes the bandwidth sampler streams through per pass
     * @param bandwidthPasses passes per bandwidth sample
     * @param llcBytes the last-level cache (0: unknown)
     * @param flopSamples the decode kernels' FLOP rate, one sample before every point
     * @param loadBefore 1-minute load average before the first point
     * @param loadAfter and after the last one
     */
    public record Run(
            String kernels,
            int threads,
            long budget,
            List<Bandwidth.Sample> bandwidth,
            long bandwidthBytes,
            int bandwidthPasses,
            long llcBytes,
            List<Double> flopSamples,
            double loadBefore,
            double loadAfter) {

        /** Each bandwidth sample's best pass, bytes/s. */
        public List<Double> bandwidthSamples() {
            return bandwidth.stream().map(Bandwidth.Sample::best).toList();
        }

        /** Median of the samples' best passes (bytes/s): the rooflines' bandwidth. */
        public double bandwidthMedian() {
            return Measure.median(bandwidthSamples());
        }

        /** The best pass of the run (bytes/s). */
        public double bandwidthBest() {
            return Measure.max(bandwidthSamples());
        }

        /** Median of the kernel FLOP-rate samples (FLOP/s). */
        public double flopRate() {
            return Measure.median(flopSamples);
        }
    }

    /** The variant called {@code name}, or null. */
    public Variant find(String name) {
        for (Variant v : variants) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        return null;
    }
}
