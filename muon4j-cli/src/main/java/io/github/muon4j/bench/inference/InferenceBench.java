package io.github.muon4j.bench.inference;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.muon4j.Backend;
import io.github.muon4j.bench.Bandwidth;
import io.github.muon4j.bench.Machine;
import io.github.muon4j.bench.inference.InferenceBenchResult.Point;
import io.github.muon4j.bench.inference.InferenceBenchResult.Variant;
import io.github.muon4j.infer.BatchDecoder;
import io.github.muon4j.infer.DecoderWeights;
import io.github.muon4j.infer.IncrementalDecoder;
import io.github.muon4j.infer.Kernels;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * MLA and MoE at inference: the four variants (MHA/MLA x dense/MoE) at the same depth and width,
 * each prefilled to every context (DJL, chunked) and then decoding batches of sequences with {@link
 * BatchDecoder} (MLA absorbed). Weights are random (seeded): speed and memory do not depend on
 * training. Each point carries the bytes read and FLOPs done per token, counted by the decoder,
 * next to its speed, so that it can be placed against the bandwidth and FLOP ceilings measured in
 * the same process ({@link DecodeCeilings}).
 *
 * <p>All sequences of a batch share the prefilled cache (copied), but each is fed its own seeded
 * random tokens while decoding, so MoE layers route them differently.
 */
public final class InferenceBench {

    /**
     * What to measure.
     *
     * @param contexts cached positions before decoding (any length: RoPE is computed)
     * @param batches sequences per batch; ignored when kvBudget is positive
     * @param kvBudget bytes of decode cache: when positive, each context decodes as many sequences
     *     as fit (capped at maxBatch)
     * @param maxBatch cap of the budget mode
     * @param newTokens timed decode steps per measurement
     * @param reps repetitions, the best kept
     * @param threads decode threads
     */
    public record Plan(
            int[] contexts,
            int[] batches,
            long kvBudget,
            int maxBatch,
            int newTokens,
            int reps,
            int threads) {}

    private InferenceBench() {}

    /** The four variants of a preset, in the order MHA dense, MLA dense, MHA MoE, MLA MoE. */
    public static Map<String, ModelConfig> variants(ModelConfig base) {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("mha-dense", base.withAttention(AttentionKind.MHA).withFfn(FfnKind.DENSE));
        m.put("mla-dense", base.withAttention(AttentionKind.MLA).withFfn(FfnKind.DENSE));
        m.put("mha-moe", base.withAttention(AttentionKind.MHA).withFfn(FfnKind.MOE));
        m.put("mla-moe", base.withAttention(AttentionKind.MLA).withFfn(FfnKind.MOE));
        return m;
    }

    /** Batch 1 at each context, all cores (the form {@code reproduce} uses). */
    public static Variant run(String name, ModelConfig c, int[] contexts, int newTokens, int reps) {
        int threads = Runtime.getRuntime().availableProcessors();
        return run(
                name,
                c,
                new Plan(contexts, new int[] {1}, 0, 1, newTokens, reps, threads),
                null,
                s -> {});
    }

    /**
     * Every variant of {@code variants} (name -> config, measured in that order) by {@code plan},
     * with the decode ceilings sampled before every point; progress lines to {@code progress}.
     */
    public static InferenceBenchResult run(
            ModelConfig base,
            Map<String, ModelConfig> variants,
            Plan plan,
            Consumer<String> progress) {
        double loadBefore = Machine.loadAverage();
        DecodeCeilings ceilings = new DecodeCeilings(plan.threads());
        List<Variant> results = new ArrayList<>();
        for (Map.Entry<String, ModelConfig> e : variants.entrySet()) {
            results.add(run(e.getKey(), e.getValue(), plan, ceilings, progress));
        }
        ceilings.release();
        Bandwidth bw = ceilings.bandwidth();
        return new InferenceBenchResult(
                base,
                results,
                new InferenceBenchResult.Run(
                        Kernels.get().name(),
                        plan.threads(),
                        plan.kvBudget(),
                        List.copyOf(bw.samples()),
                        bw.bufferBytes(),
                        bw.passes(),
                        Bandwidth.llcBytes(),
                        List.copyOf(ceilings.flops()),
                        loadBefore,
                        Machine.loadAverage()));
    }

    /**
     * Sequences of {@code c} that fit {@code budget} bytes of cache at {@code context} + newTokens.
     */
    public static int sequencesThatFit(ModelConfig c, long budget, int context, int newTokens) {
        long perSeq = 4L * c.kvCacheValuesPerToken() * (context + newTokens + 2);
        return (int) Math.min(Integer.MAX_VALUE, budget / perSeq);
    }

