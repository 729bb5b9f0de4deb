package io.github.muon4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import io.github.muon4j.Backend;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.NewtonSchulz;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times one optimizer step over the hidden matrices of a transformer (per layer: attention 4 x [d,
 * d]; SwiGLU [ffn, d] twice and [d, ffn] once): Muon batched and one by one, our AdamW, and DJL's
 * AdamW; and Newton-Schulz throughput against the fp32 matmul rate measured in the same run.
 *
 * <p>{@code java -cp ... io.github.muon4j.bench.OptimizerBench [layers d ffn reps]} (defaults 6 512
 * 1365 5).
 */
public final class OptimizerBench {

    /** Medians over the repetitions, in milliseconds, and rates in GFLOP/s. */
    public record Result(
            int layers,
            int dModel,
            int ffn,
            int parameters,
            int threads,
            int rounds,
            double matmulGflops,
            double steadyMatmulGflops,
            double nsFlops,
            double nsBatchedMs,
            double nsOneByOneMs,
            double muonStepMs,
            double muonStackedMs,
            double muonOneByOneMs,
            double adamWStepMs,
            double djlAdamWStepMs,
            double matmulGflopsMin,
            double matmulGflopsMax,
            double loadMin,
            double loadMax) {

        /** Newton-Schulz rate of the batched call. */
        public double nsGflops() {
            return nsFlops / (nsBatchedMs * 1e6);
        }

        /** Newton-Schulz rate, one matrix per call. */
        public double nsOneByOneGflops() {
            return nsFlops / (nsOneByOneMs * 1e6);
        }

        /** Target: NS FLOPs at the measured matmul rate plus one AdamW step. */
        public double muonBudgetMs() {
            return nsFlops / (matmulGflops * 1e6) + adamWStepMs;
        }

        /** A Markdown table of the figures. */
        public String toMarkdown() {
            StringBuilder b = new StringBuilder();
            b.append(
                    String.format(
                            Locale.ROOT,
                            "%d layers, d_model %d, ffn %d: %d hidden matrices, %d threads,"
                                    + " medians of %d interleaved rounds%n%n",
                            layers,
                            dModel,
                            ffn,
                            parameters,
                            threads,
                            rounds));
            b.append("| measure | value |\n|---|---|\n");
            row(
                    b,
                    "fp32 matmul rate, Backend.matmulGflops(d_model)",
                    "%.1f GFLOP/s (min %.1f, max %.1f over %d rounds)",
                    matmulGflops,
                    matmulGflopsMin,
                    matmulGflopsMax,
                    rounds);
            row(b, "load average (1 min) during the rounds", "%.2f-%.2f", loadMin, loadMax);
            row(b, "fp32 matmul rate, outputs freed each call", "%.1f GFLOP/s", steadyMatmulGflops);
            row(b, "Newton-Schulz FLOPs per step (5 iterations)", "%.2f GFLOP", nsFlops / 1e9);
            row(b, "Newton-Schulz, same-shape stacks batched", "%.1f ms", nsBatchedMs);
            row(
                    b,
                    "Newton-Schulz rate, batched",
                    "%.1f GFLOP/s (%.0f%% / %.0f%% of matmul)",
                    nsGflops(),
                    100 * nsGflops() / matmulGflops,
                    100 * nsGflops() / steadyMatmulGflops);
            row(b, "Newton-Schulz, one matrix per call", "%.1f ms", nsOneByOneMs);
            row(
                    b,
                    "Newton-Schulz rate, one by one",
                    "%.1f GFLOP/s (%.0f%% / %.0f%% of matmul)",
                    nsOneByOneGflops(),
                    100 * nsOneByOneGflops() / matmulGflops,
                    100 * nsOneByOneGflops() / steadyMatmulGflops);
            row(b, "Muon step, Muon.step default (per parameter on CPU)", "%.1f ms", muonStepMs);
            row(b, "Muon step, Muon.step stacking same shapes", "%.1f ms", muonStackedMs);
            row(b, "Muon step, one by one (Muon.update)", "%.1f ms", muonOneByOneMs);
            row(b, "our AdamW step", "%.1f ms", adamWStepMs);
            row(b, "DJL AdamW step (Optimizer.adamW())", "%.1f ms", djlAdamWStepMs);
            row(
                    b,
                    "Muon budget: NS FLOPs at matmul rate + AdamW step",
                    "%.1f ms (Muon at %.2fx)",
                    muonBudgetMs(),
                    muonStepMs / muonBudgetMs());
            double steadyBudget = nsFlops / (steadyMatmulGflops * 1e6) + adamWStepMs;
            row(
                    b,
                    "same, at the freed-outputs matmul rate",
                    "%.1f ms (Muon at %.2fx)",
                    steadyBudget,
                    muonStepMs / steadyBudget);
            return b.toString();
        }

        private static void row(StringBuilder b, String name, String fmt, Object... v) {
            b.append("| ")
                    .append(name)
                    .append(" | ")
                    .append(String.format(Locale.ROOT, fmt, v))
                    .append(" |\n");
        }
    }

    private static final String[] NAMES = {
        "attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down"
    };

    private OptimizerBench() {}

