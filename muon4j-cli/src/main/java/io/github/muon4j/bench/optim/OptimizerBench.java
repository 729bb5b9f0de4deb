package io.github.muon4j.bench.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import io.github.muon4j.Backend;
import io.github.muon4j.bench.Ceiling;
import io.github.muon4j.bench.Machine;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.model.Precision;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.NewtonSchulz;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times one optimizer step over the hidden matrices of a transformer (per layer: attention 4 x [d,
 * d]; SwiGLU [ffn, d] twice and [d, ffn] once): Muon batched and one by one, our AdamW, and DJL's
 * AdamW; and Newton-Schulz throughput against the fp32 matmul rate measured in the same run.
 *
 * <p>Command: {@code muon4j bench optim [--layers 6] [--d-model 512] [--ffn 1408] [--rounds 5]};
 * output: {@link OptimizerBenchReport}.
 */
public final class OptimizerBench {

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
    public static OptimizerBenchResult run(int layers, int d, int ffn, int reps) {
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
                        load[round[0]] = Machine.loadAverage();
                    });
            tasks.put(
                    "steady",
                    () ->
                            rates[1][round[0]] =
                                    Ceiling.gflops(
                                            backend,
                                            List.of(new Ceiling.Gemm(d, d, d)),
                                            50,
                                            Precision.FP32));
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
                    times.get(t.getKey())[round[0]] = Measure.seconds(t.getValue()) * 1e3;
                }
            }
            return new OptimizerBenchResult(
                    layers,
                    d,
                    ffn,
                    shapes.size(),
                    backend.threads(),
                    reps,
                    Measure.median(rates[0]),
                    Measure.median(rates[1]),
                    nsFlops,
                    Measure.median(times.get("nsBatched")),
                    Measure.median(times.get("nsSingle")),
                    Measure.median(times.get("muon")),
                    Measure.median(times.get("muonStacked")),
                    Measure.median(times.get("muonSingle")),
                    Measure.median(times.get("adamW")),
                    Measure.median(times.get("djl")),
                    Measure.min(rates[0]),
                    Measure.max(rates[0]),
                    Measure.min(load),
                    Measure.max(load));
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
}
