package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization"): Adam with bias correction
 * and decoupled weight decay, updating the weight in place. Per parameter and update t (1-based):
 *
 * <pre>
 *   m = beta1*m + (1-beta1)*g          (computed as m += (1-beta1)(g - m))
 *   v = beta2*v + (1-beta2)*g^2
 *   W = W*(1 - lr*wd)
 *   W = W - lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
 * </pre>
 *
 * <p>Named so as not to be confused with DJL's {@code ai.djl.training.optimizer.AdamW}, from which
 * it differs: it does not clip gradients element-wise, counts updates per parameter (DJL's count is
 * the largest over all parameters), and keeps its state by parameter name and device, saved by name
 * through {@link #saveState}/{@link #loadState} bit for bit (see {@link Builder#optBlock}). Like
 * DJL's, it zeroes the weight's gradient after each update. By default the update is one fused pass
 * of libtorch's AdamW kernel ({@link FusedAdamW}: no temporaries); {@code optFused(false)} computes
 * it op by op (the formulas above, one parameter-sized temporary at a time, in a sub-manager closed
 * before returning). Moments live in the weight's manager. A non-finite gradient throws {@link
 * NonFiniteGradientException} before anything changes. Defaults are PyTorch's: lr 1e-3, betas (0.9,
 * 0.999), eps 1e-8, weight decay 0.01.
 */
public class DecoupledAdamW extends Optimizer {

    private final ParameterTracker learningRateTracker;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final ParamNames names;
    private final boolean fused;
    private final ParamStates states = new ParamStates("adamw", 2);

    /** One checked parameter update and its learning rate. */
    record Entry(String name, NDArray weight, NDArray grad, float lr) {}

    /**
     * Creates the optimizer.
     *
     * @param builder the builder
     */
    protected DecoupledAdamW(Builder builder) {
        super(builder);
        if (clipGrad > 0) {
            throw new IllegalArgumentException(
                    "clipGrad: DecoupledAdamW does not clip element-wise;"
                            + " clip by global norm in the trainer");
        }
        this.learningRateTracker = builder.learningRateTracker;
        this.beta1 = builder.beta1;
        this.beta2 = builder.beta2;
        this.epsilon = builder.epsilon;
        this.names = builder.names;
        this.fused = builder.fused;
    }

