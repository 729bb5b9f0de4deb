package io.github.muon4j.bench.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.bench.Ceiling;
import io.github.muon4j.bench.Machine;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Precision;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.optim.NewtonSchulz;
import io.github.muon4j.optim.ParamRole;
import io.github.muon4j.train.StepProfile;
import io.github.muon4j.train.TrainStep;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Training throughput, MFU and HFU: tokens/s of full optimizer steps (forward, backward, clip,
 * update) on random tokens, against matrix-product ceilings sampled in the same process before,
 * between (1024^3 only) and after the timed steps ({@link Ceiling}, with the load average):
 * libtorch's 1024^3 sgemm (median and spread), libtorch at the model's own shapes, and the
 * machine's best (the largest 2048^3 rate of libtorch and of an independent BLAS; in bf16, also
 * libtorch's bf16). MFU = model FLOPs per token (6 x active matrix parameters + attention) x
 * tokens/s / ceiling; HFU adds the optimizer's matrix FLOPs (Newton-Schulz for Muon, 0 for AdamW).
 * {@code mfuBest} and {@code hfuBest} are against the machine's best; {@code mfu}, {@code hfu}
 * against libtorch's 1024^3 median.
 *
 * <p>Also the optimizer's share of the step, the process's user and kernel CPU time and minor page
 * faults over the timed steps (from {@code /proc/self/stat}), and step time, resident memory and
 * live native arrays early against late in the run (flat = no leak). With several head chunk sizes
 * the variants take turns step by step on the same model, so they see the same machine (A/B under a
 * shared, drifting load); with profiling, each phase of the step is timed.
 */
public final class TrainBench {

    private TrainBench() {}

    /**
     * Warm-up goes on past its minimum while a step takes more first-touch page faults than this (8
     * MB of fresh memory): glibc's heap grows through fragmentation in a run's first steps.
     */
    static final int STEADY_FAULTS_PER_STEP = 2_000;

    /** At most this many warm-up rounds past the minimum. */
    static final int MAX_EXTRA_WARMUP_ROUNDS = 10;

    /** What {@code bench train} measures: every model with every optimizer. */
    public record Plan(
            List<Model> models,
            List<String> optimizers,
            int batch,
            int seqLen,
            int steps,
            int warmup,
            int[] headChunks,
            boolean profile,
            boolean ops,
            List<Precision> precisions) {}

    /** A model of the plan, under the name it was asked by (a preset) and its variant. */
    public record Model(String name, String attention, String ffn, ModelConfig config) {}

    /**
     * Every model of the plan with every optimizer ("muon" or "adamw"), in that order; each result
     * goes to {@code each} as soon as it is measured, progress lines to {@code log}.
     */
    public static List<TrainBenchResult> run(
            Plan plan, PrintStream log, Consumer<TrainBenchResult> each) {
        List<TrainBenchResult> all = new ArrayList<>();
        for (Model m : plan.models()) {
            for (String o : plan.optimizers()) {
                log.printf(
                        "bench train: %s %s/%s with %s in %s, B=%d T=%d, %d steps, head chunk %s%n",
                        m.name(),
                        m.attention(),
                        m.ffn(),
                        o,
                        plan.precisions().stream().map(Precision::flag).toList(),
                        plan.batch(),
                        plan.seqLen(),
                        plan.steps(),
                        java.util.Arrays.toString(plan.headChunks()));
                for (TrainBenchResult r :
                        run(
                                m.config(),
                                o.equals("muon"),
                                plan.batch(),
                                plan.seqLen(),
                                plan.steps(),
                                plan.warmup(),
                                plan.headChunks(),
                                plan.profile(),
                                plan.ops(),
                                plan.precisions(),
                                log)) {
                    all.add(r);
                    each.accept(r);
                }
            }
        }
        return all;
    }

    /**
     * The model's own products for {@code b x t} tokens: the attention and output projections, the
     * FFN's three (dense: d -> hidden -> d), and one chunk of the LM head.
     */
    static List<Ceiling.Gemm> modelGemms(ModelConfig mc, int b, int t) {
        long n = (long) b * t, d = mc.dModel();
        long hidden =
                mc.ffn() == io.github.muon4j.model.FfnKind.MOE ? mc.expertHidden() : mc.ffnHidden();
        return List.of(
                new Ceiling.Gemm(n, d, d),
                new Ceiling.Gemm(n, d, hidden),
                new Ceiling.Gemm(n, hidden, d),
                new Ceiling.Gemm(Math.min(n, TrainStep.DEFAULT_HEAD_CHUNK), d, mc.vocabSize()));
    }

