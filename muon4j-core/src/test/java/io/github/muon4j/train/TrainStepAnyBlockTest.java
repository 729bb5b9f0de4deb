package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.data.TokenShard;
import io.github.muon4j.data.TokenWindowDataset;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TrainStep} with a plain DJL block, DJL's L2 loss and DJL's Adam: the same steps as a
 * hand-written loop.
 */
class TrainStepAnyBlockTest {

    static SequentialBlock mlp(NDManager m) {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(32).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(1).build());
        b.setInitializer(new NormalInitializer(0.3f), Parameter.Type.WEIGHT);
        m.getEngine().setRandomSeed(5);
        b.initialize(m, DataType.FLOAT32, new Shape(64, 8));
        return b;
    }

    @Test
    void aDjlMlpWithDjlAdamTrainsAsTheHandWrittenLoopDoes() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(1);
            NDArray x = m.randomNormal(new Shape(64, 8));
            NDArray y = x.sum(new int[] {1}, true).sin();
            ArrayDataset data =
                    new ArrayDataset.Builder()
                            .setData(x)
                            .optLabels(y)
                            .setSampling(32, false)
                            .build();
            Loss l2 = Loss.l2Loss();

            SequentialBlock a = mlp(m);
            TrainStep step =
                    new TrainStep(
                            a,
                            l2,
                            Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build(),
                            m);
            double first = Double.NaN, last = Double.NaN;
            for (int epoch = 0; epoch < 20; epoch++) {
                Iterator<Batch> it = data.getData(m).iterator();
                TrainStep.Outcome o =
                        step.run(it::next, 2, 0); // two micro-batches of 32 = the whole set
                assertTrue(o.finite());
                first = epoch == 0 ? o.loss() : first;
                last = o.loss();
            }

            // the same 20 steps by hand: mean of the two micro-batch losses, DJL's Adam per
            // parameter
            SequentialBlock b = mlp(m);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build();
            ParameterStore ps = new ParameterStore(m, false);
            double handLast = Double.NaN;
            for (int epoch = 0; epoch < 20; epoch++) {
                double sum = 0;
                for (Batch batch : data.getData(m)) {
                    try (batch;
                            GradientCollector gc = m.getEngine().newGradientCollector()) {
                        NDArray l =
                                l2.evaluate(
                                        batch.getLabels(), b.forward(ps, batch.getData(), true));
                        sum += l.getFloat();
                        gc.backward(l.div(2));
                    }
                }
                handLast = sum / 2;
                for (Pair<String, Parameter> p : b.getParameters()) {
                    NDArray w = p.getValue().getArray();
                    adam.update(p.getValue().getId(), w, w.getGradient());
                    w.getGradient().subi(w.getGradient());
                }
            }
            System.out.printf(
                    "TrainStep, DJL MLP + L2 + Adam: loss %.5f -> %.5f (hand-written loop: %.5f)%n",
                    first, last, handLast);
            assertTrue(last < first / 3, first + " -> " + last);
            assertEquals(handLast, last, 1e-6);
            for (int i = 0; i < a.getParameters().size(); i++) {
                float[] wa = a.getParameters().get(i).getValue().getArray().toFloatArray();
                float[] wb = b.getParameters().get(i).getValue().getArray().toFloatArray();
                assertArrayEquals(wb, wa, 1e-6f, a.getParameters().get(i).getKey());
            }
        }
    }

    /**
     * A DecoderLM fed DJL batches of a TokenWindowDataset steps exactly as when fed the same
     * windows as int[].
     */
    @Test
    void aDecoderLmOnDatasetBatchesStepsAsOnTokenWindows(@TempDir Path dir) throws Exception {
        int[] ids = new int[401];
        Random r = new Random(3);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(257);
        }
        Path f = dir.resolve("t.bin");
        TokenShard.write(f, ids, 257, "byte");
        TokenDataset tokens = TokenDataset.of(List.of(TokenShard.map(f)), "byte", 257);
        int b = 2, t = 16;
        TokenWindowDataset windows =
                TokenWindowDataset.builder().setTokens(tokens, t).setSampling(b, false).build();
        ModelConfig c =
                ModelConfig.fromJson(
                        "{\"n_layers\": 2, \"d_model\": 32, \"n_heads\": 4, \"context_length\": 32}");
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderLM a = new DecoderLM(c), bLm = new DecoderLM(c); // the same seeded weights
            a.initialize(m, DataType.FLOAT32);
            bLm.initialize(m, DataType.FLOAT32);
            TrainStep onBatches =
                    new TrainStep(
                            a,
                            Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build(),
                            m);
            TrainStep onWindows =
                    new TrainStep(
                            bLm,
                            Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build(),
                            m);
            Iterator<Batch> it = windows.getData(m).iterator();
            int[] next = {0};
            for (int step = 0; step < 3; step++) {
                double la = onBatches.run(it::next, 1, 1.0).loss();
                double lb =
                        onWindows
                                .run(
                                        () -> {
                                            int[] w = new int[b * (t + 1)];
                                            for (int row = 0; row < b; row++) {
                                                System.arraycopy(
                                                        ids,
                                                        (int) windows.windowStart(next[0]++),
                                                        w,
                                                        row * (t + 1),
                                                        t + 1);
                                            }
                                            return w;
                                        },
                                        b,
                                        t,
                                        1,
                                        1.0)
                                .loss();
                assertEquals(lb, la, 1e-6, "step " + step);
            }
        }
    }
}
