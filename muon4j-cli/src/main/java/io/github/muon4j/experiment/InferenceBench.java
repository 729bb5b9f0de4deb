package io.github.muon4j.experiment;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.muon4j.Backend;
import io.github.muon4j.infer.BatchDecoder;
import io.github.muon4j.infer.DecoderWeights;
import io.github.muon4j.infer.IncrementalDecoder;
import io.github.muon4j.infer.Kernels;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * the same process ({@link Ceilings}).
 *
 * <p>All sequences of a batch share the prefilled cache (copied), but each is fed its own seeded
 * random tokens while decoding, so MoE layers route them differently.
 */
public final class InferenceBench {

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
     * @param tokensPerCpuSecond tokens per second of this process's CPU time in the same steps
     *     (less sensitive than wall time to other jobs on a shared machine)
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
            List<Point> points) {}

    /**
     * Ceilings of this process, sampled next to every measurement: memory bandwidth (a streaming
     * sum over a 128 MB array, several times the size of a last-level cache) and the FLOP rate of
     * the decode kernels on cache-resident data, both on the decode threads.
     */
    public static final class Ceilings {
        private final int threads;
        private final Kernels k = Kernels.get();
        private final List<Double> bandwidth = new ArrayList<>();
        private final List<Double> flops = new ArrayList<>();
        private float[][] big;
        private double sink;

        public Ceilings(int threads) {
            this.threads = threads;
        }

        /** Takes one sample of each (about a second). */
        public void sample() {
            int per = (32 << 20) / threads; // 32M floats = 128 MB in all
            if (big == null) {
                big = new float[threads][per];
                for (float[] a : big) {
                    Arrays.fill(a, 1f);
                }
            }
            double best = 0;
            for (int r = 0; r < 3; r++) {
                long t0 = System.nanoTime();
                onThreads(i -> sink += k.sum(big[i], 0, big[i].length));
                best = Math.max(best, 4.0 * per * threads / ((System.nanoTime() - t0) / 1e9));
            }
            bandwidth.add(best);
            // 16 weight rows x 512 against 8 input rows: 48 KB, stays in L1/L2
            int rows = 16, n = 512, m = 8, calls = 2000;
            float[][] w = new float[threads][rows * n],
                    x = new float[threads][m * n],
                    y = new float[threads][m * rows];
            for (int i = 0; i < threads; i++) {
                Arrays.fill(w[i], 0.5f);
                Arrays.fill(x[i], 0.25f);
            }
            best = 0;
            for (int r = 0; r < 3; r++) {
                long t0 = System.nanoTime();
                onThreads(
                        i -> {
                            for (int c = 0; c < calls; c++) {
                                k.matmul(w[i], 0, n, x[i], 0, n, m, y[i], 0, rows, 0, rows);
                            }
                        });
                best =
                        Math.max(
                                best,
                                2.0
                                        * rows
                                        * n
                                        * m
                                        * calls
                                        * threads
                                        / ((System.nanoTime() - t0) / 1e9));
            }
            flops.add(best);
        }

        private void onThreads(java.util.function.IntConsumer body) {
            Thread[] ts = new Thread[threads];
            for (int i = 0; i < threads; i++) {
                int id = i;
                ts[i] = new Thread(() -> body.accept(id));
                ts[i].start();
            }
            for (Thread t : ts) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }

        /** Frees the 128 MB array. */
        public void release() {
            big = null;
        }

        /** Bytes/s samples. */
        public List<Double> bandwidth() {
            return bandwidth;
        }

        /** FLOP/s samples. */
        public List<Double> flops() {
            return flops;
        }

        public static double median(List<Double> v) {
            double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return a.length == 0
                    ? Double.NaN
                    : a.length % 2 == 1
                            ? a[a.length / 2]
                            : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        }
    }

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
            String name, ModelConfig c, Plan plan, Ceilings ceilings, Consumer<String> progress) {
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
                            ceilings.sample();
                            bw = ceilings.bandwidth.get(ceilings.bandwidth.size() - 1);
                            fl = ceilings.flops.get(ceilings.flops.size() - 1);
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
            for (int w = 0; w < 2; w++) { // warm-up (JIT)
                fill(tok, rnd, v);
                dec.step(tok);
            }
            double best = 0, perCpu = 0;
            BatchDecoder.Work work = null;
            double load = loadAverage();
            for (int r = 0; r < Math.max(1, plan.reps()); r++) {
                for (int s = 0; s < b; s++) {
                    dec.rewind(s, ctx);
                }
                dec.resetWork();
                long c0 = cpuNanos();
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    fill(tok, rnd, v);
                    dec.step(tok);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                double cpu = (cpuNanos() - c0) / 1e9;
                perCpu = Math.max(perCpu, b * steps / cpu);
                if ((double) b * steps / sec > best) {
                    best = b * steps / sec;
                    work = dec.work();
                }
            }
            double tokens = work.tokens();
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

    private static void fill(int[] tok, SplittableRandom rnd, int vocab) {
        for (int i = 0; i < tok.length; i++) {
            tok[i] = rnd.nextInt(vocab);
        }
    }

    /** CPU time of this process (all threads), nanoseconds. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os =
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
                ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime()
                : 0;
    }

    /** The 1-minute load average from /proc/loadavg, NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return Double.NaN;
        }
    }
}