    /**
     * Runs {@code steps} timed steps per head-chunk variant (0 = plain full-logits loss), the
     * variants interleaved step by step, with a ceiling sample after every step; each head chunk
     * runs in each of {@code precisions} (matrix products), all variants taking turns on the same
     * model and optimizer, so that they see the same machine. The machine's best sgemm is sampled
     * before and after the steps.
     */
    public static List<TrainBenchResult> run(
            ModelConfig mc,
            boolean muon,
            int b,
            int t,
            int steps,
            int warmup,
            int[] chunks,
            boolean profile,
            boolean ops,
            List<Precision> precisions,
            PrintStream log) {
        Backend backend = Backend.get();
        Ceiling ceiling = new Ceiling(backend, 4);
        List<Ceiling.Gemm> gemms = modelGemms(mc, b, t);
        boolean anyBf16 = precisions.contains(Precision.BF16);
        int k = chunks.length * precisions.size();
        int[] headChunks = new int[k];
        Precision[] precision = new Precision[k];
        for (int i = 0; i < k; i++) {
            headChunks[i] = chunks[i % chunks.length];
            precision[i] = precisions.get(i / chunks.length);
        }
        ceiling.sampleBest(anyBf16);
        for (int i = 0; i < 3; i++) {
            ceiling.sample();
        }
        ceiling.sampleShapes(gemms, Precision.FP32);
        try (NDManager manager = backend.newManager()) {
            DecoderLM model = new DecoderLM(mc);
            model.initialize(manager, DataType.FLOAT32);
            Map<String, ParamRole> roles = model.roles();
            MuonWithAdamW optimizer =
                    io.github.muon4j.train.OptimizerRecipe.of(
                            muon, roles, Tracker.fixed(0.02f), Tracker.fixed(1e-3f), 0.1f);
            double optFlopsPerStep = muon ? newtonSchulzFlops(model, roles) : 0;
            TrainStep step = new TrainStep(model, optimizer, manager);
            SplittableRandom rnd = new SplittableRandom(1);
            int v = mc.vocabSize();
            java.util.function.Supplier<int[]> batches =
                    () -> rnd.ints((long) b * (t + 1), 0, v).toArray();
            int warmupRounds = 0;
            double lastFaults = Double.POSITIVE_INFINITY;
            // at least `warmup` rounds; then on, while the heap still grows (first-touch page
            // faults), so that the timed steps see the steady state a long run sees
            while (warmupRounds < warmup
                    || (warmup > 0
                            && lastFaults > STEADY_FAULTS_PER_STEP
                            && warmupRounds < warmup + MAX_EXTRA_WARMUP_ROUNDS)) {
                long[] f0 = StepProfile.procStat();
                for (int j = 0; j < k; j++) {
                    step.setHeadChunk(headChunks[j]);
                    step.setPrecision(precision[j]);
                    step.run(batches, b, t, 1, 1.0);
                }
                long[] f1 = StepProfile.procStat();
                lastFaults = f0 != null && f1 != null ? (f1[2] - f0[2]) / (double) k : 0;
                warmupRounds++;
            }
            int reserveMb = warmup > 0 ? reserveHeap(manager) : 0;
            if (log != null && warmup > 0) {
                log.printf(
                        Locale.ROOT,
                        "  warm-up: %d steps (at least %d; on while a step takes more than %d page"
                                + " faults: the heap still grows), last %.0f faults/step%n",
                        warmupRounds * k,
                        warmup * k,
                        STEADY_FAULTS_PER_STEP,
                        lastFaults);
                log.printf(
                        Locale.ROOT,
                        "  heap reserve: %d MB touched and freed, so the heap's later growth finds"
                                + " resident pages%n",
                        reserveMb);
            }
            ceiling.sample();
            int window = Math.max(1, steps / 10);
            double[] total = new double[k],
                    opt = new double[k],
                    early = new double[k],
                    late = new double[k];
            double[] user = new double[k], sys = new double[k], faults = new double[k];
            double[][] each = new double[k][steps];
            double rssEarly = 0;
            int arraysEarly = 0;
            StepProfile[] profiles = new StepProfile[k];
            for (int j = 0; j < k; j++) {
                profiles[j] = profile ? new StepProfile() : null;
            }
            for (int i = 0; i < steps * k; i++) {
                int j = i % k;
                int n = i / k;
                step.setHeadChunk(headChunks[j]);
                step.setPrecision(precision[j]);
                long[] p0 = StepProfile.procStat();
                long s0 = System.nanoTime();
                TrainStep.Outcome o = step.run(batches, b, t, 1, 1.0, profiles[j]);
                double sec = (System.nanoTime() - s0) / 1e9;
                long[] p1 = StepProfile.procStat();
                if (p0 != null && p1 != null) {
                    user[j] += (p1[0] - p0[0]) / 100.0;
                    sys[j] += (p1[1] - p0[1]) / 100.0;
                    faults[j] += p1[2] - p0[2];
                }
                total[j] += sec;
                each[j][n] = sec;
                opt[j] += o.optimizerSeconds();
                if (n < window) {
                    early[j] += sec;
                }
                if (n == window - 1 && j == k - 1) {
                    rssEarly = Machine.rssMb();
                    arraysEarly = manager.getManagedArrays().size();
                }
                if (n >= steps - window) {
                    late[j] += sec;
                }
                // a small 1024^3 sample between steps; the model's shapes (the head chunk's
                // product alone is a 200 MB array) only before and after the timed steps, as
                // large allocations between steps would fragment the training heap
                double g = ceiling.sample();
                if (log != null && (n + 1) % Math.max(1, steps / 5) == 0) {
                    log.printf(
                            Locale.ROOT,
                            "  step %d/%d  %s  head chunk %d  %.3f s/step  loss %.3f  rss %.0f MB  sys %.0f%%  matmul %.1f GFLOP/s  load %.2f%n",
                            n + 1,
                            steps,
                            precision[j].flag(),
                            headChunks[j],
                            sec,
                            o.loss(),
                            Machine.rssMb(),
                            100
                                    * (p0 != null && p1 != null
                                            ? (p1[1] - p0[1])
                                                    / (double)
                                                            Math.max(
                                                                    1,
                                                                    p1[0] + p1[1] - p0[0] - p0[1])
                                            : Double.NaN),
                            g,
                            Machine.loadAverage());
                }
            }
            for (int i = 0; i < 2; i++) {
                ceiling.sample();
            }
            ceiling.sampleShapes(gemms, Precision.FP32);
            ceiling.sampleBest(anyBf16);
            double rssLate = Machine.rssMb();
            int arraysLate = manager.getManagedArrays().size();
            OpBreakdown[] breakdown = new OpBreakdown[k];
            for (int j = 0; ops && j < k; j++) {
                step.setHeadChunk(headChunks[j]);
                step.setPrecision(precision[j]);
                List<OpBreakdown> profiled = new ArrayList<>();
                for (int i = 0; i < PROFILED_STEPS; i++) {
                    // room for the profiler's own allocations before each, so that they do not
                    // send the step's large arrays to fresh pages (a single reserve before the
                    // three left some steps' pow and fill_ at 4x their time: first-touch faults)
                    reserveHeap(manager);
                    profiled.add(profiledStep(step, batches, b, t, log));
                }
                // the step of median operator time: a typical step, not one that met a page
                // fault storm or the machine's slow minute
                profiled.sort(Comparator.comparingDouble(OpBreakdown::opsSeconds));
                breakdown[j] = profiled.get(PROFILED_STEPS / 2);
            }
            double fpt = mc.flopsPerToken(t);
            double ofpt = optFlopsPerStep / ((double) b * t);
            double gflops = ceiling.median();
            List<TrainBenchResult> out = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                double tps = (double) b * t * steps / total[j];
                double best = ceiling.best(precision[j]);
                out.add(
                        new TrainBenchResult(
                                describe(mc),
                                muon ? "muon" : "adamw",
                                b,
                                t,
                                steps,
                                warmupRounds * k,
                                reserveMb,
                                headChunks[j],
                                precision[j].flag(),
                                tps,
                                total[j] / steps,
                                Measure.median(each[j]),
                                opt[j] / total[j],
                                fpt,
                                ofpt,
                                fpt + ofpt,
                                gflops,
                                ceiling.min(),
                                ceiling.max(),
                                ceiling.samples(),
                                ceiling.loadMin(),
                                ceiling.loadMax(),
                                fpt * tps / (gflops * 1e9),
                                (fpt + ofpt) * tps / (gflops * 1e9),
                                ceiling.shapesMedian(),
                                ceiling.libtorch2048(),
                                ceiling.libtorch2048Bf16(),
                                ceiling.external2048(),
                                ceiling.externalSource(),
                                best,
                                fpt * tps / (best * 1e9),
                                (fpt + ofpt) * tps / (best * 1e9),
                                user[j] / steps,
                                sys[j] / steps,
                                sys[j] / Math.max(1e-9, user[j] + sys[j]),
                                faults[j] / steps,
                                early[j] / window,
                                late[j] / window,
                                rssEarly,
                                rssLate,
                                arraysEarly,
                                arraysLate,
                                phases(profiles[j], steps),
                                breakdown[j]));
            }
            return out;
        }
    }

    /** Steps profiled per variant with {@code --ops}; the one of median operator time is kept. */
    static final int PROFILED_STEPS = 3;

    /**
     * One more step under libtorch's profiler (operators with their input shapes); its trace,
     * written to a temporary file and deleted, read by {@link OpBreakdown}.
     */
    static OpBreakdown profiledStep(
            TrainStep step,
            java.util.function.Supplier<int[]> batches,
            int b,
            int t,
            PrintStream log) {
        Path trace = null;
        try {
            trace = Files.createTempFile("muon4j-ops-", ".json");
            JniUtils.startProfile(false, true, false);
            long s0 = System.nanoTime(), s1;
            try {
                step.run(batches, b, t, 1, 1.0);
            } finally {
                s1 = System.nanoTime(); // the step, not the writing of its trace
                JniUtils.stopProfile(trace.toString());
            }
            double sec = (s1 - s0) / 1e9;
            OpBreakdown o = OpBreakdown.fromTrace(trace, sec);
            if (log != null) {
                log.printf(Locale.ROOT, "  profiled step: %.3f s%n", sec);
            }
            return o;
        } catch (IOException e) {
            throw new UncheckedIOException("bench train --ops: the profiler's trace: " + e, e);
        } finally {
            if (trace != null) {
                try {
                    Files.deleteIfExists(trace);
                } catch (IOException e) {
                    // a temporary file left behind
                }
            }
        }
    }

    /**
     * Grows the native heap by a block of resident memory before the timed steps: an array of
     * {@link #HEAP_RESERVE_SHARE} of the process's resident memory (at most half of the memory
     * available, at least 256 MB) is written and freed. Under the launcher's glibc settings (one
     * arena, no mmap, never trimmed) the freed block stays in the heap, already faulted in, so the
     * growth that fragmentation still causes over a long run takes pages that are resident instead
     * of touching fresh ones (50,000 first-touch faults for one 200 MB array, 0.5-4 s of kernel
     * time on a VM): the timed steps see what a long run sees once its heap is steady. Elsewhere
     * (another allocator) the block is simply returned; nothing else changes.
     *
     * @return the megabytes written
     */
    static int reserveHeap(NDManager manager) {
        double rss = Machine.rssMb();
        double avail = Machine.availableMb();
        if (!Double.isFinite(rss)) {
            return 0;
        }
        double mb = Math.max(256, HEAP_RESERVE_SHARE * rss);
        if (Double.isFinite(avail)) {
            mb = Math.min(mb, avail / 2);
        }
        if (mb < 1) {
            return 0;
        }
        manager.zeros(new Shape((long) mb * (1 << 18))).close(); // written in full by zeros()
        return (int) mb;
    }

    /** The heap reserve as a share of resident memory after the warm-up. */
    static final double HEAP_RESERVE_SHARE = 0.3;

    /** Newton-Schulz FLOPs of one Muon step over the model's Muon parameters (5 iterations). */
    static double newtonSchulzFlops(DecoderLM model, Map<String, ParamRole> roles) {
        double f = 0;
        for (var p : model.getParameters()) {
            ParamRole r = roles.get(p.getKey());
            if (r == null || !r.isMuon()) {
                continue;
            }
            Shape s = p.getValue().getArray().getShape();
            int nd = s.dimension();
            long rows = s.get(nd - 2), cols = s.get(nd - 1);
            f += s.size() / (rows * cols) * NewtonSchulz.flops(rows, cols, 5);
        }
        return f;
    }

    private static List<TrainBenchResult.Phase> phases(StepProfile p, int steps) {
        if (p == null) {
            return null;
        }
        List<TrainBenchResult.Phase> out = new ArrayList<>();
        double all = p.wallSeconds();
        for (Map.Entry<StepProfile.Phase, StepProfile.Totals> e : p.totals().entrySet()) {
            StepProfile.Totals tt = e.getValue();
            out.add(
                    new TrainBenchResult.Phase(
                            e.getKey().name().toLowerCase(Locale.ROOT),
                            tt.wallSeconds / steps,
                            tt.wallSeconds / all,
                            tt.userSeconds / steps,
                            tt.sysSeconds / steps,
                            (double) tt.minorFaults / steps));
        }
        return out;
    }

    static String describe(ModelConfig mc) {
        return String.format("%dL/%dd %s/%s", mc.nLayers(), mc.dModel(), mc.attention(), mc.ffn())
                .toLowerCase();
    }
}
