package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * MuonWithAdamW trains a small MLP (two hidden matrices, a head, two biases) to imitate a random
 * teacher network, full batch, and beats SGD with momentum 0.9 (DJL's Sgd) at equal steps.
 *
 * <p>Both get the same schedule, a linear decay of the learning rate to zero: Muon's orthogonalized
 * step keeps its size as the gradient shrinks, so it needs the decay to settle, while SGD's step
 * shrinks on its own. SGD is given its best of learning rates 0.5, 1 and 2 (at 2.5 it diverges);
 * Muon runs at lr 0.05 (AdamW 3e-3 for the head and biases), untuned. Observed on this machine:
 * initial 0.645, MuonWithAdamW about 3e-5, SGD best about 2.3e-3 (lr 2).
 */
class ConvergenceTest {

    private static final int IN = 16;
    private static final int HIDDEN = 64;
    private static final int OUT = 8;
    private static final int SAMPLES = 256;
    private static final int STEPS = 150;

    @Test
    void muonWithAdamWBeatsSgd() {
        Map<String, ParamRole> roles =
                Map.of(
                        "w1", ParamRole.HIDDEN_MATRIX,
                        "w2", ParamRole.HIDDEN_MATRIX,
                        "head", ParamRole.HEAD,
                        "b1", ParamRole.BIAS,
                        "b2", ParamRole.BIAS);
        MuonWithAdamW muon =
                MuonWithAdamW.builder()
                        .optRoles(roles)
                        .optMuon(Muon.builder().optLearningRateTracker(decaying(0.05f)).build())
                        .optAdamW(
                                DecoupledAdamW.builder()
                                        .optLearningRateTracker(decaying(3e-3f))
                                        .optWeightDecays(0f)
                                        .build())
                        .build();
        double[] muonLoss = train(muon::step);
        double bestSgd = Double.MAX_VALUE;
        StringBuilder report = new StringBuilder();
        for (float lr : new float[] {0.5f, 1.0f, 2.0f}) {
            Optimizer sgd =
                    Optimizer.sgd().setLearningRateTracker(decaying(lr)).optMomentum(0.9f).build();
            double[] loss = train(all -> all.forEach((k, v) -> sgd.update(k, v[0], v[1])));
            bestSgd = Math.min(bestSgd, loss[1]);
            report.append(String.format(" sgd(lr %.1f) %.2e", lr, loss[1]));
        }
        String summary =
                String.format("initial %.3f muon %.2e%s", muonLoss[0], muonLoss[1], report);
        System.out.println("ConvergenceTest " + summary);
        assertTrue(muonLoss[1] < 1e-3 * muonLoss[0], summary);
        assertTrue(muonLoss[1] < bestSgd, summary);
    }

    /** Linear decay from {@code lr} on the first update to 0 after STEPS updates. */
    private static Tracker decaying(float lr) {
        return t -> lr * Math.max(0f, 1f - (t - 1) / (float) STEPS);
    }

    /**
     * Full-batch training; returns {initial loss, final loss}.
     *
     * @param step called once per step with name -> {weight, gradient}
     */
    private static double[] train(Consumer<Map<String, NDArray[]>> step) {
        try (NDManager m = Backend.get().newManager()) {
            NDArray x = gaussian(m, 1, 1.0, SAMPLES, IN);
            NDArray t1 = gaussian(m, 2, 1.0 / Math.sqrt(IN), HIDDEN, IN);
            NDArray t2 = gaussian(m, 3, 1.0 / Math.sqrt(HIDDEN), OUT, HIDDEN);
            NDArray y = x.matMul(t1.transpose()).tanh().matMul(t2.transpose());
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("w1", gaussian(m, 4, 1.0 / Math.sqrt(IN), HIDDEN, IN));
            params.put("b1", m.zeros(new Shape(HIDDEN)));
            params.put("w2", gaussian(m, 5, 1.0 / Math.sqrt(HIDDEN), HIDDEN, HIDDEN));
            params.put("b2", m.zeros(new Shape(HIDDEN)));
            params.put("head", gaussian(m, 6, 1.0 / Math.sqrt(HIDDEN), OUT, HIDDEN));
            params.values().forEach(p -> p.setRequiresGradient(true));
            double first = Double.NaN;
            double last = Double.NaN;
            for (int s = 0; s <= STEPS; s++) {
                try (NDManager scope = m.newSubManager()) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = loss(scope, x, y, params);
                        last = loss.getFloat();
                        if (s == 0) {
                            first = last;
                        }
                        if (s == STEPS) {
                            break; // the final loss is measured, not trained on
                        }
                        gc.backward(loss);
                    }
                    Map<String, NDArray[]> all = new LinkedHashMap<>();
                    for (Map.Entry<String, NDArray> p : params.entrySet()) {
                        NDArray g = p.getValue().getGradient();
                        g.attach(scope);
                        all.put(p.getKey(), new NDArray[] {p.getValue(), g});
                    }
                    step.accept(all);
                    for (NDArray[] wg : all.values()) {
                        wg[1].subi(wg[1]); // PyTorch accumulates gradients: zero them
                    }
                }
            }
            return new double[] {first, last};
        }
    }

    /** Mean squared error of tanh(tanh(x W1^T + b1) W2^T + b2) head^T against y. */
    private static NDArray loss(NDManager scope, NDArray x, NDArray y, Map<String, NDArray> p) {
        NDArray h = scoped(scope, x.matMul(scoped(scope, p.get("w1").transpose())));
        h = h.add(p.get("b1")).tanh();
        h = h.matMul(scoped(scope, p.get("w2").transpose())).add(p.get("b2")).tanh();
        NDArray out = h.matMul(scoped(scope, p.get("head").transpose()));
        return out.sub(y).square().mean();
    }

    private static NDArray scoped(NDManager scope, NDArray a) {
        a.attach(scope);
        return a;
    }
}
