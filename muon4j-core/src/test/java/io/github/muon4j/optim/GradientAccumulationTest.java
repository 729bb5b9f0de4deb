package io.github.muon4j.optim;

import static io.github.muon4j.optim.DjlFixtures.INPUT;
import static io.github.muon4j.optim.DjlFixtures.LOSS;
import static io.github.muon4j.optim.DjlFixtures.data;
import static io.github.muon4j.optim.DjlFixtures.loss;
import static io.github.muon4j.optim.DjlFixtures.mlp;
import static io.github.muon4j.optim.DjlFixtures.scoped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.github.muon4j.Backend;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.Small;
import io.github.muon4j.train.TrainStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The optimizers zero gradients only after consuming them, so gradients summed over several
 * backward passes before one step (DJL's batch splits, muon4j's {@code --grad-accum}) are what the
 * step uses: two half batches then one step equal one full batch step.
 */
class GradientAccumulationTest {

    @Test
    void djlTrainerTwoHalfBatchesThenOneStepEqualOneFullBatch() throws Exception {
        try (NDManager m = Backend.get().newManager()) {
            NDArray[] xy = data(m);
            double full = train(m, xy, 1);
            double halves = train(m, xy, 2);
            System.out.printf(
                    "GradientAccumulationTest DJL Trainer: full batch %.6f, two halves %.6f%n",
                    full, halves);
            assertEquals(full, halves, 1e-5 * full);
        }
    }

    /** 10 steps of MuonWithAdamW under DJL's Trainer, each over {@code parts} backward passes. */
    private static double train(NDManager m, NDArray[] xy, int parts) throws Exception {
        SequentialBlock block = mlp();
        try (Model model = Model.newInstance("mlp")) {
            model.setBlock(block);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(LOSS)
                            .optOptimizer(DjlFixtures.muonWithAdamW(block))
                            .optInitializer(new DjlFixtures.SeededInit(7), Parameter.Type.WEIGHT)
                            .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(INPUT);
                long rows = DjlFixtures.N / parts;
                for (int s = 0; s < 10; s++) {
                    try (NDManager sm = m.newSubManager();
                            GradientCollector gc = trainer.newGradientCollector()) {
                        for (int p = 0; p < parts; p++) {
                            NDIndex slice = new NDIndex(p * rows + ":" + (p + 1) * rows);
                            NDList x = new NDList(scoped(sm, xy[0].get(slice)));
                            NDList y = new NDList(scoped(sm, xy[1].get(slice)));
                            NDArray l = LOSS.evaluate(y, trainer.forward(x));
                            gc.backward(l.div(parts)); // the mean over the whole batch
                        }
                    }
                    trainer.step();
                }
                return loss(block, m, xy);
            }
        }
    }

    @Test
    void trainStepGradAccumTwoEqualsOneDoubleBatch() {
        Small.init();
        try (NDManager m = Small.newManager()) {
            Random r = new Random(5);
            List<int[]> rows = new ArrayList<>();
            for (int i = 0; i < 3 * 4; i++) {
                rows.add(r.ints(17, 0, 50).toArray());
            }
            List<float[]> a = trainDecoder(m, rows, 4, 1);
            List<float[]> b = trainDecoder(m, rows, 2, 2);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < a.size(); i++) {
                maxDiff = Math.max(maxDiff, OptimTestSupport.maxAbsDiff(a.get(i), b.get(i)));
                maxAbs = Math.max(maxAbs, OptimTestSupport.maxAbs(a.get(i)));
            }
            System.out.printf(
                    "GradientAccumulationTest TrainStep: max |difference| %.2e of max |w| %.2e%n",
                    maxDiff, maxAbs);
            assertTrue(maxDiff < 1e-5, "accum 2 x batch 2 against accum 1 x batch 4: " + maxDiff);
        }
    }

    /** Three TrainSteps over the same 12 rows, {@code batch} rows per micro-batch; the weights. */
    private static List<float[]> trainDecoder(
            NDManager parent, List<int[]> rows, int batch, int accum) {
        try (NDManager m = parent.newSubManager()) {
            DecoderLM model =
                    Small.model(
                            Small.config(AttentionKind.MHA, FfnKind.DENSE), m, DataType.FLOAT32);
            TrainStep step =
                    new TrainStep(
                            model,
                            io.github.muon4j.train.OptimizerRecipe.of(
                                    true,
                                    model.roles(),
                                    Tracker.fixed(0.02f),
                                    Tracker.fixed(3e-3f),
                                    0.1f),
                            m);
            int[] next = {0};
            Supplier<int[]> batches =
                    () -> {
                        int[] out = new int[batch * 17];
                        for (int i = 0; i < batch; i++) {
                            System.arraycopy(rows.get(next[0]++), 0, out, i * 17, 17);
                        }
                        return out;
                    };
            for (int s = 0; s < 3; s++) {
                assertTrue(step.run(batches, batch, 16, accum, 0).finite());
            }
            List<float[]> w = new ArrayList<>();
            for (Pair<String, Parameter> p : model.getParameters()) {
                w.add(p.getValue().getArray().toFloatArray());
            }
            return w;
        }
    }
}
