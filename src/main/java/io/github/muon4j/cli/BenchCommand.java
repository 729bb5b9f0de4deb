package io.github.muon4j.cli;

import com.google.gson.Gson;
import io.github.muon4j.bench.TrainBench;
import io.github.muon4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j bench ...}: the measurements behind BENCHMARKS.md. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks (figures for BENCHMARKS.md).",
        subcommands = {BenchCommand.Train.class, BenchCommand.Optim.class, BenchCommand.Model.class, BenchCommand.Data.class, InferenceBenchCommand.class,
            io.github.muon4j.bench.SoakBench.class, io.github.muon4j.bench.chaos.ChaosCommand.class})
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code bench train}: training tokens/s and MFU. */
    @Command(name = "train", mixinStandardHelpOptions = true, description = "Training tokens/s, MFU, optimizer share, memory flatness.")
    static final class Train implements Callable<Integer> {

        @Option(names = "--preset", split = ",", defaultValue = "tiny,6L-512d", description = "presets, comma-separated (default: ${DEFAULT-VALUE})")
        List<String> presets;

        @Option(names = "--attention", defaultValue = "mha")
        String attention;

        @Option(names = "--ffn", defaultValue = "dense")
        String ffn;

        @Option(names = "--optimizer", split = ",", defaultValue = "muon,adamw", description = "(default: ${DEFAULT-VALUE})")
        List<String> optimizers;

        @Option(names = "--batch-size", defaultValue = "8")
        int batch;

        @Option(names = "--seq-len", defaultValue = "512")
        int seqLen;

        @Option(names = "--steps", defaultValue = "20", description = "timed steps (use 2000 to check that step time and memory stay flat)")
        int steps;

        @Option(names = "--warmup", defaultValue = "3")
        int warmup;

        @Option(names = "--vocab", description = "vocabulary size (default: the preset's)")
        Integer vocab;

        @Option(names = "--json", description = "print one JSON object as the last line")
        boolean json;

        @Option(names = "--profile", description = "time each phase of the step (forward, head+loss, backward, clip, optimizer, zero, free) with user/kernel CPU time and page faults")
        boolean profile;

        @Option(names = "--head-chunk", split = ",", description = "tokens per chunk of the fused LM head + loss; 0 = plain loss over full logits; several values take turns step by step (A/B) (default: "
                + io.github.muon4j.train.TrainStep.DEFAULT_HEAD_CHUNK + ")")
        List<Integer> headChunks;

        @Override
        public Integer call() {
            if (steps < 1 || batch < 1 || seqLen < 2 || warmup < 0) {
                throw new IllegalArgumentException("--steps, --batch-size must be >= 1, --seq-len >= 2, --warmup >= 0");
            }
            int[] chunks = headChunks == null ? new int[] {io.github.muon4j.train.TrainStep.DEFAULT_HEAD_CHUNK}
                    : headChunks.stream().mapToInt(Integer::intValue).toArray();
            for (int c : chunks) {
                if (c < 0) {
                    throw new IllegalArgumentException("--head-chunk must be >= 0 (0 = plain full-logits loss), got " + c);
                }
            }
            for (String o : optimizers) {
                if (!o.equals("muon") && !o.equals("adamw")) {
                    throw new IllegalArgumentException("--optimizer must be muon or adamw, not '" + o + "'");
                }
            }
            List<TrainBench.Result> results = new ArrayList<>();
            List<String> profiles = new ArrayList<>();
            System.out.println("| model | optimizer | B x T | head chunk | tokens/s | s/step mean / median | optimizer share | GFLOP/token model / +optimizer | matmul ceiling GFLOP/s median (min-max, n) | load avg | MFU | HFU | sys share of CPU | minor faults/step | step s early/late | RSS MB early/late | live arrays early/late |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (String p : presets) {
                ModelConfig mc = ParamsCommand.build(p, attention, ffn);
                if (vocab != null) {
                    mc = mc.withVocab(vocab);
                }
                if (seqLen > mc.contextLength()) {
                    mc = mc.withContextLength(seqLen);
                }
                for (String o : optimizers) {
                    System.err.printf("bench train: %s %s/%s with %s, B=%d T=%d, %d steps, head chunk %s%n", p, attention, ffn, o, batch, seqLen, steps,
                            java.util.Arrays.toString(chunks));
                    for (TrainBench.Result r : TrainBench.run(mc, o.equals("muon"), batch, seqLen, steps, warmup, chunks, profile, System.err)) {
                        results.add(r);
                        System.out.printf(java.util.Locale.ROOT, "| %s | %s | %dx%d | %s | %.0f | %.3f / %.3f | %.1f%% | %.3f / %.3f | %.1f (%.1f-%.1f, %d) | %.2f-%.2f | %.1f%% | %.1f%% | %.1f%% | %,.0f | %.3f / %.3f | %.0f / %.0f | %d / %d |%n",
                                r.model(), r.optimizer(), r.batch(), r.seqLen(), r.headChunk() == 0 ? "plain" : Integer.toString(r.headChunk()),
                                r.tokensPerSecond(), r.stepSeconds(), r.medianStepSeconds(), 100 * r.optimizerShare(), r.flopsPerToken() / 1e9, r.hardwareFlopsPerToken() / 1e9,
                                r.matmulGflops(), r.matmulGflopsMin(), r.matmulGflopsMax(), r.ceilingSamples(), r.loadMin(), r.loadMax(),
                                100 * r.mfu(), 100 * r.hfu(), 100 * r.sysShare(), r.minorFaultsPerStep(),
                                r.earlyStepSeconds(), r.lateStepSeconds(), r.earlyRssMb(), r.lateRssMb(),
                                r.earlyLiveArrays(), r.lateLiveArrays());
                        if (profile) {
                            profiles.add(TrainBench.profileMarkdown(r));
                        }
                    }
                }
            }
            for (String s : profiles) {
                System.out.println();
                System.out.print(s);
            }
            if (json) {
                com.google.gson.JsonObject o = new com.google.gson.JsonObject();
                o.add("results", new com.google.gson.GsonBuilder().serializeSpecialFloatingPointValues().create().toJsonTree(results));
                System.out.println(o);
            }
            return 0;
        }
    }

    /** {@code bench optim}: Muon, AdamW and Newton-Schulz against the matmul rate. */
    @Command(name = "optim", mixinStandardHelpOptions = true, description = "One Muon / AdamW step over a model's hidden matrices; Newton-Schulz GFLOP/s vs fp32 matmul.")
    static final class Optim implements Callable<Integer> {
        @Option(names = "--layers", defaultValue = "6") int layers;
        @Option(names = "--d-model", defaultValue = "512") int d;
        @Option(names = "--ffn", defaultValue = "1365") int ffn;
        @Option(names = "--rounds", defaultValue = "5") int rounds;

        @Override
        public Integer call() {
            if (layers < 1 || d < 1 || ffn < 1 || rounds < 1) {
                throw new IllegalArgumentException("--layers, --d-model, --ffn and --rounds must be at least 1");
            }
            System.out.print(io.github.muon4j.bench.OptimizerBench.run(layers, d, ffn, rounds).toMarkdown());
            return 0;
        }
    }

    /** {@code bench model}: forward+backward per token, MoE vs dense layer, decode speed. */
    @Command(name = "model", mixinStandardHelpOptions = true, description = "Forward+backward time per token (4 combinations), MoE vs dense layer, decode tokens/s vs context.")
    static final class Model implements Callable<Integer> {
        @picocli.CommandLine.Parameters(arity = "0..*", paramLabel = "OPTIONS", description = "--preset P --seq T --batch B --reps N --layer-tokens N --contexts a,b --decode N")
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            try {
                io.github.muon4j.bench.ModelBench.main(args.toArray(new String[0]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bench model: a number was expected (" + e.getMessage() + ")");
            }
            return 0;
        }
    }

    /** {@code bench data}: tokenization MB/s and batch assembly rate. */
    @Command(name = "data", mixinStandardHelpOptions = true, description = "Tokenization MB/s per tokenizer on the built-in corpus; batch assembly rate.")
    static final class Data implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            io.github.muon4j.bench.DataBench.main(new String[0]);
            return 0;
        }
    }
}
