package io.github.muon4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import org.junit.jupiter.api.Test;

/**
 * Example (a): Muon on a plain DJL MLP (16 -> 64 -> 1) through DJL's own {@code EasyTrain.fit}. The
 * hidden matrix goes to Muon; the output layer and the biases to AdamW ({@code optBlock}'s default
 * roles).
 */
class MuonMlpExampleTest {

    @Test
    void muonTrainsADjlMlpThroughEasyTrain() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(1);
            // regression data: y = tanh(x A) b, a random teacher network
            NDArray x = manager.randomNormal(new Shape(256, 16));
            NDArray y =
                    x.matMul(manager.randomNormal(new Shape(16, 8)))
                            .tanh()
                            .matMul(manager.randomNormal(new Shape(8, 1)));
            ArrayDataset data =
                    new ArrayDataset.Builder()
                            .setData(x)
                            .optLabels(y)
                            .setSampling(256, false)
                            .build();

            SequentialBlock mlp =
                    new SequentialBlock()
                            .add(Linear.builder().setUnits(64).build())
                            .add(Activation::relu)
                            .add(Linear.builder().setUnits(1).build());

            MuonWithAdamW optimizer =
                    MuonWithAdamW.builder()
                            .optMuon(
                                    Muon.builder()
                                            .optLearningRateTracker(Tracker.fixed(0.05f))
                                            .build())
                            .optAdamW(
                                    DecoupledAdamW.builder()
                                            .optLearningRateTracker(Tracker.fixed(0.02f))
                                            .build())
                            .optBlock(
                                    mlp) // hidden matrices to Muon; the output layer and biases to
                            // AdamW
                            .build();

            try (Model model = Model.newInstance("mlp")) {
                model.setBlock(mlp);
                DefaultTrainingConfig config =
                        new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(optimizer);
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(256, 16));
                    float before = loss(trainer, x, y);

                    EasyTrain.fit(trainer, 50, data, null); // 50 full-batch steps

                    float after = loss(trainer, x, y);
                    System.out.printf(
                            "MLP with MuonWithAdamW through EasyTrain.fit: loss %.4f -> %.4f%n",
                            before, after);
                    assertTrue(after < before / 5, "loss " + before + " -> " + after);
                }
            }
        }
    }

    static float loss(Trainer trainer, NDArray x, NDArray y) {
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray l = trainer.getLoss().evaluate(new NDList(y), trainer.evaluate(new NDList(x)));
            l.attach(scope);
            return l.getFloat();
        }
    }
}
