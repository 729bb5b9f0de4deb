package io.github.muon4j.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.train.Run;
import io.github.muon4j.train.TrainStep;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Training throughput and MFU: tokens/s of full optimizer steps (forward, backward, clip, update) on
 * random tokens, against the fp32 matmul rate measured in the same process. MFU = model FLOPs per
 * token (6 x active matrix parameters + attention) x tokens/s / matmul FLOP/s. Also the optimizer's
 * share of the step, and step time, resident memory and the number of live native arrays early
 * against late in the run (flat = no leak: every step's temporaries are freed with its manager).
 */
public final class TrainBench {

    /** Figures of one configuration. */
    public record Result(
            String model,
            String optimizer,
            int batch,
            int seqLen,
            int steps,
            double tokensPerSecond,
            double stepSeconds,
            double optimizerShare,
            double flopsPerToken,
            double matmulGflops,
            double mfu,
            double earlyStepSeconds,
            double lateStepSeconds,
            double earlyRssMb,
            double lateRssMb,
            int earlyLiveArrays,
            int lateLiveArrays) {}

    private TrainBench() {}

    public static Result run(ModelConfig mc, boolean muon, int b, int t, int steps, int warmup, PrintStream log) {
        Backend backend = Backend.get();
        double gflops = backend.matmulGflops(1024, 10);
        try (NDManager manager = backend.newManager()) {
            DecoderLM model = new DecoderLM(mc);
            model.initialize(manager, DataType.FLOAT32);
            MuonWithAdamW optimizer = Run.optimizerFor(muon, model.roles(), Tracker.fixed(0.02f), Tracker.fixed(1e-3f), 0.1f);
            TrainStep step = new TrainStep(model, optimizer, manager);
            SplittableRandom rnd = new SplittableRandom(1);
            int v = mc.vocabSize();
            java.util.function.Supplier<int[]> batches = () -> rnd.ints((long) b * (t + 1), 0, v).toArray();
            for (int i = 0; i < warmup; i++) {
                step.run(batches, b, t, 1, 1.0);
            }
            int window = Math.max(1, steps / 10);
            double total = 0, opt = 0, early = 0, late = 0, rssEarly = 0;
            int arraysEarly = 0;
            for (int i = 0; i < steps; i++) {
                long s0 = System.nanoTime();
                TrainStep.Outcome o = step.run(batches, b, t, 1, 1.0);
                double sec = (System.nanoTime() - s0) / 1e9;
                total += sec;
                opt += o.optimizerSeconds();
                if (i < window) {
                    early += sec;
                }
                if (i == window - 1) {
                    rssEarly = rssMb();
                    arraysEarly = manager.getManagedArrays().size();
                }
                if (i >= steps - window) {
                    late += sec;
                }
                if (log != null && (i + 1) % Math.max(1, steps / 5) == 0) {
                    log.printf("  step %d/%d  %.3f s/step  loss %.3f  rss %.0f MB%n", i + 1, steps, sec, o.loss(), rssMb());
                }
            }
            // the ceiling: the better of a measurement before and one after the timed steps (JIT
            // compilation and other start-up work can depress the first)
            gflops = Math.max(gflops, backend.matmulGflops(1024, 10));
            double tps = (double) b * t * steps / total;
            double fpt = mc.flopsPerToken(t);
            return new Result(
                    describe(mc), muon ? "muon" : "adamw", b, t, steps, tps, total / steps, opt / total, fpt, gflops,
                    fpt * tps / (gflops * 1e9), early / window, late / window, rssEarly, rssMb(),
                    arraysEarly, manager.getManagedArrays().size());
        }
    }

    static String describe(ModelConfig mc) {
        return String.format("%dL/%dd %s/%s", mc.nLayers(), mc.dModel(), mc.attention(), mc.ffn()).toLowerCase();
    }

    /** Resident set size of this process from /proc (NaN where there is none). */
    public static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return Double.NaN;
    }
}