    /**
     * @param ceilings sampled before every point (the point keeps that sample), or null for none
     */
    public static Variant run(
            String name,
            ModelConfig c,
            Plan plan,
            DecodeCeilings ceilings,
            Consumer<String> progress) {
        Backend backend = Backend.get();
        int[] contexts = plan.contexts().clone();
        Arrays.sort(contexts);
        int maxCtx = contexts[contexts.length - 1];
        try (NDManager manager = backend.newManager()) {
            DecoderLM model = new DecoderLM(c);
            model.initialize(manager, DataType.FLOAT32);
            DecoderWeights weights = new DecoderWeights(model);
            SplittableRandom rnd = new SplittableRandom(7);
            int[] prompt = rnd.ints(maxCtx, 0, c.vocabSize()).toArray();
            List<Point> points = new ArrayList<>();
            double measuredPerToken = Double.NaN;
            try (IncrementalDecoder pre = new IncrementalDecoder(model, 1, maxCtx, true)) {
                long prefillNanos = 0;
                for (int ctx : contexts) {
                    while (pre.position() < ctx) { // prefill on, in chunks, up to this context
                        int from = pre.position();
                        int to = Math.min(ctx, from + 512);
                        long t0 = System.nanoTime();
                        pre.next(Arrays.copyOfRange(prompt, from, to));
                        prefillNanos += System.nanoTime() - t0;
                    }
                    double prefill = ctx / (prefillNanos / 1e9);
                    int[] batches =
                            plan.kvBudget() > 0
                                    ? new int[] {
                                        Math.min(
                                                plan.maxBatch(),
                                                sequencesThatFit(
                                                        c, plan.kvBudget(), ctx, plan.newTokens()))
                                    }
                                    : plan.batches();
                    for (int b : batches) {
                        if (b < 1) {
                            progress.accept(
                                    name
                                            + ": context "
                                            + ctx
                                            + ": not one sequence fits the budget");
                            continue;
                        }
                        progress.accept(String.format("%s: context %d, batch %d", name, ctx, b));
                        double bw = Double.NaN, fl = Double.NaN;
                        if (ceilings != null) {
                            DecodeCeilings.Sample s = ceilings.sample();
                            bw = s.bandwidth();
                            fl = s.flopRate();
                        }
                        Point p = decode(model, weights, pre, ctx, b, prefill, plan, rnd, bw, fl);
                        points.add(p);
                        measuredPerToken =
                                p.cacheBytes() / (double) b / (ctx + plan.newTokens() + 2);
                    }
                }
            }
            return new Variant(
                    name,
                    c.totalParams(),
                    c.activeParams(),
                    c.kvCacheValuesPerToken() * 4,
                    measuredPerToken,
                    points);
        }
    }

    private static Point decode(
            DecoderLM model,
            DecoderWeights weights,
            IncrementalDecoder pre,
            int ctx,
            int b,
            double prefill,
            Plan plan,
            SplittableRandom rnd,
            double bw,
            double fl) {
        int steps = plan.newTokens();
        int v = model.config().vocabSize();
        try (BatchDecoder dec =
                new BatchDecoder(model, weights, b, ctx + steps + 2, plan.threads())) {
            dec.copyFrom(0, pre, ctx);
            for (int s = 1; s < b; s++) {
                dec.copySequence(0, s);
            }
            int[] tok = new int[b];
            // warm-up: whole untimed loops for at least WARMUP_NANOS, so that the JIT has compiled
            // the kernels before the clock starts (two repetitions of 32 tokens were mostly
            // warm-up)
            long w0 = System.nanoTime();
            do {
                for (int s = 0; s < b; s++) {
                    dec.rewind(s, ctx);
                }
                for (int i = 0; i < steps; i++) {
                    fill(tok, rnd, v);
                    dec.step(tok);
                }
            } while (System.nanoTime() - w0 < WARMUP_NANOS);
            double best = 0, cpuAll = 0;
            BatchDecoder.Work work = null;
            double load = Machine.loadAverage();
            int reps = Math.max(1, plan.reps());
            for (int r = 0; r < reps; r++) {
                for (int s = 0; s < b; s++) {
                    dec.rewind(s, ctx);
                }
                dec.resetWork();
                long c0 = Machine.cpuNanos();
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    fill(tok, rnd, v);
                    dec.step(tok);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                cpuAll += (Machine.cpuNanos() - c0) / 1e9;
                if ((double) b * steps / sec > best) {
                    best = b * steps / sec;
                    work = dec.work();
                }
            }
            double tokens = work.tokens();
            // over all repetitions; NaN where the JVM gives no thread CPU time
            double perCpu = cpuAll > 0 ? (double) b * steps * reps / cpuAll : Double.NaN;
            return new Point(
                    ctx,
                    b,
                    prefill,
                    best,
                    dec.cacheBytes(),
                    work.weightBytes() / tokens,
                    work.cacheBytes() / tokens,
                    work.flops() / tokens,
                    load,
                    perCpu,
                    bw,
                    fl);
        }
    }

    /** How long each point decodes untimed before its timed repetitions. */
    static final long WARMUP_NANOS = 1_000_000_000L;

    private static void fill(int[] tok, SplittableRandom rnd, int vocab) {
        for (int i = 0; i < tok.length; i++) {
            tok[i] = rnd.nextInt(vocab);
        }
    }
}
