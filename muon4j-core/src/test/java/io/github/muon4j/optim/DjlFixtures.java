package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A plain DJL model for the optimizer tests, as a user of the library would write it: a {@link
 * SequentialBlock} Linear 16 -> 64, relu, Linear 64 -> 1 on random regression data (targets from a
 * random tanh teacher), full batch, DJL's L2 loss. Initialization and data come from
 * java.util.Random, so every run and every process sees the same numbers.
 */
final class DjlFixtures {

    static final int N = 256;
    static final int IN = 16;
    static final int HIDDEN = 64;
    static final Shape INPUT = new Shape(N, IN);
    static final Loss LOSS = Loss.l2Loss();

    private DjlFixtures() {}

    /** Linear 16 -> 64, relu, Linear 64 -> 1 (both with bias). */
    static SequentialBlock mlp() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(HIDDEN).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(1).build());
    }

    /**
     * {@link #mlp()} with seeded weights (zero biases), initialized through DJL's standard call.
     */
    static SequentialBlock initializedMlp(NDManager m) {
        SequentialBlock block = mlp();
        block.setInitializer(new SeededInit(7), Parameter.Type.WEIGHT);
        block.initialize(m, DataType.FLOAT32, INPUT);
        return block;
    }

    /**
     * Weights normal(0, 1/sqrt(fan_in)) from java.util.Random, seeded by the seed and the number of
     * weights initialized before (DJL initializes in a fixed order).
     */
    static final class SeededInit implements Initializer {
        private final long seed;
        private int calls;

        SeededInit(long seed) {
            this.seed = seed;
        }

        @Override
        public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
            Random r = new Random(seed * 1000 + calls++);
            float[] v = new float[(int) shape.size()];
            double std = 1.0 / Math.sqrt(shape.get(shape.dimension() - 1));
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * std);
            }
            NDArray a = manager.create(v, shape);
            NDArray owned = a.duplicate(); // engine memory, not the Java buffer
            a.close();
            return owned;
        }
    }

    /** {inputs (N, 16), targets (N, 1)}: x standard normal, y = tanh(x T1^T) T2^T. */
    static NDArray[] data(NDManager m) {
        NDArray x = OptimTestSupport.gaussian(m, 1, 1.0, N, IN);
        NDArray t1 = OptimTestSupport.gaussian(m, 2, 1.0 / Math.sqrt(IN), 32, IN);
        NDArray t2 = OptimTestSupport.gaussian(m, 3, 1.0 / Math.sqrt(32), 1, 32);
        NDArray y = x.matMul(t1.transpose()).tanh().matMul(t2.transpose());
        return new NDArray[] {x, y};
    }

    /** The recipe of these tests: Muon at 0.02 for hidden matrices, AdamW at 0.01 for the rest. */
    static MuonWithAdamW muonWithAdamW(Block block) {
        return MuonWithAdamW.builder()
                .optBlock(block)
                .optMuon(muon(null).build())
                .optAdamW(
                        DecoupledAdamW.builder()
                                .optLearningRateTracker(Tracker.fixed(0.01f))
                                .optWeightDecays(0f)
                                .build())
                .build();
    }

    /** Muon alone at lr 0.02 (its fallback, AdamW lr 1e-3, takes the biases). */
    static Muon.Builder muon(Block block) {
        Muon.Builder b = Muon.builder().optLearningRateTracker(Tracker.fixed(0.02f));
        return block != null ? b.optBlock(block) : b;
    }

    /** The loss of {@code block} on the data, no gradients. */
    static double loss(Block block, NDManager m, NDArray[] xy) {
        try (NDManager s = m.newSubManager()) {
            ParameterStore ps = new ParameterStore(s, false);
            NDArray x = scoped(s, xy[0].duplicate());
            NDArray y = scoped(s, xy[1].duplicate());
            NDList pred = block.forward(ps, new NDList(x), false);
            return LOSS.evaluate(new NDList(y), pred).getFloat();
        }
    }

    /**
     * One full-batch step by hand: forward and backward in a GradientCollector, then {@code update}
     * receives name -> {weight, gradient}. No gradient is zeroed here: the optimizer must do it.
     */
    static void handStep(Block block, NDManager m, NDArray[] xy, Updater update) {
        try (NDManager s = m.newSubManager()) {
            ParameterStore ps = new ParameterStore(s, false);
            NDArray x = scoped(s, xy[0].duplicate());
            NDArray y = scoped(s, xy[1].duplicate());
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                NDList pred = block.forward(ps, new NDList(x), true);
                gc.backward(LOSS.evaluate(new NDList(y), pred));
            }
            Map<String, NDArray[]> byName = new LinkedHashMap<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                NDArray w = p.getValue().getArray();
                byName.put(p.getKey(), new NDArray[] {w, scoped(s, w.getGradient())});
            }
            update.update(byName, block);
        }
    }

    /** What a hand step calls with the gradients. */
    interface Updater {
        void update(Map<String, NDArray[]> byName, Block block);
    }

    /** DJL's way: {@code update(parameter id, weight, gradient)}, one parameter at a time. */
    static Updater byId(ai.djl.training.optimizer.Optimizer opt) {
        return (byName, block) -> {
            for (Pair<String, Parameter> p : block.getParameters()) {
                NDArray[] wg = byName.get(p.getKey());
                opt.update(p.getValue().getId(), wg[0], wg[1]);
            }
        };
    }

    /** Every parameter's values, in {@code getParameters()} order. */
    static List<float[]> weights(Block block) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            out.add(p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    static void writeWeights(Block block, OutputStream out) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        for (Pair<String, Parameter> p : block.getParameters()) {
            float[] v = p.getValue().getArray().toFloatArray();
            d.writeUTF(p.getKey());
            d.writeInt(v.length);
            for (float f : v) {
                d.writeFloat(f);
            }
        }
        d.flush();
    }

    /** Sets every parameter from {@link #writeWeights}'s stream. */
    static void readWeights(Block block, InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        for (Pair<String, Parameter> p : block.getParameters()) {
            String name = d.readUTF();
            if (!name.equals(p.getKey())) {
                throw new IOException("expected " + p.getKey() + ", got " + name);
            }
            float[] v = new float[d.readInt()];
            for (int i = 0; i < v.length; i++) {
                v[i] = d.readFloat();
            }
            p.getValue().getArray().set(v);
        }
    }

    static byte[] weightBytes(Block block) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeWeights(block, out);
        return out.toByteArray();
    }

    /** Runs {@code main} of {@code mainClass} in a child JVM on this classpath; its exit code. */
    static int runJava(Path log, Class<?> mainClass, String... args)
            throws IOException, InterruptedException {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("-Xmx512m");
        c.add("-Dai.djl.offline=true");
        c.add("-Dai.djl.pytorch.num_threads=1");
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(mainClass.getName());
        c.addAll(List.of(args));
        Process p =
                new ProcessBuilder(c)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        return p.waitFor();
    }

    static NDArray scoped(NDManager s, NDArray a) {
        a.attach(s);
        return a;
    }
}