    /** A builder with PyTorch's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Updates one parameter in place and zeroes its gradient: DJL's per-parameter call. */
    @Override
    public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
        apply(prepare(names.name(parameterId), weight, grad));
        Gradients.zero(weight);
    }

    /** Checks one parameter and finds its learning rate for the coming update. Changes nothing. */
    synchronized Entry prepare(String name, NDArray weight, NDArray grad) {
        Checks.weightAndGrad(name, weight, grad);
        float lr = learningRateTracker.getNewValue(name, states.step(name, weight.getDevice()) + 1);
        Checks.hyper(name, lr, getWeightDecay());
        return new Entry(name, weight, grad, lr);
    }

    /** Applies a checked update; does not zero the gradient. */
    synchronized void apply(Entry e) {
        NDArray weight = e.weight();
        ParamStates.Slot slot = states.slot(e.name(), weight);
        int t = slot.step + 1;
        NDArray m = slot.arrays[0];
        NDArray v = slot.arrays[1];
        try (NDManager scope = weight.getManager().newSubManager()) {
            NDArray g = e.grad();
            if (rescaleGrad != 1f) {
                g = Muon.inScope(g.mul(rescaleGrad), scope);
            }
            if (fused && FusedAdamW.supports(weight, g, m, v)) {
                FusedAdamW.update(
                        weight, g, m, v, t, e.lr(), beta1, beta2, getWeightDecay(), epsilon, scope);
            } else {
                opByOp(weight, g, m, v, t, e.lr());
            }
        }
        slot.step = t;
    }

    /** The update of the class comment, op by op, for update {@code t} (1-based). */
    private void opByOp(NDArray weight, NDArray g, NDArray m, NDArray v, int t, float lr) {
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        // each temporary is freed as soon as it is used, so the next one (same shape) reuses its
        // memory: one parameter-sized scratch at a time, two at the end
        try (NDArray d = g.sub(m)) {
            m.addi(d.muli(1f - beta1)); // m = lerp(m, g, 1 - beta1)
        }
        try (NDArray sq = g.square()) {
            v.muli(beta2).addi(sq.muli(1f - beta2)); // v = beta2*v + (1-beta2)*g^2
        }
        double decay = (double) lr * getWeightDecay();
        if (decay != 0) {
            weight.muli((float) (1.0 - decay)); // W *= 1 - lr*wd
        }
        // denominator sqrt(v)/sqrt(bc2) + eps, then the step m/denominator
        try (NDArray denom = v.sqrt()) {
            denom.muli((float) (1.0 / Math.sqrt(bc2))).addi(epsilon);
            try (NDArray stepDir = m.div(denom)) {
                weight.subi(stepDir.muli((float) (lr / bc1)));
            }
        }
    }

    /** Updates done so far on {@code name} (0 before the first). */
    public int stepCount(String name) {
        return states.step(name);
    }

    /**
     * Writes moments and step counts by parameter name; the stream is flushed, not closed.
     *
     * @throws IllegalStateException when a parameter is known only by its DJL id (build with {@link
     *     Builder#optBlock})
     */
    public void saveState(OutputStream out) throws IOException {
        states.save(new DataOutputStream(out));
    }

    /** Replaces all state with a stream written by {@link #saveState}; does not close it. */
    public void loadState(InputStream in) throws IOException {
        states.load(new DataInputStream(in));
    }

    /** Closes the state arrays and forgets all parameters. */
    public void clearState() {
        states.clear();
    }

    ParamStates states() {
        return states;
    }

    /** Builds a {@link DecoupledAdamW}; names follow DJL's optimizer builders. */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private ParameterTracker learningRateTracker = Tracker.fixed(1e-3f);
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float epsilon = 1e-8f;
        private ParamNames names = ParamNames.NONE;
        private boolean fused = true;

        Builder() {
            optWeightDecays(0.01f);
        }

        @Override
        protected Builder self() {
            return this;
        }

        /** Learning rate per parameter and 1-based update count (default fixed 1e-3). */
        public Builder optLearningRateTracker(ParameterTracker tracker) {
            this.learningRateTracker = Checks.given("learningRateTracker", tracker);
            return this;
        }

        /** First-moment decay in [0, 1) (default 0.9). */
        public Builder optBeta1(float beta1) {
            this.beta1 = Checks.decay("beta1", beta1);
            return this;
        }

        /** Second-moment decay in [0, 1) (default 0.999). */
        public Builder optBeta2(float beta2) {
            this.beta2 = Checks.decay("beta2", beta2);
            return this;
        }

        /** Denominator guard, positive (default 1e-8). */
        public Builder optEpsilon(float epsilon) {
            if (!(epsilon > 0)) {
                throw new IllegalArgumentException("epsilon must be positive, got " + epsilon);
            }
            this.epsilon = epsilon;
            return this;
        }

        /**
         * The block whose parameters this optimizer updates: DJL's parameter ids are resolved to
         * the names of {@code block.getParameters()} once, so that state is saved by name (and
         * found again in another process) and errors name the parameter.
         */
        public Builder optBlock(Block block) {
            this.names = ParamNames.of(block);
            return this;
        }

        /**
         * Whether to update in one fused pass of libtorch's AdamW kernel (default true, as
         * PyTorch's {@code AdamW(fused=True)}); false computes the same update op by op. Both give
         * the same result to float32 rounding; the fused one reads and writes far less memory.
         */
        public Builder optFused(boolean fused) {
            this.fused = fused;
            return this;
        }

        /** Builds the optimizer. */
        public DecoupledAdamW build() {
            return new DecoupledAdamW(this);
        }
    }
}
