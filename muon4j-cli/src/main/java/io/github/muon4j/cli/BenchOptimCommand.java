package io.github.muon4j.cli;

import io.github.muon4j.bench.optim.OptimizerBench;
import io.github.muon4j.bench.optim.OptimizerBenchReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench optim}: Muon, AdamW and Newton-Schulz against the matmul rate ({@link
 * OptimizerBench}).
 */
@Command(
        name = "optim",
        mixinStandardHelpOptions = true,
        description =
                "One Muon / AdamW step over a model's hidden matrices; Newton-Schulz GFLOP/s vs fp32 matmul.")
public final class BenchOptimCommand implements Callable<Integer> {
    @Option(
            names = "--layers",
            defaultValue = "6",
            description =
                    "transformer layers whose hidden matrices are updated (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(
            names = "--d-model",
            defaultValue = "512",
            description = "model width (default: ${DEFAULT-VALUE})")
    int d;

    @Option(
            names = "--ffn",
            defaultValue = "1408",
            description = "SwiGLU hidden width (default: ${DEFAULT-VALUE}, the 6L-512d preset's)")
    int ffn;

    @Option(
            names = "--rounds",
            defaultValue = "5",
            description = "timed optimizer steps (default: ${DEFAULT-VALUE})")
    int rounds;

    @Override
    public Integer call() {
        if (layers < 1 || d < 1 || ffn < 1 || rounds < 1) {
            throw new IllegalArgumentException(
                    "--layers, --d-model, --ffn and --rounds must be at least 1");
        }
        System.out.print(OptimizerBenchReport.markdown(OptimizerBench.run(layers, d, ffn, rounds)));
        return 0;
    }
}
