package io.github.muon4j.cli;

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
        subcommands = {
            BenchCommand.Train.class,
            BenchCommand.Optim.class,
            BenchCommand.Model.class,
            BenchCommand.Data.class,
            InferenceBenchCommand.class,
            io.github.muon4j.bench.SoakBench.class,
            io.github.muon4j.bench.chaos.ChaosCommand.class
        })
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code bench train}: training tokens/s and MFU. */
    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            description = "Training tokens/s, MFU, optimizer share, memory flatness.")
    static final class Train implements Callable<Integer> {

        @Option(
                names = "--preset",
                split = ",",
                defaultValue = "tiny,6L-512d",
                description = "presets, comma-separated (default: ${DEFAULT-VALUE})")
        List<String> presets;

        @Option(names = "--attention", defaultValue = "mha")
        String attention;

        @Option(names = "--ffn", defaultValue = "dense")
        String ffn;

        @Option(
                names = "--optimizer",
                split = ",",
                defaultValue = "muon,adamw",
                description = "(default: ${DEFAULT-VALUE})")
        List<String> optimizers;

        @Option(names = "--batch-size", defaultValue = "8")
        int batch;

        @Option(names = "--seq-len", defaultValue = "512")
        int seqLen;

        @Option(
                names = "--steps",
                defaultValue = "20",
                description = "timed steps (use 2000 to check that step time and memory stay flat)")
        int steps;

        @Option(names = "--warmup", defaultValue = "3")
        int warmup;

        @Option(names = "--vocab", description = "vocabulary size (default: the preset's)")
        Integer vocab;

        @Option(names = "--json", description = "print one JSON object as the last line")
        boolean json;

        @Option(
                names = "--precision",
                split = ",",
                defaultValue = "fp32",
                description =
                        "matrix products: fp32, bf16 or auto (bf16 where the hardware has it); several values take turns step by step on the same model (A/B) (default: ${DEFAULT-VALUE})")
        List<String> precisions;

        @Option(
                names = "--profile",
                description =
                        "time each phase of the step (forward, head+loss, backward, clip, optimizer, zero, free) with user/kernel CPU time and page faults")
        boolean profile;

        @Option(
                names = "--head-chunk",
                split = ",",
                description =
                        "tokens per chunk of the fused LM head + loss; 0 = plain loss over full logits; several values take turns step by step (A/B) (default: "
                                + io.github.muon4j.train.TrainStep.DEFAULT_HEAD_CHUNK
                                + ")")
        List<Integer> headChunks;

        @Override
        public Integer call() {
            if (steps < 1 || batch < 1 || seqLen < 2 || warmup < 0) {
                throw new IllegalArgumentException(
                        "--steps, --batch-size must be >= 1, --seq-len >= 2, --warmup >= 0");
            }
            int[] chunks =
                    headChunks == null
                            ? new int[] {io.github.muon4j.train.TrainStep.DEFAULT_HEAD_CHUNK}
                            : headChunks.stream().mapToInt(Integer::intValue).toArray();
            for (int c : chunks) {
                if (c < 0) {
                    throw new IllegalArgumentException(
                            "--head-chunk must be >= 0 (0 = plain full-logits loss), got " + c);
                }
            }
            for (String o : optimizers) {
                if (!o.equals("muon") && !o.equals("adamw")) {
                    throw new IllegalArgumentException(
                            "--optimizer must be muon or adamw, not '" + o + "'");
                }
            }
            List<io.github.muon4j.model.Precision> precs = new ArrayList<>();
            for (String p : precisions) {
                try {
                    precs.add(
                            io.github.muon4j.model.Precision.resolve(
                                    p, io.github.muon4j.Backend.get().device()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--precision: " + e.getMessage());
                }
            }
            List<TrainBench.Result> results = new ArrayList<>();
            List<String> profiles = new ArrayList<>();
            System.out.println(
                    "| model | optimizer | precision | B x T | head chunk | tokens/s | s/step mean / median | optimizer share | GFLOP/token model / +optimizer | libtorch 1024^3 GFLOP/s median (min-max, n) | libtorch at model shapes | best sgemm (libtorch 2048^3 / external 2048^3 / libtorch bf16 2048^3) | load avg | MFU / HFU of best | MFU / HFU of libtorch 1024^3 | sys share of CPU | minor faults/step | step s early/late | RSS MB early/late | live arrays early/late |");
            System.out.println(
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            String external = null;
            for (String p : presets) {
                ModelConfig mc = ParamsCommand.build(p, attention, ffn);
                if (vocab != null) {
                    mc = mc.withVocab(vocab);
                }
                if (seqLen > mc.contextLength()) {
                    mc = mc.withContextLength(seqLen);
                }
                for (String o : optimizers) {
                    System.err.printf(
                            "bench train: %s %s/%s with %s in %s, B=%d T=%d, %d steps, head chunk %s%n",
                            p,
                            attention,
                            ffn,
                            o,
                            precisions,
                            batch,
                            seqLen,
                            steps,
                            java.util.Arrays.toString(chunks));
                    for (TrainBench.Result r :
                            TrainBench.run(
                                    mc,
                                    o.equals("muon"),
                                    batch,
                                    seqLen,
                                    steps,
                                    warmup,
                                    chunks,
                                    profile,
                                    precs,
                                    System.err)) {
                        results.add(r);
                        external = r.externalSource();
                        System.out.printf(
                                java.util.Locale.ROOT,
                                "| %s | %s | %s | %dx%d | %s | %.0f | %.3f / %.3f | %.1f%% | %.3f / %.3f | %.1f (%.1f-%.1f, %d) | %.1f | %.1f (%.1f / %.1f / %.1f) | %.2f-%.2f | %.1f%% / %.1f%% | %.1f%% / %.1f%% | %.1f%% | %,.0f | %.3f / %.3f | %.0f / %.0f | %d / %d |%n",
                                r.model(),
                                r.optimizer(),
                                r.precision(),
                                r.batch(),
                                r.seqLen(),
                                r.headChunk() == 0 ? "plain" : Integer.toString(r.headChunk()),
                                r.tokensPerSecond(),
                                r.stepSeconds(),
                                r.medianStepSeconds(),
                                100 * r.optimizerShare(),
                                r.flopsPerToken() / 1e9,
                                r.hardwareFlopsPerToken() / 1e9,
                                r.matmulGflops(),
                                r.matmulGflopsMin(),
                                r.matmulGflopsMax(),
                                r.ceilingSamples(),
                                r.modelShapesGflops(),
                                r.bestGflops(),
                                r.libtorch2048Gflops(),
                                r.externalGflops(),
                                r.libtorch2048Bf16Gflops(),
                                r.loadMin(),
                                r.loadMax(),
                                100 * r.mfuBest(),
                                100 * r.hfuBest(),
                                100 * r.mfu(),
                                100 * r.hfu(),
                                100 * r.sysShare(),
                                r.minorFaultsPerStep(),
                                r.earlyStepSeconds(),
                                r.lateStepSeconds(),
                                r.earlyRssMb(),
                                r.lateRssMb(),
                                r.earlyLiveArrays(),
                                r.lateLiveArrays());
                        if (profile) {
                            profiles.add(TrainBench.profileMarkdown(r));
                        }
                    }
                }
            }
            if (external != null) {
                System.out.println();
                System.out.println(
                        "External BLAS: "
                                + external
                                + ". Best sgemm = the largest 2048^3 rate (libtorch, external; in bf16 also libtorch's bf16), sampled before and after the steps.");
            }
            for (String s : profiles) {
                System.out.println();
                System.out.print(s);
            }
            if (json) {
                com.google.gson.JsonObject o = new com.google.gson.JsonObject();
                o.add(
                        "results",
                        new com.google.gson.GsonBuilder()
                                .serializeSpecialFloatingPointValues()
                                .create()
                                .toJsonTree(results));
                System.out.println(o);
            }
            return 0;
        }
    }

    /** {@code bench optim}: Muon, AdamW and Newton-Schulz against the matmul rate. */
    @Command(
            name = "optim",
            mixinStandardHelpOptions = true,
            description =
                    "One Muon / AdamW step over a model's hidden matrices; Newton-Schulz GFLOP/s vs fp32 matmul.")
    static final class Optim implements Callable<Integer> {
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
                defaultValue = "1365",
                description = "SwiGLU hidden width (default: ${DEFAULT-VALUE})")
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
            System.out.print(
                    io.github.muon4j.bench.OptimizerBench.run(layers, d, ffn, rounds).toMarkdown());
            return 0;
        }
    }

    /** {@code bench model}: forward+backward per token, MoE vs dense layer, decode speed. */
    @Command(
            name = "model",
            mixinStandardHelpOptions = true,
            description =
                    "Forward+backward time per token (4 combinations), MoE vs dense layer, decode tokens/s vs context.")
    static final class Model implements Callable<Integer> {
        private static final io.github.muon4j.bench.ModelBench.Options D =
                io.github.muon4j.bench.ModelBench.Options.defaults();

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
            io.github.muon4j.Backend.init(threads, "auto");
            io.github.muon4j.bench.ModelBench.Options o =
                    new io.github.muon4j.bench.ModelBench.Options(
                            preset, seq, batch, reps, layerTokens, contexts, decode);
            System.out.print(io.github.muon4j.bench.ModelBench.run(o).toMarkdown());
            return 0;
        }
    }

    /** {@code bench data}: tokenization MB/s and batch assembly rate. */
    @Command(
            name = "data",
            mixinStandardHelpOptions = true,
            description =
                    "Tokenization MB/s per tokenizer on the built-in corpus; batch assembly rate.")
    static final class Data implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            io.github.muon4j.bench.DataBench.report(System.out);
            return 0;
        }
    }
}
