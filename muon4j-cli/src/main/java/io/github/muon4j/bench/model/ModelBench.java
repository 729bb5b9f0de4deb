package io.github.muon4j.bench.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.github.muon4j.Backend;
import io.github.muon4j.bench.Ceiling;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.bench.model.ModelBenchResult.Decode;
import io.github.muon4j.bench.model.ModelBenchResult.Layer;
import io.github.muon4j.bench.model.ModelBenchResult.Train;
import io.github.muon4j.infer.IncrementalDecoder;
import io.github.muon4j.infer.Sampler;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FeedForward;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.MoE;
import io.github.muon4j.model.ModelBlock;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Precision;
import io.github.muon4j.model.SwiGLU;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Model speed on this machine: forward+backward time per token and achieved GFLOP/s (against the
 * measured fp32 matmul rate) for MHA/MLA x DENSE/MOE, one MoE layer against a dense SwiGLU of the
 * same active size, and decode tokens/s against context length.
 *
 * <p>Command: {@code muon4j bench model [--threads 0] [--preset 6L-512d] [--seq 512] [--batch 1]
 * [--reps 2] [--layer-tokens 2048] [--contexts 64,256,496] [--decode 16]} (threads 0 = all cores);
 * output: {@link ModelBenchReport}.
 */
public final class ModelBench {

    /** What to measure. */
    public record Options(
            String preset,
            int seq,
            int batch,
            int reps,
            int layerTokens,
            int[] contexts,
            int decodeTokens) {

        public static Options defaults() {
            return new Options("6L-512d", 512, 1, 2, 2048, new int[] {64, 256, 496}, 16);
        }
    }

    private ModelBench() {}

