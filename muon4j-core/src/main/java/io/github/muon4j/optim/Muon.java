package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Precision;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Muon: MomentUm Orthogonalized by Newton-Schulz, for hidden weight matrices (Jordan et al., 2024).
 * Per parameter and step, with G the gradient, M the momentum buffer and beta the momentum:
 *
 * <pre>
 *   M = lerp(M, G, 1 - beta)                      = beta*M + (1-beta)*G
 *   U = lerp(M, G, 1 - beta) if Nesterov, else M  = (1-beta)*G + beta*M
 *   O = NewtonSchulz(U)                           (matrix by matrix over the last two dims)
 *   W = W*(1 - lr*wd) - lr*scale*O                scale from {@link AdjustLr}
 * </pre>
 *
 * <p>This is KellerJordan/Muon {@code muon.py} ({@code muon_update} with its lerp momentum and lerp
 * Nesterov, scale {@code sqrt(max(1, rows/cols))}, decoupled decay) in float32; the golden test
 * checks it against a script that re-implements those rules in PyTorch.
 *
 * <p><b>Which parameters.</b> Muon is for the hidden matrices; the embedding, the output layer,
 * norms and biases belong to AdamW: use {@link MuonWithAdamW}, which routes them. Used alone (for
 * example as the one optimizer of DJL's {@code Trainer}), Muon orthogonalizes every parameter of 2
 * or more dims, and hands the ones it cannot orthogonalize (fewer than 2 dims: biases, norm gains)
 * to its <em>fallback</em>, a {@link DecoupledAdamW} (by default lr 1e-3, betas 0.9/0.999, no
 * weight decay; see {@link Builder#optFallback}). Without a fallback such a parameter fails the
 * first update with one line naming it.
 *
 * <p><b>DJL's contract.</b> Every update zeroes the weight's gradient afterwards, as DJL's own
 * optimizers do, so {@code trainer.step()} and {@code EasyTrain.fit} work unchanged (gradient
 * accumulation over micro-batches happens before the step). {@link Builder#optBlock} resolves DJL's
 * per-process parameter ids to the block's parameter names once: state is kept per (parameter name,
 * device) and saved by name, and errors name the parameter. The learning-rate tracker gets the
 * parameter's name and its own 1-based update count. DJL's element-wise {@code optClipGrad} is
 * refused: clip by global norm in the trainer instead.
 *
 * <p>Weights of 3 or more dims (expert stacks [E, out, in]) are orthogonalized matrix by matrix;
 * rows and cols are the last two dims. {@link #step(Map)} stacks all matrices of the same shape
 * (tall ones transposed to wide) into one batched Newton-Schulz call (by default on a GPU only; see
 * {@link Builder#optStackSameShape}). On a CPU, parameters are updated side by side, one per
 * thread, with libtorch's intra-op threads at 1 during the step (measured on 2 cores: Newton-Schulz
 * over the 6L-512d matrices in 1.52 s against 1.72 s with each product on both threads); the
 * process-wide thread count is restored when the step returns ({@link Builder#optLanes}: 1 turns
 * this off). A non-finite gradient throws {@link NonFiniteGradientException} before anything
 * changes (weights, state and gradients). State round-trips through {@link #saveState}/{@link
 * #loadState} bit for bit. Per-update temporaries live in a sub-manager that is closed before the
 * call returns.
 */
public class Muon extends Optimizer {

    private final ParameterTracker learningRateTracker;
    private final float momentum;
    private final boolean nesterov;
    private final int nsSteps;
    private final AdjustLr adjustLr;
    private final NewtonSchulz.Coefficients coefficients;
    private final float warmupStart;
    private final int warmupSteps;
    private final List<PerHead> perHead;
    private final Boolean stackSameShape;
    private final int lanes;
    private final DecoupledAdamW fallback;
    private final ParamNames names;
    private final ParamStates states = new ParamStates("muon", 1);

    private boolean diagnoseNext;
    private String diagnoseOrthogonality;
    private Map<String, MuonDiagnostics> lastDiagnostics = Collections.emptyMap();

    /** Per-head orthogonalization of the parameters whose name matches. */
    private record PerHead(Pattern pattern, int heads) {}

    /**
     * One checked parameter update: the weight seen as {@code matrices} rows x cols matrices, the
     * update count {@code step} it is about to make, its learning rate and momentum.
     */
    record Entry(
            String name,
            NDArray weight,
            NDArray grad,
            int step,
            float lr,
            float beta,
            long matrices,
            long rows,
            long cols) {}

    /**
     * Creates a Muon optimizer.
     *
     * @param builder the builder
     */
    protected Muon(Builder builder) {
        super(builder);
        if (clipGrad > 0) {
            throw new IllegalArgumentException(
                    "clipGrad: Muon does not clip element-wise;"
                            + " clip by global norm in the trainer");
        }
        this.learningRateTracker = builder.learningRateTracker;
        this.momentum = builder.momentum;
        this.nesterov = builder.nesterov;
        this.nsSteps = builder.nsSteps;
        this.adjustLr = builder.adjustLr;
        this.coefficients = builder.coefficients;
        this.warmupStart = builder.warmupStart;
        this.warmupSteps = builder.warmupSteps;
        this.perHead = List.copyOf(builder.perHead);
        this.stackSameShape = builder.stackSameShape;
        this.lanes = builder.lanes;
        this.fallback =
                builder.noFallback
                        ? null
                        : builder.fallback != null
                                ? builder.fallback
                                : DecoupledAdamW.builder().optWeightDecays(0f).build();
        this.names = builder.names;
    }

    /**
     * A builder with the defaults: lr 0.02, momentum 0.95, Nesterov, 5 steps, ORIGINAL, wd 0, the
     * default fallback.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Updates one parameter in place and zeroes its gradient: DJL's per-parameter call. */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        Map<String, NDArray[]> one = new LinkedHashMap<>();
        one.put(parameterId, new NDArray[] {weight, grad});
        step(one);
    }

    /**
     * Updates all given parameters in place, then zeroes their weights' gradients. Every gradient
     * is checked first: if any is not finite nothing changes. Same-shape matrices are stacked into
     * one batched Newton-Schulz call when stacking is on ({@link Builder#optStackSameShape}; by
     * default on a GPU only); either way the result equals one {@link #update} per parameter to
     * float32 rounding.
     *
     * @param weightAndGrad parameter name (or DJL id) to {weight, gradient}
     */
    public synchronized void step(Map<String, NDArray[]> weightAndGrad) {
        List<Entry> matrices = new ArrayList<>(weightAndGrad.size());
        List<DecoupledAdamW.Entry> others = new ArrayList<>();
        for (Map.Entry<String, NDArray[]> e : weightAndGrad.entrySet()) {
            String name = names.name(e.getKey());
            NDArray w = e.getValue()[0];
            NDArray g = e.getValue()[1];
            if (w.getShape().dimension() < 2 && fallback != null) {
                others.add(fallback.prepare(name, w, g));
            } else {
                matrices.add(prepare(name, w, g));
            }
        }
        apply(matrices);
        for (DecoupledAdamW.Entry a : others) {
            fallback.apply(a);
        }
        for (NDArray[] wg : weightAndGrad.values()) {
            Gradients.zero(wg[0]);
        }
    }

    /**
     * Checks one parameter and computes its hyperparameters for the coming update; changes nothing.
     */
    synchronized Entry prepare(String name, NDArray weight, NDArray grad) {
        Checks.weightAndGrad(name, weight, grad);
        Shape s = weight.getShape();
        int nd = s.dimension();
        if (nd < 2) {
            throw new IllegalArgumentException(
                    "parameter '"
                            + name
                            + "': Muon updates matrices (2 or more dims), got shape "
                            + s
                            + "; give it to AdamW (MuonWithAdamW) or to Muon's fallback");
        }
        long rows = s.get(nd - 2);
        long cols = s.get(nd - 1);
        long matrices = s.size() / Math.max(1, rows * cols);
        for (PerHead ph : perHead) {
            if (ph.pattern().matcher(name).find()) {
                if (nd != 2 || rows % ph.heads() != 0) {
                    throw new IllegalArgumentException(
                            "parameter '"
                                    + name
                                    + "': per-head orthogonalization needs a 2-D"
                                    + " [heads*head_dim, in] matrix with rows divisible by "
                                    + ph.heads()
                                    + ", got "
                                    + s);
                }
                rows /= ph.heads();
                matrices = ph.heads();
                break;
            }
        }
        int step = states.step(name, weight.getDevice()) + 1;
        float lr = learningRateTracker.getNewValue(name, step);
        Checks.hyper(name, lr, getWeightDecay());
        return new Entry(name, weight, grad, step, lr, momentumAt(step), matrices, rows, cols);
    }

    /**
     * Applies checked updates, a group at a time (one parameter, or all same-shape matrices when
     * stacking) from momentum to weight, so a group's temporaries are freed before the next and its
     * arrays are still in cache when they are used again. Gradients are not zeroed here.
     */
    synchronized void apply(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        Map<String, MuonDiagnostics> diagnostics = diagnoseNext ? new LinkedHashMap<>() : null;
        diagnoseNext = false;
        boolean stack =
                stackSameShape != null
                        ? stackSameShape
                        : entries.get(0).weight().getDevice().isGpu();
        Map<String, List<Entry>> groups = new LinkedHashMap<>();
        for (Entry e : entries) {
            String key =
                    stack
                            ? Math.min(e.rows(), e.cols()) + "x" + Math.max(e.rows(), e.cols())
                            : e.name();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
        }
        List<List<Entry>> work = new ArrayList<>(groups.values());
        boolean gpu = entries.get(0).weight().getDevice().isGpu();
        int n = stack || gpu || diagnostics != null ? 1 : lanes > 0 ? lanes : Lanes.available();
        if (n > 1) {
            // largest first, so that the lanes finish together
            work.sort(Comparator.comparingDouble(this::flops).reversed());
        }
        Precision precision = Autocast.current(); // Newton-Schulz's products follow the caller's
        Lanes.run(
                work,
                n,
                group -> {
                    try (Autocast ac = Autocast.enter(precision);
                            NDManager scope = group.get(0).weight().getManager().newSubManager()) {
                        update(group, scope, diagnostics);
                    }
                });
        if (diagnostics != null) {
            lastDiagnostics = Collections.unmodifiableMap(diagnostics);
        }
    }

    private double flops(List<Entry> group) {
        double f = 0;
        for (Entry e : group) {
            f += e.matrices() * NewtonSchulz.flops(e.rows(), e.cols(), nsSteps);
        }
        return f;
    }

    /** The Muon update of one group, with one Newton-Schulz call for all its matrices. */
    private void update(
            List<Entry> group, NDManager scope, Map<String, MuonDiagnostics> diagnostics) {
        NDList wide = new NDList(group.size());
        for (Entry e : group) {
            ParamStates.Slot slot = states.slot(e.name(), e.weight());
            NDArray buf = slot.arrays[0]; // the momentum buffer M
            NDArray g = rescaleGrad == 1f ? e.grad() : inScope(e.grad().mul(rescaleGrad), scope);
            float w = 1f - e.beta();
            buf.addi(inScope(g.sub(buf), scope).muli(w)); // M = lerp(M, G, 1-beta)
            // U = lerp(M, G, 1-beta) with Nesterov, else M
            NDArray u = nesterov ? inScope(g.sub(buf), scope).muli(w).addi(buf) : buf;
            wide.add(toWide(u, e, scope)); // [matrices, min(rows, cols), max(rows, cols)]
            slot.step = e.step();
        }
        NDArray x = NewtonSchulz.orthogonalize(concat(wide, scope), nsSteps, coefficients, scope);
        List<NDArray> parts = split(x, group, scope);
        for (int i = 0; i < group.size(); i++) {
            Entry e = group.get(i);
            double lr = e.lr();
            double scale = adjustLr.scale(e.rows(), e.cols()); // sqrt(max(1, rows/cols))
            if (diagnostics != null) {
                boolean spectral = e.name().equals(diagnoseOrthogonality);
                diagnostics.put(
                        e.name(),
                        MuonDiagnostics.measure(
                                e.name(), lr, scale, parts.get(i), spectral, scope));
            }
            NDArray o = fromWide(parts.get(i), e, scope); // O in the weight's shape
            double decay = lr * getWeightDecay();
            if (decay != 0) {
                e.weight().muli((float) (1.0 - decay)); // W *= 1 - lr*wd
            }
            e.weight().subi(o.muli((float) (lr * scale))); // W -= lr*scale*O
        }
    }

    /** U as [matrices, m, n] with m &lt;= n: tall matrices are transposed. */
    private static NDArray toWide(NDArray u, Entry e, NDManager scope) {
        NDArray view = inScope(u.reshape(e.matrices(), e.rows(), e.cols()), scope);
        return e.rows() > e.cols() ? inScope(view.swapAxes(1, 2), scope) : view;
    }

    /** The inverse of {@link #toWide}: back to the weight's shape. */
    private static NDArray fromWide(NDArray o, Entry e, NDManager scope) {
        NDArray view = e.rows() > e.cols() ? inScope(o.swapAxes(1, 2), scope) : o;
        return inScope(view.reshape(e.weight().getShape()), scope);
    }

    private static NDArray concat(NDList parts, NDManager scope) {
        return parts.size() == 1 ? parts.get(0) : inScope(NDArrays.concat(parts, 0), scope);
    }

    /** Splits the stacked Newton-Schulz output back into the group's parameters. */
    private static List<NDArray> split(NDArray x, List<Entry> group, NDManager scope) {
        if (group.size() == 1) {
            return List.of(x);
        }
        long[] cuts = new long[group.size() - 1];
        long off = 0;
        for (int i = 0; i < cuts.length; i++) {
            off += group.get(i).matrices();
            cuts[i] = off;
        }
        List<NDArray> parts = new ArrayList<>(group.size());
        for (NDArray p : x.split(cuts, 0)) {
            parts.add(inScope(p, scope));
        }
        return parts;
    }

    /**
     * Asks for diagnostics on the next update or step only; off otherwise, so they cost nothing.
     *
     * @param orthogonalityOf the parameter whose Newton-Schulz orthogonality error and spectral
     *     norm are computed (a Gram product and a power iteration), or null for none
     */
    public synchronized void diagnoseNextStep(String orthogonalityOf) {
        diagnoseNext = true;
        diagnoseOrthogonality = orthogonalityOf;
    }

    /** Diagnostics of the last diagnosed update, by parameter name (empty before the first). */
    public synchronized Map<String, MuonDiagnostics> lastDiagnostics() {
        return lastDiagnostics;
    }

    /** The momentum used on update {@code step} (1-based), after the optional warm-up. */
    public float momentumAt(int step) {
        if (warmupSteps <= 0) {
            return momentum;
        }
        float frac = Math.min(1f, (step - 1) / (float) warmupSteps);
        return warmupStart + (momentum - warmupStart) * frac;
    }

    /** Updates done so far on {@code name} (0 before the first), by Muon or its fallback. */
    public int stepCount(String name) {
        int n = states.step(name);
        return n == 0 && fallback != null ? fallback.stepCount(name) : n;
    }

    /** The optimizer of the parameters Muon cannot orthogonalize, or null when it refuses them. */
    public DecoupledAdamW fallback() {
        return fallback;
    }

    /**
     * Writes the momentum buffers and step counts by parameter name, then the fallback's state; the
     * stream is flushed, not closed.
     *
     * @throws IllegalStateException when a parameter is known only by its DJL id (build with {@link
     *     Builder#optBlock})
     */
    public synchronized void saveState(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        states.save(data);
        (fallback != null ? fallback.states() : new ParamStates("adamw", 2)).save(data);
        data.flush();
    }

    /** Replaces all state with a stream written by {@link #saveState}; does not close it. */
    public synchronized void loadState(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        states.load(data);
        ParamStates other = fallback != null ? fallback.states() : new ParamStates("adamw", 2);
        other.load(data);
        if (fallback == null && !other.isEmpty()) {
            throw new IllegalArgumentException(
                    "optimizer state: the stream holds fallback (AdamW) state, but this Muon has"
                            + " no fallback");
        }
    }

    /** Muon's own state, without its fallback's (MuonWithAdamW saves its own AdamW's). */
    ParamStates states() {
        return states;
    }

    /** Closes the state arrays and forgets all parameters. */
    public synchronized void clearState() {
        states.clear();
        if (fallback != null) {
            fallback.clearState();
        }
    }

    static NDArray inScope(NDArray a, NDManager scope) {
        a.attach(scope);
        return a;
    }

    /** Builds a {@link Muon}; names follow DJL's optimizer builders. */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private ParameterTracker learningRateTracker = Tracker.fixed(0.02f);
        private float momentum = 0.95f;
        private boolean nesterov = true;
        private int nsSteps = 5;
        private AdjustLr adjustLr = AdjustLr.ORIGINAL;
        private NewtonSchulz.Coefficients coefficients = NewtonSchulz.Coefficients.KELLER_JORDAN;
        private float warmupStart;
        private int warmupSteps;
        private final List<PerHead> perHead = new ArrayList<>();
        private Boolean stackSameShape;
        private int lanes;
        private DecoupledAdamW fallback;
        private boolean noFallback;
        private ParamNames names = ParamNames.NONE;

        Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /** Learning rate per parameter and 1-based update count (default fixed 0.02). */
        public Builder optLearningRateTracker(ParameterTracker tracker) {
            this.learningRateTracker = Checks.given("learningRateTracker", tracker);
            return this;
        }

        /** Momentum beta in [0, 1) (default 0.95). */
        public Builder optMomentum(float momentum) {
            this.momentum = Checks.decay("momentum", momentum);
            return this;
        }

        /** Nesterov momentum (default true). */
        public Builder optNesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /** Newton-Schulz iterations, at least 1 (default 5). */
        public Builder optNsSteps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("nsSteps must be at least 1, got " + steps);
            }
            this.nsSteps = steps;
            return this;
        }

        /** Update scaling by matrix shape (default ORIGINAL). */
        public Builder optAdjustLr(AdjustLr adjustLr) {
            this.adjustLr = Checks.given("adjustLr", adjustLr);
            return this;
        }

        /** Newton-Schulz coefficient set (default KELLER_JORDAN). */
        public Builder optCoefficients(NewtonSchulz.Coefficients coefficients) {
            this.coefficients = Checks.given("coefficients", coefficients);
            return this;
        }

        /**
         * Momentum warm-up: beta ramps linearly from {@code start} on the first update to the
         * momentum after {@code steps} updates (modded-nanogpt uses 0.85 over 300 steps).
         */
        public Builder optMomentumWarmup(float start, int steps) {
            if (!(start >= 0 && start < 1) || steps < 0) {
                throw new IllegalArgumentException(
                        "momentum warm-up needs start in [0, 1) and steps >= 0, got "
                                + start
                                + ", "
                                + steps);
            }
            this.warmupStart = start;
            this.warmupSteps = steps;
            return this;
        }

        /**
         * Per-head orthogonalization: a 2-D parameter whose name contains a match of {@code
         * nameRegex} (e.g. the query and key projections [heads*head_dim, in]) is split into {@code
         * heads} matrices [head_dim, in], each orthogonalized (and scaled) on its own.
         */
        public Builder optPerHead(String nameRegex, int heads) {
            if (heads < 1) {
                throw new IllegalArgumentException("heads must be at least 1, got " + heads);
            }
            perHead.add(new PerHead(Pattern.compile(nameRegex), heads));
            return this;
        }

        /**
         * Whether {@link Muon#step} stacks same-shape matrices (tall ones transposed) into one
         * Newton-Schulz call. Default: on a GPU, where batched products pay; on a CPU each
         * parameter is orthogonalized on its own, which measured a little faster (no stacking copy,
         * and each matrix stays in cache from momentum to update). Results agree to float32
         * rounding either way.
         */
        public Builder optStackSameShape(boolean stack) {
            this.stackSameShape = stack;
            return this;
        }

        /**
         * How many parameters a CPU step updates side by side, each on one thread (libtorch's
         * intra-op threads set to 1 meanwhile, and set back after the step; see the class comment).
         * 0, the default: libtorch's intra-op thread count. 1: one parameter at a time, each
         * product on all threads. Not used when same-shape stacks are batched (on a GPU by default)
         * or while diagnostics are taken. Either way the result is the same to float32 rounding.
         */
        public Builder optLanes(int lanes) {
            if (lanes < 0) {
                throw new IllegalArgumentException("lanes must be 0 (auto) or more, got " + lanes);
            }
            this.lanes = lanes;
            return this;
        }

        /**
         * The optimizer of the parameters Muon cannot orthogonalize (fewer than 2 dims: biases,
         * norm gains) when Muon is used alone. Default: a {@link DecoupledAdamW} with lr 1e-3,
         * betas (0.9, 0.999) and no weight decay. {@code null}: no fallback; such a parameter then
         * fails its first update with one line naming it.
         */
        public Builder optFallback(DecoupledAdamW fallback) {
            this.fallback = fallback;
            this.noFallback = fallback == null;
            return this;
        }

        /**
         * The block whose parameters this optimizer updates: DJL's parameter ids are resolved to
         * the names of {@code block.getParameters()} once, so that state is saved by name (and
         * found again in another process), the learning-rate tracker and per-head patterns see
         * names, and errors name the parameter.
         */
        public Builder optBlock(Block block) {
            this.names = ParamNames.of(block);
            return this;
        }

        /** Builds the optimizer. */
        public Muon build() {
            return new Muon(this);
        }
    }
}
