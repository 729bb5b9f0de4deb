package io.github.muon4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.loss.Loss;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.github.muon4j.optim.AdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.optim.ParamRole;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Example (a): Muon on a plain DJL MLP (16 -> 64 -> 1) through DJL's own {@code EasyTrain.fit}.
 * The hidden matrix goes to Muon; the output layer and the biases to AdamW.
 */
class MuonMlpExampleTest {

    @Test
    void muonTrainsADjlMlpThroughEasyTrain() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(1);
            // regression data: y = tanh(x A) b, a random teacher network
            NDArray x = manager.randomNormal(new Shape(256, 16));
            NDArray y = x.matMul(manager.randomNormal(new Shape(16, 8))).tanh().matMul(manager.randomNormal(new Shape(8, 1)));
            ArrayDataset data = new ArrayDataset.Builder().setData(x).optLabels(y).setSampling(256, false).build();

            SequentialBlock mlp = new SequentialBlock()
                    .add(Linear.builder().setUnits(64).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build());

            MuonWithAdamW optimizer = MuonWithAdamW.builder()
                    .optMuon(Muon.builder().optLearningRateTracker(Tracker.fixed(0.05f)).build())
                    .optAdamW(AdamW.builder().optLearningRateTracker(Tracker.fixed(0.02f)).build())
                    .optRoles(rolesById(mlp)) // DJL's Trainer updates parameters by id
                    .build();

            try (Model model = Model.newInstance("mlp")) {
                model.setBlock(mlp);
                DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(optimizer);
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(256, 16));
                    Assumptions.assumeTrue(muonWithAdamWZeroesGradients(manager),
                            "MuonWithAdamW does not zero the gradients it consumed yet (issue 17, optimizer part):"
                                    + " under DJL's Trainer they pile up across steps");
                    float before = loss(trainer, x, y);

                    EasyTrain.fit(trainer, 50, data, null); // 50 full-batch steps

                    float after = loss(trainer, x, y);
                    System.out.printf("MLP with MuonWithAdamW through EasyTrain.fit: loss %.4f -> %.4f%n", before, after);
                    assertTrue(after < before / 5, "loss " + before + " -> " + after);
                }
            }
        }
    }

    /** Hidden matrices to Muon; the output layer and every bias to AdamW; keyed by DJL parameter id. */
    static Map<String, ParamRole> rolesById(SequentialBlock mlp) {
        Map<String, ParamRole> roles = new HashMap<>();
        var params = mlp.getParameters();
        String output = params.get(params.size() - 1).getKey().replaceAll("_bias$|_weight$", "");
        for (Pair<String, Parameter> p : params) {
            boolean bias = p.getValue().getType() == Parameter.Type.BIAS;
            ParamRole role = bias ? ParamRole.BIAS : p.getKey().startsWith(output) ? ParamRole.HEAD : ParamRole.HIDDEN_MATRIX;
            roles.put(p.getValue().getId(), role);
        }
        return roles;
    }

    static float loss(Trainer trainer, NDArray x, NDArray y) {
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray l = trainer.getLoss().evaluate(new NDList(y), trainer.evaluate(new NDList(x)));
            l.attach(scope);
            return l.getFloat();
        }
    }

    /** Whether MuonWithAdamW leaves a gradient it consumed at zero (DJL's contract), tried on a separate 4x4 weight. */
    private static boolean muonWithAdamWZeroesGradients(NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray w = scope.randomNormal(new Shape(4, 4));
            w.setRequiresGradient(true);
            try (GradientCollector gc = scope.getEngine().newGradientCollector()) {
                gc.backward(w.square().sum());
            }
            MuonWithAdamW.builder().build().update("probe", w, w.getGradient());
            return w.getGradient().abs().sum().getFloat() == 0f;
        }
    }
}
