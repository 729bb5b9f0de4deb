package example;

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

/**
 * A plain DJL MLP (16 -> 64 -> 1) trained on random regression data with muon4j's MuonWithAdamW
 * through DJL's own Trainer and EasyTrain.fit: Muon for the hidden 16x64 matrix, AdamW for the
 * biases and the output layer. Exits 1 unless the loss falls at least 5x.
 */
public final class MlpWithMuon {

    public static void main(String[] args) throws Exception {
        int n = 256, epochs = 50;
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(7);
            NDArray x = manager.randomNormal(new Shape(n, 16));
            NDArray y = x.matMul(manager.randomNormal(new Shape(16, 1))).tanh();
            ArrayDataset data = new ArrayDataset.Builder().setData(x).optLabels(y).setSampling(n, false).build();

            SequentialBlock net = new SequentialBlock()
                    .add(Linear.builder().setUnits(64).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build());
            MuonWithAdamW optimizer = MuonWithAdamW.builder()
                    .optMuon(Muon.builder().optLearningRateTracker(Tracker.fixed(0.02f)).build())
                    .optAdamW(DecoupledAdamW.builder().optLearningRateTracker(Tracker.fixed(3e-3f)).build())
                    .optBlock(net) // routes DJL's parameter ids: 2-D hidden weights to Muon, the rest to AdamW
                    .build();

            try (Model model = Model.newInstance("mlp")) {
                model.setBlock(net);
                try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(optimizer))) {
                    trainer.initialize(new Shape(n, 16));
                    float before = loss(trainer, x, y);
                    EasyTrain.fit(trainer, epochs, data, null);
                    float after = loss(trainer, x, y);
                    System.out.printf("loss %.4f -> %.4f after %d full-batch steps%n", before, after, epochs);
                    if (!(after < before / 5)) {
                        System.err.println("the loss did not fall 5x");
                        System.exit(1);
                    }
                }
            }
        }
    }

    private static float loss(Trainer trainer, NDArray x, NDArray y) {
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
            prediction.attach(scope);
            return Loss.l2Loss().evaluate(new NDList(y), new NDList(prediction)).getFloat();
        }
    }
}
