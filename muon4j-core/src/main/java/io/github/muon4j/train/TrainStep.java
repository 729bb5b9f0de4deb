package io.github.muon4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import io.github.muon4j.Denormals;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Precision;
import io.github.muon4j.model.Tensors;
import io.github.muon4j.optim.MuonWithAdamW;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One optimizer step of any {@link Block} with any {@link Loss} and {@link Optimizer}: {@code
 * accum} micro-batches of forward and backward, global-norm clipping, the update of every
 * parameter, gradients zeroed. Everything temporary lives in one sub-manager that is closed before
 * returning, so native memory stays flat.
 *
 * <pre>{@code
 * TrainStep step = new TrainStep(block, Loss.l2Loss(), optimizer, manager);
 * TrainStep.Outcome o = step.run(batches, 1, 1.0);   // batches: a Supplier<Batch>; no clipping above 1.0
 * }</pre>
 *
 * <p>A {@link MuonWithAdamW} gets all parameters in one {@code step} call (keyed by parameter name,
 * so same-shape matrices are orthogonalised together); any other optimizer gets DJL's {@code
 * update(parameterId, weight, grad)} per parameter.
 *
 * <p>For a {@link DecoderLM} ({@link #TrainStep(DecoderLM, Optimizer, NDManager)}) the LM head and
 * the loss run {@link #headChunk()} tokens at a time ({@link LmLoss#fusedHead}), so the (B, T,
 * vocab) logits are never materialised ({@code setHeadChunk(0)} computes the plain full-logits loss
 * instead: same loss and gradients to float32 rounding); the MoE balancing loss is added and the
 * balancing bias nudged after each update.
 *
 * <p>With {@link #setPrecision} bf16, forward and backward run under {@link Autocast}: matrix
 * products take bf16 operands; weights, gradients and optimizer state stay float32.
 */
public final class TrainStep {

    /** What the step did. {@code finite == false}: nothing was updated. */
    public record Outcome(
            double loss,
            double balanceLoss,
            double gradNorm,
            boolean finite,
            List<float[]> expertLoad,
            double optimizerSeconds) {}

    /**
     * One micro-batch's forward.
     *
     * @param loss the loss to report (a scalar)
     * @param target the scalar to differentiate (the loss, or a surrogate with its gradient)
     * @param balance the MoE balancing loss (a scalar, added to the target), or null
     * @param expertLoad per MoE layer, the tokens routed to each expert, or null
     */
    private record Forward(
            NDArray loss, NDArray target, NDArray balance, List<float[]> expertLoad) {}

    private final Block block;
    private final DecoderLM lm; // null unless the block is a DecoderLM trained on its own LM loss
    private final Loss loss; // null for the DecoderLM's own loss
    private final Optimizer optimizer;
    private final NDManager parent;
    private final ParameterStore ps;
    private final List<Pair<String, Parameter>> params;
    private int headChunk = DEFAULT_HEAD_CHUNK;
    private Precision precision = Precision.FP32;
    private boolean flushDenormals = true;

    /** Tokens per chunk of the fused head and loss (see {@code bench train --profile}). */
    public static final int DEFAULT_HEAD_CHUNK = 1024;

    /**
     * A step of {@code block} on {@code loss}: {@code loss.evaluate(labels, block.forward(data))}.
     *
     * @param parent the manager of the block's parameters; each step's temporaries go to a
     *     sub-manager
     */
    public TrainStep(Block block, Loss loss, Optimizer optimizer, NDManager parent) {
        this(block, null, loss, optimizer, parent);
    }

    /** A step of a language model on its next-token loss (fused head, MoE balancing). */
    public TrainStep(DecoderLM model, Optimizer optimizer, NDManager parent) {
        this(model, model, null, optimizer, parent);
    }

    private TrainStep(Block block, DecoderLM lm, Loss loss, Optimizer optimizer, NDManager parent) {
        this.block = block;
        this.lm = lm;
        this.loss = loss;
        this.optimizer = optimizer;
        this.parent = parent;
        this.ps = new ParameterStore(parent, false);
        this.params = new ArrayList<>();
        block.getParameters().forEach(params::add);
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

    /** The precision of the matrix products in forward and backward (weights stay float32). */
    public Precision precision() {
        return precision;
    }

    /** Sets {@link #precision()}. */
    public void setPrecision(Precision precision) {
        this.precision = java.util.Objects.requireNonNull(precision, "precision");
    }

    /**
     * Whether the step runs in a {@link Denormals#flushToZero()} scope: values below 1.2e-38 become
     * 0 in libtorch's CPU work (a microcode assist per operation on Intel cores otherwise).
     * Default: true.
     */
    public boolean flushDenormals() {
        return flushDenormals;
    }

    /** Sets {@link #flushDenormals()}. */
    public void setFlushDenormals(boolean on) {
        this.flushDenormals = on;
    }

    /**
     * A step on token windows: inputs are a window's first T tokens, labels its last T.
     *
     * @param batches gives B*(T+1) token windows, one call per micro-batch
     * @param clip global gradient-norm limit (0: none)
     */
    public Outcome run(Supplier<int[]> batches, int b, int t, int accum, double clip) {
        return run(batches, b, t, accum, clip, null);
    }

    /**
     * As {@link #run(Supplier, int, int, int, double)}, adding each phase's time to {@code
     * profile}.
     */
    public Outcome run(
            Supplier<int[]> batches, int b, int t, int accum, double clip, StepProfile profile) {
        return run(
                sm -> {
                    NDArray all = sm.create(batches.get(), new Shape(b, t + 1));
                    return new NDList[] {
                        new NDList(all.get(":, :-1")), new NDList(all.get(":, 1:"))
                    }; // (B, T), (B, T)
                },
                accum,
                clip,
                profile);
    }

    /**
     * A step on DJL batches (as a {@code Dataset} gives them): {@code accum} batches, each closed
     * by the step once its backward is done.
     *
     * @param clip global gradient-norm limit (0: none)
     */
    public Outcome run(Supplier<Batch> batches, int accum, double clip) {
        return run(
                sm -> {
                    try (Batch batch = batches.get()) {
                        NDList data = batch.getData(), labels = batch.getLabels();
                        data.attach(sm); // the step's manager closes them, after the backward
                        labels.attach(sm);
                        return new NDList[] {data, labels};
                    }
                },
                accum,
                clip,
                null);
    }

    /** A micro-batch's (data, labels), created in or attached to the given step manager. */
    private interface MicroBatches {
        NDList[] next(NDManager stepManager);
    }

    private Outcome run(MicroBatches batches, int accum, double clip, StepProfile profile) {
        Engine engine = parent.getEngine();
        NDManager sm = parent.newSubManager();
        try (Denormals d = flushDenormals ? Denormals.flushToZero() : null) {
            return step(sm, engine, batches, accum, clip, profile);
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

    private Outcome step(
            NDManager sm,
            Engine engine,
            MicroBatches batches,
            int accum,
            double clip,
            StepProfile profile) {
        double lossSum = 0, balanceSum = 0;
        List<float[]> load = null; // the whole step's expert load: summed over micro-batches
        for (int micro = 0; micro < accum; micro++) {
            mark(profile, StepProfile.Phase.DATA);
            NDList[] xy = batches.next(sm);
            try (GradientCollector gc = engine.newGradientCollector();
                    Autocast ac = Autocast.enter(precision)) {
                Forward f = forward(xy[0], xy[1], profile);
                NDArray target = f.balance() == null ? f.target() : f.target().add(f.balance());
                load = ExpertLoad.sum(load, f.expertLoad());
                lossSum += f.loss().getFloat();
                mark(profile, StepProfile.Phase.BACKWARD);
                gc.backward(accum == 1 ? target : Tensors.scale(target, 1.0 / accum));
                if (f.balance() != null) {
                    balanceSum += f.balance().getFloat();
                }
            }
        }
        mark(profile, StepProfile.Phase.CLIP);
        double meanLoss = lossSum / accum;
        Map<String, NDArray[]> wg = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : params) {
            NDArray w = p.getValue().getArray();
            NDArray g = w.getGradient();
            g.attach(sm);
            wg.put(p.getKey(), new NDArray[] {w, g});
        }
        double norm = Double.isFinite(meanLoss) ? globalNorm(wg) : Double.NaN;
        if (!Double.isFinite(norm)) {
            zero(wg);
            return new Outcome(meanLoss, balanceSum / accum, norm, false, null, 0);
        }
        if (clip > 0 && norm > clip) {
            float scale = (float) (clip / (norm + 1e-6));
            for (NDArray[] pair : wg.values()) {
                pair[1].muli(scale);
            }
        }
        mark(profile, StepProfile.Phase.OPTIMIZER);
        long o0 = System.nanoTime();
        update(wg);
        double optSeconds = (System.nanoTime() - o0) / 1e9;
        mark(profile, StepProfile.Phase.ZERO);
        if (!(optimizer instanceof MuonWithAdamW)) {
            zero(wg); // MuonWithAdamW zeroes what it consumed; other optimizers may not
        }
        if (lm != null) {
            lm.updateBalanceBias(load);
        }
        return new Outcome(meanLoss, balanceSum / accum, norm, true, load, optSeconds);
    }

    /**
     * The forward of one micro-batch: the LM's own loss, or the given {@link Loss} of the block's
     * output.
     */
    private Forward forward(NDList data, NDList labels, StepProfile profile) {
        mark(profile, StepProfile.Phase.FORWARD);
        if (lm == null) {
            NDList predictions = block.forward(ps, data, true);
            mark(profile, StepProfile.Phase.HEAD_LOSS);
            NDArray l = loss.evaluate(labels, predictions);
            return new Forward(l, l, null, null);
        }
        NDArray x = data.singletonOrThrow(), y = labels.singletonOrThrow(); // (B, T), (B, T)
        if (headChunk > 0) {
            DecoderLM.Hidden out = lm.hidden(ps, x, true);
            mark(profile, StepProfile.Phase.HEAD_LOSS);
            LmLoss.HeadLoss hl =
                    LmLoss.fusedHead(out.normed(), lm.headWeight(ps, true), y, headChunk);
            return new Forward(hl.loss(), hl.surrogate(), out.balanceLoss(), out.expertLoad());
        }
        DecoderLM.Output out = lm.forward(ps, x, true);
        mark(profile, StepProfile.Phase.HEAD_LOSS);
        NDArray ce = LmLoss.crossEntropy(out.logits(), y);
        return new Forward(ce, ce, out.balanceLoss(), out.expertLoad());
    }

    /**
     * MuonWithAdamW: one call for all (batched Newton-Schulz); any other optimizer: DJL's
     * per-parameter update.
     */
    private void update(Map<String, NDArray[]> wg) {
        if (optimizer instanceof MuonWithAdamW both) {
            both.step(wg);
            return;
        }
        for (Pair<String, Parameter> p : params) {
            NDArray[] pair = wg.get(p.getKey());
            optimizer.update(p.getValue().getId(), pair[0], pair[1]);
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
