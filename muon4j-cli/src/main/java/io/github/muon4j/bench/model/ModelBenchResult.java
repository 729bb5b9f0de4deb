package io.github.muon4j.bench.model;

import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import java.util.List;

/**
 * What {@code bench model} measured.
 *
 * @param options what was asked
 * @param threads intra-op threads of the run
 * @param matmulGflops libtorch's fp32 1024^3 rate, sampled before the measurements
 * @param train forward+backward of the four attention x FFN combinations
 * @param layer one MoE layer against a dense SwiGLU of the same active size
 * @param decode decode speed per combination and context
 */
public record ModelBenchResult(
        ModelBench.Options options,
        int threads,
        double matmulGflops,
        List<Train> train,
        Layer layer,
        List<Decode> decode) {

    /** One training-step measurement. */
    public record Train(
            AttentionKind attention,
            FfnKind ffn,
            long totalParams,
            long activeParams,
            double secondsPerStep,
            double microsPerToken,
            double gflops,
            double mfu) {}

    /** One MoE-layer-against-dense measurement. */
    public record Layer(int tokens, double moeMillis, double denseMillis) {
        public double ratio() {
            return moeMillis / denseMillis;
        }
    }

    /** One decode measurement. */
    public record Decode(
            AttentionKind attention,
            FfnKind ffn,
            int context,
            double tokensPerSecond,
            double cacheBytesPerToken) {}
}
