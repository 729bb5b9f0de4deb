package io.github.muon4j.cli;

import io.github.muon4j.Backend;
import io.github.muon4j.bench.train.TrainBench;
import io.github.muon4j.bench.train.TrainBenchReport;
import io.github.muon4j.bench.train.TrainBenchResult;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Precision;
import io.github.muon4j.train.TrainStep;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench train}: training tokens/s and MFU ({@link TrainBench}). */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Training tokens/s, MFU, optimizer share, memory flatness.")
public final class BenchTrainCommand implements Callable<Integer> {

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

    @Option(
            names = "--warmup",
            defaultValue = "3",
            description =
                    "untimed steps per variant, at least; more (up to 10 rounds) while a step still takes over 2,000 page faults (the heap grows); 0: none (default: ${DEFAULT-VALUE})")
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
            names = "--ops",
            description =
                    "after the timed steps, 3 more steps under libtorch's profiler; of the one of median operator time: self time by kind of operator (matrix products, attention kernel, softmax, the rest), the products' rate, and (AdamW) the MFU the step would reach with every product at the best sgemm")
    boolean ops;

    @Option(
            names = "--head-chunk",
            split = ",",
            description =
                    "tokens per chunk of the fused LM head + loss; 0 = plain loss over full logits; several values take turns step by step (A/B) (default: "
                            + TrainStep.DEFAULT_HEAD_CHUNK
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
                        ? new int[] {TrainStep.DEFAULT_HEAD_CHUNK}
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
        List<Precision> precs = new ArrayList<>();
        for (String p : precisions) {
            try {
                precs.add(Precision.resolve(p, Backend.get().device()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--precision: " + e.getMessage());
            }
        }
        List<TrainBench.Model> models = new ArrayList<>();
        for (String p : presets) {
            ModelConfig mc = ParamsCommand.build(p, attention, ffn);
            if (vocab != null) {
                mc = mc.withVocab(vocab);
            }
            if (seqLen > mc.contextLength()) {
                mc = mc.withContextLength(seqLen);
            }
            models.add(new TrainBench.Model(p, attention, ffn, mc));
        }
        TrainBench.Plan plan =
                new TrainBench.Plan(
                        models,
                        optimizers,
                        batch,
                        seqLen,
                        steps,
                        warmup,
                        chunks,
                        profile,
                        ops,
                        precs);
        System.out.print(TrainBenchReport.header());
        List<TrainBenchResult> results =
                TrainBench.run(plan, System.err, r -> System.out.print(TrainBenchReport.row(r)));
        System.out.print(TrainBenchReport.footer(results));
        if (json) {
            System.out.println(TrainBenchReport.json(results));
        }
        return 0;
    }
}
