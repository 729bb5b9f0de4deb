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
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Precision;
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
 *
 * <p>The LM head and the loss run {@link #headChunk()} tokens at a time ({@link LmLoss#fusedHead}),
 * so the (B, T, vocab) logits are never materialised; {@code setHeadChunk(0)} computes the plain
 * full-logits loss instead (same loss and gradients to float32 rounding).
 *
 * <p>With {@link #setPrecision} bf16, forward and backward run under {@link Autocast}: matrix
 * products take bf16 operands; weights, gradients, optimizer state and the loss stay float32.
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
    private int headChunk = DEFAULT_HEAD_CHUNK;
    private Precision precision = Precision.FP32;

    /** Tokens per chunk of the fused head and loss (see {@code bench train --profile}). */
    public static final int DEFAULT_HEAD_CHUNK = 1024;

    public TrainStep(DecoderLM model, MuonWithAdamW optimizer, NDManager parent) {
        this.model = model;
        this.optimizer = optimizer;
        this.parent = parent;
        this.ps = new ParameterStore(parent, false);
        this.params = new java.util.ArrayList<>();
        model.getParameters().forEach(params::add);
    }

    /** Tokens per chunk of the fused head and loss; 0: the plain loss over full logits. */
    public int headChunk() {
        return headChunk;
    }

    /** Sets {@link #headChunk()}: at least 1, or 0 for the plain full-logits loss. */
    public void setHeadChunk(int tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("head chunk must be >= 0 tokens, got " + tokens);
        }
        this.headChunk = tokens;
    }

    /** The precision of the matrix products in forward and backward (weights and loss stay float32). */
    public Precision precision() {
        return precision;
    }

    /** Sets {@link #precision()}. */
    public void setPrecision(Precision precision) {
        this.precision = java.util.Objects.requireNonNull(precision, "precision");
    }

    /**
     * @param batches gives B*(T+1) token windows, one call per micro-batch
     * @param clip global gradient-norm limit (0: none)
     */
    public Outcome run(Supplier<int[]> batches, int b, int t, int accum, double clip) {
        return run(batches, b, t, accum, clip, null);
    }

    /** As {@link #run(Supplier, int, int, int, double)}, adding each phase's time to {@code profile}. */
    public Outcome run(Supplier<int[]> batches, int b, int t, int accum, double clip, StepProfile profile) {
        Engine engine = parent.getEngine();
        NDManager sm = parent.newSubManager();
        try {
            return step(sm, engine, batches, b, t, accum, clip, profile);
        } finally {
            mark(profile, StepProfile.Phase.FREE);
            sm.close();
            mark(profile, null);
        }
    }

    private static void mark(StepProfile profile, StepProfile.Phase phase) {
        if (profile != null) {
            profile.mark(phase);
        }
    }

    private Outcome step(NDManager sm, Engine engine, Supplier<int[]> batches, int b, int t, int accum,
            double clip, StepProfile profile) {
        double lossSum = 0, balanceSum = 0;
        List<float[]> load = null; // the whole step's expert load: summed over micro-batches
        for (int micro = 0; micro < accum; micro++) {
            mark(profile, StepProfile.Phase.DATA);
            NDArray all = sm.create(batches.get(), new Shape(b, t + 1));
            NDArray x = all.get(":, :-1"); //                         (B, T)
            NDArray y = all.get(":, 1:"); //                          (B, T)
            try (GradientCollector gc = engine.newGradientCollector(); Autocast ac = Autocast.enter(precision)) {
                NDArray ce, target, balance;
                if (headChunk > 0) {
                    mark(profile, StepProfile.Phase.FORWARD);
                    DecoderLM.Hidden out = model.hidden(ps, x, true);
                    mark(profile, StepProfile.Phase.HEAD_LOSS);
                    LmLoss.HeadLoss hl = LmLoss.fusedHead(out.normed(), model.headWeight(ps, true), y, headChunk);
                    ce = hl.loss();
                    target = hl.surrogate();
                    balance = out.balanceLoss();
                    load = ExpertLoad.sum(load, out.expertLoad());
                } else {
                    mark(profile, StepProfile.Phase.FORWARD);
                    DecoderLM.Output out = model.forward(ps, x, true);
                    mark(profile, StepProfile.Phase.HEAD_LOSS);
                    ce = LmLoss.crossEntropy(out.logits(), y);
                    target = ce;
                    balance = out.balanceLoss();
                    load = ExpertLoad.sum(load, out.expertLoad());
                }
                lossSum += ce.getFloat();
                mark(profile, StepProfile.Phase.BACKWARD);
                gc.backward(accum == 1 ? target.add(balance) : Tensors.scale(target.add(balance), 1.0 / accum));
                balanceSum += balance.getFloat();
            }
        }
        mark(profile, StepProfile.Phase.CLIP);
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
        mark(profile, StepProfile.Phase.OPTIMIZER);
        long o0 = System.nanoTime();
        optimizer.step(wg);
        double optSeconds = (System.nanoTime() - o0) / 1e9;
        mark(profile, StepProfile.Phase.ZERO);
        zero(wg);
        model.updateBalanceBias(load);
        return new Outcome(loss, balanceSum / accum, norm, true, load, optSeconds);
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
