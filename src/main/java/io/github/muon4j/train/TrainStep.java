package io.github.muon4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Tensors;
import io.github.muon4j.optim.MuonWithAdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One optimizer step: {@code accum} micro-batches of forward and backward, global-norm clipping, the
 * update of every parameter, gradients zeroed, MoE balancing bias nudged. Everything temporary lives
 * in one sub-manager that is closed before returning, so native memory stays flat.
 */
public final class TrainStep {

    /** What the step did. {@code finite == false}: nothing was updated. */
    public record Outcome(
            double loss, double balanceLoss, double gradNorm, boolean finite, List<float[]> expertLoad, double optimizerSeconds) {}

    private final DecoderLM model;
    private final MuonWithAdamW optimizer;
    private final NDManager parent;
    private final ParameterStore ps;
    private final List<Pair<String, Parameter>> params;

    public TrainStep(DecoderLM model, MuonWithAdamW optimizer, NDManager parent) {
        this.model = model;
        this.optimizer = optimizer;
        this.parent = parent;
        this.ps = new ParameterStore(parent, false);
        this.params = new java.util.ArrayList<>();
        model.getParameters().forEach(params::add);
    }

    /**
     * @param batches gives B*(T+1) token windows, one call per micro-batch
     * @param clip global gradient-norm limit (0: none)
     */
    public Outcome run(Supplier<int[]> batches, int b, int t, int accum, double clip) {
        Engine engine = parent.getEngine();
        try (NDManager sm = parent.newSubManager()) {
            double lossSum = 0, balanceSum = 0;
            DecoderLM.Output last = null;
            for (int micro = 0; micro < accum; micro++) {
                NDArray all = sm.create(batches.get(), new Shape(b, t + 1));
                NDArray x = all.get(":, :-1"); //                         (B, T)
                NDArray y = all.get(":, 1:"); //                          (B, T)
                try (GradientCollector gc = engine.newGradientCollector()) {
                    DecoderLM.Output out = model.forward(ps, x, true);
                    NDArray ce = LmLoss.crossEntropy(out.logits(), y);
                    gc.backward(accum == 1 ? ce.add(out.balanceLoss()) : Tensors.scale(ce.add(out.balanceLoss()), 1.0 / accum));
                    lossSum += ce.getFloat();
                    balanceSum += out.balanceLoss().getFloat();
                    last = out;
                }
            }
            double loss = lossSum / accum;
            Map<String, NDArray[]> wg = new LinkedHashMap<>();
            for (Pair<String, Parameter> p : params) {
                NDArray w = p.getValue().getArray();
                NDArray g = w.getGradient();
                g.attach(sm);
                wg.put(p.getKey(), new NDArray[] {w, g});
            }
            double norm = Double.isFinite(loss) ? globalNorm(wg) : Double.NaN;
            if (!Double.isFinite(norm)) {
                zero(wg);
                return new Outcome(loss, balanceSum / accum, norm, false, null, 0);
            }
            if (clip > 0 && norm > clip) {
                float scale = (float) (clip / (norm + 1e-6));
                for (NDArray[] pair : wg.values()) {
                    pair[1].muli(scale);
                }
            }
            long o0 = System.nanoTime();
            optimizer.step(wg);
            double optSeconds = (System.nanoTime() - o0) / 1e9;
            zero(wg);
            model.updateBalanceBias(last);
            return new Outcome(loss, balanceSum / accum, norm, true, last.expertLoad(), optSeconds);
        }
    }

    /** sqrt(sum over parameters of ||g||^2), read back once. */
    static double globalNorm(Map<String, NDArray[]> wg) {
        NDList squares = new NDList();
        for (NDArray[] pair : wg.values()) {
            squares.add(pair[1].square().sum());
        }
        return Math.sqrt(NDArrays.stack(squares).sum().getFloat());
    }

    /** Zeroes gradients in place (PyTorch accumulates them otherwise); NaN-safe, unlike g - g. */
    static void zero(Map<String, NDArray[]> wg) {
        for (NDArray[] pair : wg.values()) {
            pair[1].set(new NDIndex(":"), 0f);
        }
    }
}