    /**
     * Measures everything once after a warm-up; times are medians over {@code reps}.
     *
     * @param layers transformer layers
     * @param d d_model
     * @param ffn SwiGLU hidden width
     * @param reps timed repetitions per measure
     */
    public static Result run(int layers, int d, int ffn, int reps) {
        Backend backend = Backend.get();
        List<long[]> shapes = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < 4; i++) {
                shapes.add(new long[] {d, d});
            }
            shapes.add(new long[] {ffn, d});
            shapes.add(new long[] {ffn, d});
            shapes.add(new long[] {d, ffn});
        }
        double nsFlops = 0;
        for (long[] s : shapes) {
            nsFlops += NewtonSchulz.flops(s[0], s[1], 5);
        }
        try (NDManager m = backend.newManager()) {
            Map<String, NDArray[]> params = new LinkedHashMap<>();
            for (int i = 0; i < shapes.size(); i++) {
                Shape s = new Shape(shapes.get(i));
                NDArray w = m.randomNormal(0, 0.02f, s, DataType.FLOAT32);
                NDArray g = m.randomNormal(0, 1e-3f, s, DataType.FLOAT32);
                params.put("layer" + (i / 7) + "." + NAMES[i % 7], new NDArray[] {w, g});
            }
            NDArray square = stack(m, params, d, d, false);
            NDArray wide = stack(m, params, d, ffn, true);
            Muon muon = Muon.builder().build();
            Muon stacked = Muon.builder().optStackSameShape(true).build();
            Muon muonSingle = Muon.builder().build();
            DecoupledAdamW adamW = DecoupledAdamW.builder().build();
            Optimizer djl = Optimizer.adamW().build();
            // every measure once per round, rounds repeated: on a shared CPU the load drifts,
            // and interleaving keeps the ratios within a round comparable
            Map<String, Runnable> tasks = new LinkedHashMap<>();
            double[][] rates = new double[2][reps];
            int[] round = {0};
            double[] load = new double[reps];
            tasks.put(
                    "matmul",
                    () -> {
                        rates[0][round[0]] = backend.matmulGflops(d, 50);
                        load[round[0]] = Ceiling.loadAverage();
                    });
            tasks.put("steady", () -> rates[1][round[0]] = steadyMatmulGflops(m, d, 50));
            tasks.put(
                    "nsBatched",
                    () -> {
                        close(NewtonSchulz.orthogonalize(square, 5));
                        close(NewtonSchulz.orthogonalize(wide, 5));
                    });
            tasks.put(
                    "nsSingle",
                    () -> {
                        for (NDArray[] wg : params.values()) {
                            close(NewtonSchulz.orthogonalize(wg[1], 5));
                        }
                    });
            tasks.put("muon", () -> muon.step(params));
            tasks.put("muonStacked", () -> stacked.step(params));
            tasks.put(
                    "muonSingle", () -> params.forEach((k, v) -> muonSingle.update(k, v[0], v[1])));
            tasks.put("adamW", () -> params.forEach((k, v) -> adamW.update(k, v[0], v[1])));
            tasks.put("djl", () -> params.forEach((k, v) -> djl.update(k, v[0], v[1])));
            tasks.values().forEach(Runnable::run); // warm-up, and optimizer state allocated
            Map<String, double[]> times = new LinkedHashMap<>();
            for (String k : tasks.keySet()) {
                times.put(k, new double[reps]);
            }
            for (round[0] = 0; round[0] < reps; round[0]++) {
                for (Map.Entry<String, Runnable> t : tasks.entrySet()) {
                    long t0 = System.nanoTime();
                    t.getValue().run();
                    times.get(t.getKey())[round[0]] = (System.nanoTime() - t0) / 1e6;
                }
            }
            return new Result(
                    layers,
                    d,
                    ffn,
                    shapes.size(),
                    backend.threads(),
                    reps,
                    median(rates[0]),
                    median(rates[1]),
                    nsFlops,
                    median(times.get("nsBatched")),
                    median(times.get("nsSingle")),
                    median(times.get("muon")),
                    median(times.get("muonStacked")),
                    median(times.get("muonSingle")),
                    median(times.get("adamW")),
                    median(times.get("djl")),
                    Arrays.stream(rates[0]).min().orElse(Double.NaN),
                    Arrays.stream(rates[0]).max().orElse(Double.NaN),
                    Arrays.stream(load).min().orElse(Double.NaN),
                    Arrays.stream(load).max().orElse(Double.NaN));
        }
    }

    /** n x n by n x n products, each output closed at once (so its memory is reused). */
    private static double steadyMatmulGflops(NDManager m, int n, int reps) {
        try (NDArray a = m.randomNormal(new Shape(n, n));
                NDArray b = m.randomNormal(new Shape(n, n))) {
            double ms = median(reps, () -> close(a.matMul(b)));
            return 2.0 * n * n * n / (ms * 1e6);
        }
    }

    /** Gradients of one matrix shape stacked [k, rows, cols], transposed when asked. */
    private static NDArray stack(
            NDManager m, Map<String, NDArray[]> params, long rows, long cols, boolean andTall) {
        List<NDArray> parts = new ArrayList<>();
        for (NDArray[] wg : params.values()) {
            Shape s = wg[1].getShape();
            if (s.get(0) == rows && s.get(1) == cols) {
                parts.add(wg[1].expandDims(0));
            } else if (andTall && s.get(0) == cols && s.get(1) == rows) {
                parts.add(wg[1].transpose().expandDims(0));
            }
        }
        NDArray out = NDArrays.concat(new NDList(parts), 0);
        parts.forEach(NDArray::close);
        return out;
    }

    private static void close(NDArray a) {
        a.close();
    }

    /** Median wall time in ms of {@code reps} runs after one warm-up run. */
    private static double median(int reps, Runnable task) {
        task.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            task.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return median(t);
    }

    private static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        return t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    }
}