    /** Runs every measurement and returns the numbers. */
    public static ModelBenchResult run(Options o) {
        Backend backend = Backend.get();
        double peak =
                Ceiling.gflops(
                        backend, List.of(new Ceiling.Gemm(1024, 1024, 1024)), 5, Precision.FP32);
        List<Train> train = new ArrayList<>();
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                train.add(
                        train(ModelConfig.preset(o.preset()).withAttention(a).withFfn(f), o, peak));
            }
        }
        Layer layer = moeVsDense(ModelConfig.preset(o.preset()).withFfn(FfnKind.MOE), o);
        List<Decode> decode = new ArrayList<>();
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                decode.addAll(
                        decode(ModelConfig.preset(o.preset()).withAttention(a).withFfn(f), o));
            }
        }
        return new ModelBenchResult(o, backend.threads(), peak, train, layer, decode);
    }

    /** Forward+backward of the whole model with a cross-entropy loss. */
    public static Train train(ModelConfig c, Options o, double peak) {
        try (NDManager m = Backend.get().newManager()) {
            DecoderLM lm = new DecoderLM(c);
            lm.initialize(m, DataType.FLOAT32);
            ParameterStore ps = new ParameterStore(m, false);
            double sec =
                    Measure.mean(
                            Measure.times(
                                    1,
                                    o.reps(),
                                    () -> {
                                        try (NDManager s = m.newSubManager()) {
                                            NDArray tok =
                                                    tokens(
                                                            s,
                                                            o.batch(),
                                                            o.seq() + 1,
                                                            c.vocabSize());
                                            NDArray in = tok.get(":, :-1");
                                            NDArray target =
                                                    tok.get(":, 1:")
                                                            .toType(DataType.INT64, false)
                                                            .expandDims(2);
                                            try (GradientCollector gc =
                                                    Engine.getInstance().newGradientCollector()) {
                                                DecoderLM.Output out = lm.forward(ps, in, true);
                                                NDArray nll =
                                                        out.logits()
                                                                .logSoftmax(2)
                                                                .gather(target, 2)
                                                                .mean()
                                                                .neg();
                                                gc.backward(nll.add(out.balanceLoss()));
                                            }
                                        }
                                        zeroGradients(lm);
                                    }));
            double tokens = (double) o.batch() * o.seq();
            double gflops = c.flopsPerToken(o.seq()) * tokens / sec / 1e9;
            return new Train(
                    c.attention(),
                    c.ffn(),
                    c.totalParams(),
                    c.activeParams(),
                    sec,
                    sec / tokens * 1e6,
                    gflops,
                    gflops / peak);
        }
    }

    /**
     * One MoE feed-forward against a dense SwiGLU with hidden (n_shared + top_k) * expert_hidden,
     * forward+backward on the same input; calls are interleaved and the medians compared.
     */
    public static Layer moeVsDense(ModelConfig c, Options o) {
        int hidden = (c.nSharedExperts() + c.topK()) * c.expertHidden();
        int tokens = o.layerTokens();
        MoE moe = new MoE(c);
        SwiGLU dense = new SwiGLU(c, hidden);
        int reps = 2 * o.reps() + 3;
        double[] tm = new double[reps];
        double[] td = new double[reps];
        try (NDManager m = Backend.get().newManager()) {
            moe.initialize(m, DataType.FLOAT32, c.seed());
            dense.initialize(m, DataType.FLOAT32, c.seed());
            ParameterStore ps = new ParameterStore(m, false);
            for (int i = -1; i < reps; i++) { // i = -1: warm-up
                double a =
                        stepSeconds(
                                m,
                                moe,
                                c,
                                tokens,
                                (x) -> {
                                    FeedForward.Result r = moe.apply(ps, x, true);
                                    return r.out().square().mean().add(r.balanceLoss());
                                });
                double b =
                        stepSeconds(
                                m,
                                dense,
                                c,
                                tokens,
                                (x) -> dense.forward(ps, x, true).square().mean());
                if (i >= 0) {
                    tm[i] = a;
                    td[i] = b;
                }
            }
        }
        return new Layer(tokens, Measure.median(tm) * 1e3, Measure.median(td) * 1e3);
    }

    private static double stepSeconds(
            NDManager m,
            ModelBlock block,
            ModelConfig c,
            int tokens,
            java.util.function.Function<NDArray, NDArray> loss) {
        long t0 = System.nanoTime();
        try (NDManager s = m.newSubManager()) {
            NDArray x = s.randomNormal(new Shape(1, tokens, c.dModel()));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss.apply(x));
            }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        zeroGradients(block);
        return sec;
    }

    /**
     * Prefill each context length, then time single-token steps (MLA absorbed); tokens/s from the
     * median step time.
     */
    public static List<Decode> decode(ModelConfig c, Options o) {
        List<Decode> out = new ArrayList<>();
        try (NDManager m = Backend.get().newManager()) {
            DecoderLM lm = new DecoderLM(c);
            lm.initialize(m, DataType.FLOAT32);
            for (int ctx : o.contexts()) {
                int context = Math.min(ctx, c.contextLength() - o.decodeTokens());
                try (IncrementalDecoder dec =
                        new IncrementalDecoder(lm, 1, context + o.decodeTokens(), true)) {
                    int[] prompt = tokens(context, c.vocabSize());
                    float[][] logits = {dec.next(prompt)};
                    double[] sec =
                            Measure.times(
                                    0,
                                    o.decodeTokens(),
                                    () ->
                                            logits[0] =
                                                    dec.next(
                                                            new int[] {Sampler.argmax(logits[0])}));
                    out.add(
                            new Decode(
                                    c.attention(),
                                    c.ffn(),
                                    context,
                                    1 / Measure.median(sec),
                                    dec.cache().bytesPerToken()));
                }
            }
        }
        return out;
    }

    private static void zeroGradients(ModelBlock block) {
        for (Parameter p : block.getParameters().values()) {
            try (NDArray g = p.getArray().getGradient()) {
                g.subi(g);
            }
        }
    }

    private static int[] tokens(int n, int vocab) {
        Random r = new Random(n);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(vocab);
        }
        return v;
    }

    private static NDArray tokens(NDManager m, int b, int t, int vocab) {
        return m.create(tokens(b * t, vocab), new Shape(b, t));
    }
}
