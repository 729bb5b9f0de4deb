package io.github.muon4j.cli;

import io.github.muon4j.bench.ByteSize;
import io.github.muon4j.bench.inference.InferenceBench;
import io.github.muon4j.bench.inference.InferenceBenchReport;
import io.github.muon4j.bench.inference.InferenceBenchResult;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j bench inference}: KV-cache memory and decode speed of MHA/MLA x dense/MoE at long
 * contexts and in batches, each point beside its bytes and FLOPs per token and the bandwidth and
 * FLOP ceilings measured in the same run (a roofline). Measured by {@link InferenceBench}, written
 * by {@link InferenceBenchReport}.
 */
@Command(
        name = "inference",
        mixinStandardHelpOptions = true,
        description = {
            "MHA dense, MLA dense, MHA MoE and MLA MoE at the same depth and width: KV-cache bytes per token,",
            "then decode tokens/s at each context and batch, with the bytes read and FLOPs done per token and the",
            "memory-bandwidth and kernel FLOP ceilings measured in the same run (a roofline).",
            "Random seeded weights: speed and memory do not depend on training."
        })
public final class BenchInferenceCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "tiny", description = "(default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--vocab", description = "vocabulary size (default: the preset's)")
    Integer vocab;

    @Option(
            names = "--variants",
            split = ",",
            description = "subset of mha-dense, mla-dense, mha-moe, mla-moe (default: all)")
    List<String> only;

    @Option(
            names = "--contexts",
            split = ",",
            description =
                    "cached positions before decoding, any length (RoPE is computed) (default: 128,512,2048,8192)")
    List<Integer> contexts;

    @Option(
            names = "--batch",
            split = ",",
            description = "sequences decoded together, one or more sizes (default: 1)")
    List<Integer> batches;

    @Option(
            names = "--kv-budget",
            paramLabel = "SIZE",
            description =
                    "memory-budget mode: at each context decode as many sequences as fit SIZE of fp32 KV cache (e.g. 512m, 2g)")
    String kvBudget;

    @Option(
            names = "--max-batch",
            defaultValue = "64",
            description = "cap of the budget mode (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(
            names = "--new-tokens",
            defaultValue = "32",
            description = "decode steps timed per point (default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(
            names = "--reps",
            defaultValue = "2",
            description = "repetitions, best kept (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(
            names = "--threads",
            description =
                    "decode threads (default: by the work of a step: 1 for small models, else all cores)")
    Integer threads;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "write REPORT.md, results.json and PNG charts here")
    Path out;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelConfig base = ModelConfig.preset(preset);
        if (vocab != null) {
            base = base.withVocab(vocab);
        }
        if (newTokens < 1 || reps < 1) {
            throw new IllegalArgumentException("--new-tokens and --reps must be at least 1");
        }
        if (contexts == null || contexts.isEmpty()) {
            contexts = List.of(128, 512, 2048, 8192);
        }
        for (int c : contexts) {
            if (c < 1 || c > 1 << 20) {
                throw new IllegalArgumentException("--contexts: " + c + " is outside [1, 1048576]");
            }
        }
        if (batches == null || batches.isEmpty()) {
            batches = List.of(1);
        }
        for (int b : batches) {
            if (b < 1 || b > 4096) {
                throw new IllegalArgumentException("--batch: " + b + " is outside [1, 4096]");
            }
        }
        long budget = kvBudget == null ? 0 : parseSize(kvBudget);
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--max-batch must be at least 1");
        }
        int nThreads =
                threads == null
                        ? io.github.muon4j.infer.BatchDecoder.defaultThreads(
                                base, batches.stream().mapToInt(Integer::intValue).max().orElse(1))
                        : threads;
        if (nThreads < 1 || nThreads > 256) {
            throw new IllegalArgumentException("--threads: " + nThreads + " is outside [1, 256]");
        }
        Map<String, ModelConfig> all = InferenceBench.variants(base);
        if (only != null && !only.isEmpty()) {
            for (String v : only) {
                if (!all.containsKey(v)) {
                    throw new IllegalArgumentException(
                            "--variants: unknown variant '"
                                    + v
                                    + "' (mha-dense, mla-dense, mha-moe, mla-moe)");
                }
            }
            all.keySet().retainAll(only);
        }
        int[] ctx = new TreeSet<>(contexts).stream().mapToInt(Integer::intValue).toArray();
        int[] bs = new TreeSet<>(batches).stream().mapToInt(Integer::intValue).toArray();
        InferenceBench.Plan plan =
                new InferenceBench.Plan(ctx, bs, budget, maxBatch, newTokens, reps, nThreads);
        InferenceBenchResult r =
                InferenceBench.run(
                        base, all, plan, s -> System.err.println("bench inference: " + s));
        System.out.print(InferenceBenchReport.markdown(r));
        if (out != null) {
            InferenceBenchReport.write(r, out);
            System.err.println("bench inference: wrote " + out.resolve("REPORT.md"));
        }
        if (json) {
            System.out.println(InferenceBenchReport.json(r));
        }
        return 0;
    }

    /** "512m", "2g", "1048576", "64k" -> bytes ({@link ByteSize}). */
    static long parseSize(String s) {
        try {
            return ByteSize.parse(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--kv-budget: '" + s + "' is not a positive size such as 512m or 2g");
        }
    }
}
