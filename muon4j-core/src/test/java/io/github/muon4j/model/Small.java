package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.muon4j.Backend;
import java.util.Random;

/** Small configurations and helpers shared by the model tests. */
public final class Small {

    private Small() {}

    /**
     * One intra-op thread: these tensors are tiny, and on a shared CPU two OpenMP threads wait on
     * each other for milliseconds per op (measured: 2.5 s instead of 20 ms per MoE step).
     */
    public static void init() {
        Backend.init(1, "cpu");
    }

    /** 2 layers, d 32, 4 heads, vocab 50; MoE: 1 shared + top-2 of 6 routed. */
    public static ModelConfig config(AttentionKind a, FfnKind f) {
        ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
        b.vocabSize = 50;
        b.contextLength = 32;
        b.nLayers = 2;
        b.dModel = 32;
        b.nHeads = 4;
        b.nRoutedExperts = 6;
        b.nSharedExperts = 1;
        b.topK = 2;
        b.deriveDefaults();
        b.attention = a;
        b.ffn = f;
        b.initScale = 0.2; // larger than usual so that small models have non-trivial outputs
        b.seed = 7;
        return b.build();
    }

    /** A new root manager on the CPU. */
    public static NDManager newManager() {
        return Backend.get().newManager();
    }

    public static DecoderLM model(ModelConfig c, NDManager m, DataType t) {
        DecoderLM lm = new DecoderLM(c);
        lm.initialize(m, t);
        return lm;
    }

    public static ParameterStore store(NDManager m) {
        return new ParameterStore(m, false);
    }

    /** Seeded random token ids (B, T) int32. */
    public static NDArray tokens(NDManager m, int b, int t, int vocab, long seed) {
        Random r = new Random(seed);
        int[] v = new int[b * t];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(vocab);
        }
        return m.create(v, new Shape(b, t));
    }

    /** Seeded normal array of the given type. */
    public static NDArray normal(NDManager m, long seed, DataType t, long... shape) {
        Random r = new Random(seed);
        Shape s = new Shape(shape);
        double[] v = new double[(int) s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        NDArray a = m.create(v, s);
        return t == DataType.FLOAT64 ? a : a.toType(t, false);
    }
}
