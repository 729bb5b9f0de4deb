package io.github.muon4j.cli;

import io.github.muon4j.Backend;
import io.github.muon4j.bench.model.ModelBench;
import io.github.muon4j.bench.model.ModelBenchReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench model}: forward+backward per token, MoE vs dense layer, decode speed ({@link
 * ModelBench}).
 */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        description =
                "Forward+backward time per token (4 combinations), MoE vs dense layer, decode tokens/s vs context.")
public final class BenchModelCommand implements Callable<Integer> {
    private static final ModelBench.Options D = ModelBench.Options.defaults();

    @Option(names = "--preset", description = "model preset (default: " + "6L-512d" + ")")
    String preset = D.preset();

    @Option(names = "--seq", description = "training sequence length (default: 512)")
    int seq = D.seq();

    @Option(names = "--batch", description = "training batch size (default: 1)")
    int batch = D.batch();

    @Option(names = "--reps", description = "timed repetitions after one warm-up (default: 2)")
    int reps = D.reps();

    @Option(
            names = "--layer-tokens",
            description = "tokens of the MoE-vs-dense layer comparison (default: 2048)")
    int layerTokens = D.layerTokens();

    @Option(names = "--threads", description = "intra-op threads (default: all cores)")
    int threads;

    @Option(
            names = "--contexts",
            split = ",",
            description = "decode contexts (default: 64,256,496)")
    int[] contexts = D.contexts();

    @Option(names = "--decode", description = "decode steps timed per context (default: 16)")
    int decode = D.decodeTokens();

    @Override
    public Integer call() {
        if (seq < 2 || batch < 1 || reps < 1 || layerTokens < 1 || threads < 0 || decode < 1) {
            throw new IllegalArgumentException(
                    "bench model: --seq must be >= 2, --batch, --reps, --layer-tokens, --decode >= 1, --threads >= 0");
        }
        for (int c : contexts) {
            if (c < 1) {
                throw new IllegalArgumentException(
                        "--contexts: every context must be >= 1, got " + c);
            }
        }
        try {
            ParamsCommand.build(preset, "mha", "dense");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--preset: " + e.getMessage());
        }
        Backend.init(threads, "auto");
        ModelBench.Options o =
                new ModelBench.Options(preset, seq, batch, reps, layerTokens, contexts, decode);
        System.out.print(ModelBenchReport.markdown(ModelBench.run(o)));
        return 0;
    }
}
