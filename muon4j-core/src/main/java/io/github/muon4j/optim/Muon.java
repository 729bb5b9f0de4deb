package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Muon: MomentUm Orthogonalized by Newton-Schulz, for hidden weight matrices only (embeddings, the
 * LM head, norms, biases and routers belong to {@link AdamW}; see {@link MuonWithAdamW}).
 *
 * <p>Per parameter and step, with G the gradient, M the momentum buffer and beta the momentum:
 *
 * <pre>
 *   M = beta*M + (1-beta)*G                       (computed as M += (1-beta)(G - M))
 *   U = (1-beta)*G + beta*M   if Nesterov, else U = M
 *   X = NewtonSchulz(U)                           (matrix by matrix over the last two dims)
 *   W = W*(1 - lr*wd) - lr*scale*X                scale from {@link AdjustLr}
 * </pre>
 *
 * <p>This is KellerJordan/Muon {@code muon.py} ({@code muon_update} with its lerp momentum and
 * lerp Nesterov, scale {@code sqrt(max(1, rows/cols))}, decoupled decay) in float32; the golden
 * test checks it against a script that re-implements those rules in PyTorch.
 *
 * <p>Weights of 3 or more dims (expert stacks [E, out, in]) are orthogonalized matrix by matrix;
 * rows and cols are the last two dims. {@link #step(Map)} stacks all matrices of the same shape
 * (tall ones transposed to wide) into one batched Newton-Schulz call (by default on a GPU only;
 * see {@link Builder#optStackSameShape}). A non-finite gradient throws
 * {@link NonFiniteGradientException} before anything changes. State (momentum buffers, per
 * parameter step counts) lives in the weight's manager and round-trips through {@link
 * #saveState}/{@link #loadState} bit for bit. Per-update temporaries live in a sub-manager that
 * is closed before the call returns.
 *
 * <p>The learning-rate tracker gets the parameter's own 1-based update count (1 on its first
 * update), as DJL's optimizers pass it. DJL's element-wise {@code optClipGrad} is refused: clip by
 * global norm in the trainer instead.
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
    private final ParamStates states = new ParamStates("muon", 1);

    private boolean diagnoseNext;
    private String diagnoseOrthogonality;
    private Map<String, MuonDiagnostics> lastDiagnostics = Collections.emptyMap();

    /** Per-head orthogonalization of the parameters whose name matches. */
    private record PerHead(Pattern pattern, int heads) {}

    /** One validated parameter update: what {@link #apply} needs. */
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
    }

    /** A builder with the defaults: lr 0.02, momentum 0.95, Nesterov, 5 steps, ORIGINAL, wd 0. */
    public static Builder builder() {
        return new Builder();
    }

    /** Updates one parameter in place: DJL's per-parameter call. */
    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        Map<String, NDArray[]> one = new LinkedHashMap<>();
        one.put(parameterId, new NDArray[] {weight, grad});
        step(one);
    }

    /**
     * Updates all given parameters in place. Every gradient is checked first: if any is not
     * finite nothing changes. Same-shape matrices are stacked into one batched Newton-Schulz call
     * when stacking is on ({@link Builder#optStackSameShape}; by default on a GPU only); either
     * way the result equals one {@link #update} per parameter to float32 rounding.
     *
     * @param weightAndGrad parameter name to {weight, gradient}
     */
    public synchronized void step(Map<String, NDArray[]> weightAndGrad) {
        List<Entry> entries = new ArrayList<>(weightAndGrad.size());
        for (Map.Entry<String, NDArray[]> e : weightAndGrad.entrySet()) {
            entries.add(prepare(e.getKey(), e.getValue()[0], e.getValue()[1]));
        }
        apply(entries);
    }

    /**
     * Checks one parameter and computes its hyperparameters for the coming update; changes
     * nothing.
     */
    synchronized Entry prepare(String name, NDArray weight, NDArray grad) {
        Checks.weightAndGrad(name, weight, grad);
        Shape s = weight.getShape();
        int nd = s.dimension();
        if (nd < 2) {
            throw new IllegalArgumentException(
                    "parameter '" + name + "': Muon updates matrices (2 or more dims), got shape "
                            + s + "; give it to AdamW");
        }
        long rows = s.get(nd - 2);
        long cols = s.get(nd - 1);
        long matrices = s.size() / Math.max(1, rows * cols);
        for (PerHead ph : perHead) {
            if (ph.pattern().matcher(name).find()) {
                if (nd != 2 || rows % ph.heads() != 0) {
                    throw new IllegalArgumentException(
                            "parameter '" + name + "': per-head orthogonalization needs a 2-D"
                                    + " [heads*head_dim, in] matrix with rows divisible by "
                                    + ph.heads() + ", got " + s);
                }
                rows /= ph.heads();
                matrices = ph.heads();
                break;
            }
        }
        int step = states.step(name) + 1;
        float lr = learningRateTracker.getNewValue(name, step);
        Checks.hyper(name, lr, getWeightDecay());
        return new Entry(name, weight, grad, step, lr, momentumAt(step), matrices, rows, cols);
    }

    /** Applies validated updates; see the class comment for the rule. */
    synchronized void apply(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        boolean diagnose = diagnoseNext;
        diagnoseNext = false;
        Map<String, MuonDiagnostics> diagnostics = new LinkedHashMap<>();
        // same-shape (wide-oriented) matrices form one group when stacking, else one per parameter
        boolean stack = stackSameShape != null
                ? stackSameShape
                : entries.get(0).weight().getDevice().isGpu();
        Map<String, List<Entry>> groups = new LinkedHashMap<>();
        for (Entry e : entries) {
            String key = stack
                    ? Math.min(e.rows(), e.cols()) + "x" + Math.max(e.rows(), e.cols())
                    : e.name();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
        }
        // a group at a time, from momentum to weight update, so its temporaries are freed and
        // its arrays are still in cache when they are used again
        for (List<Entry> group : groups.values()) {
            try (NDManager scope = group.get(0).weight().getManager().newSubManager()) {
                updateGroup(group, scope, diagnose ? diagnostics : null);
            }
        }
        if (diagnose) {
            lastDiagnostics = Collections.unmodifiableMap(diagnostics);
        }
    }

    /** Momentum, one Newton-Schulz call for the whole group, and the weight updates. */
    private void updateGroup(
            List<Entry> group, NDManager scope, Map<String, MuonDiagnostics> diagnostics) {
        List<Item> items = new ArrayList<>(group.size());
        for (Entry e : group) {
            items.add(momentumStep(e, scope));
        }
        NDArray in;
        if (items.size() == 1) {
            in = items.get(0).view;
        } else {
            NDList views = new NDList(items.size());
            for (Item it : items) {
                views.add(it.view);
            }
            in = inScope(NDArrays.concat(views, 0), scope);
        }
        NDArray x = NewtonSchulz.orthogonalize(in, nsSteps, coefficients, scope);
        List<NDArray> parts = new ArrayList<>(items.size());
        if (items.size() == 1) {
            parts.add(x);
        } else {
            long[] cuts = new long[items.size() - 1];
            long off = 0;
            for (int i = 0; i < cuts.length; i++) {
                off += items.get(i).entry.matrices();
                cuts[i] = off;
            }
            for (NDArray p : x.split(cuts, 0)) {
                parts.add(inScope(p, scope));
            }
        }
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            NDArray part = parts.get(i);
            double scale = adjustLr.scale(it.entry.rows(), it.entry.cols());
            if (diagnostics != null) {
                diagnostics.put(it.entry.name(), diagnose(it, part, scale, scope));
            }
            applyUpdate(it, part, scale, scope);
        }
    }

    /** A parameter's Newton-Schulz input: U as [matrices, m, n] with m &lt;= n. */
    private record Item(Entry entry, NDArray view, boolean transposed) {}

    /** Momentum and Nesterov step for one parameter; returns its orthogonalization input. */
    private Item momentumStep(Entry e, NDManager scope) {
        ParamStates.Slot slot = states.slot(e.name(), e.weight());
        NDArray m = slot.arrays[0];
        NDArray g = e.grad();
        if (rescaleGrad != 1f) {
            g = inScope(g.mul(rescaleGrad), scope);
        }
        float w = 1f - e.beta();
        try (NDArray d = inScope(g.sub(m), scope)) {
            m.addi(d.muli(w)); // M += (1-beta)(G - M)
        }
        NDArray u;
        if (nesterov) {
            u = inScope(g.sub(m), scope).muli(w).addi(m); // U = M + (1-beta)(G - M)
        } else {
            u = m;
        }
        slot.step = e.step();
        NDArray view = inScope(u.reshape(e.matrices(), e.rows(), e.cols()), scope);
        boolean transposed = e.rows() > e.cols();
        if (transposed) {
            view = inScope(view.swapAxes(1, 2), scope);
        }
        return new Item(e, view, transposed);
    }

    /** W = W*(1 - lr*wd) - lr*scale*X for one parameter. */
    private void applyUpdate(Item it, NDArray part, double scale, NDManager scope) {
        Entry e = it.entry;
        NDArray upd = part;
        if (it.transposed) {
            upd = inScope(upd.swapAxes(1, 2), scope);
        }
        upd = inScope(upd.reshape(e.weight().getShape()), scope);
        double lr = e.lr();
        double decay = lr * getWeightDecay();
        if (decay != 0) {
            e.weight().muli((float) (1.0 - decay));
        }
        e.weight().subi(upd.muli((float) (lr * scale)));
    }

    private MuonDiagnostics diagnose(Item it, NDArray part, double scale, NDManager scope) {
        double rms;
        try (NDArray sq = inScope(part.square(), scope);
                NDArray mean = sq.mean()) {
            rms = Math.sqrt(mean.getFloat());
        }
        double ortho = Double.NaN, sigma = Double.NaN;
        if (it.entry.name().equals(diagnoseOrthogonality)) {
            ortho = orthogonalityError(part, scope);
            sigma = maxSingularValue(part, scope);
        }
        double lr = it.entry.lr();
        return new MuonDiagnostics(it.entry.name(), lr, scale, lr * scale * rms, ortho, lr * scale * sigma);
    }

    /**
     * max over the stack of the largest singular value of X [k, m, n]: the square root of the top
     * eigenvalue of X X^T, by power iteration in double precision (300 iterations, Rayleigh quotient; a
     * lower bound that is tight to about 1e-3 even with the clustered spectrum Newton-Schulz leaves).
     */
    static double maxSingularValue(NDArray x, NDManager scope) {
        int k = (int) x.getShape().get(0), m = (int) x.getShape().get(1);
        float[] g;
        try (NDManager s = scope.newSubManager()) {
            NDArray xt = inScope(x.swapAxes(1, 2), s);
            g = inScope(x.matMul(xt), s).toFloatArray(); // [k, m, m]
        }
        double best = 0;
        for (int b = 0; b < k; b++) {
            int off = b * m * m;
            double[] v = new double[m];
            java.util.Arrays.fill(v, 1.0 / Math.sqrt(m));
            double lambda = 0;
            for (int iter = 0; iter < 300; iter++) {
                double[] w = new double[m];
                for (int i = 0; i < m; i++) {
                    double acc = 0;
                    for (int j = 0; j < m; j++) {
                        acc += g[off + i * m + j] * v[j];
                    }
                    w[i] = acc;
                }
                double norm = 0, rayleigh = 0;
                for (int i = 0; i < m; i++) {
                    norm += w[i] * w[i];
                    rayleigh += w[i] * v[i];
                }
                norm = Math.sqrt(norm);
                if (norm == 0) {
                    break;
                }
                lambda = rayleigh;
                for (int i = 0; i < m; i++) {
                    v[i] = w[i] / norm;
                }
            }
            best = Math.max(best, Math.sqrt(lambda));
        }
        return best;
    }

    /** max over the stack of ||X X^T - I||_F / sqrt(m) for X of [k, m, n], m &lt;= n. */
    static double orthogonalityError(NDArray x, NDManager scope) {
        long m = x.getShape().get(1);
        try (NDManager s = scope.newSubManager()) {
            NDArray xt = inScope(x.swapAxes(1, 2), s);
            NDArray gram = inScope(x.matMul(xt), s); // [k, m, m]
            gram.subi(s.eye((int) m));
            float[] norms = gram.square().sum(new int[] {1, 2}).sqrt().toFloatArray();
            double max = 0;
            for (float f : norms) {
                max = Math.max(max, f);
            }
            return max / Math.sqrt(m);
        }
    }

    /**
     * Asks for diagnostics on the next update or step only; off otherwise, so they cost nothing.
     *
     * @param orthogonalityOf the parameter whose Newton-Schulz orthogonality error is computed
     *     (one extra Gram product), or null for none
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

    /** Updates done so far on {@code name} (0 before the first). */
    public int stepCount(String name) {
        return states.step(name);
    }

    /** Writes momentum buffers and step counts; the stream is flushed, not closed. */
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

        Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /** Learning rate per parameter and 1-based update count (default fixed 0.02). */
        public Builder optLearningRateTracker(ParameterTracker tracker) {
            if (tracker == null) {
                throw new IllegalArgumentException("learningRateTracker must not be null");
            }
            this.learningRateTracker = tracker;
            return this;
        }

        /** Momentum beta in [0, 1) (default 0.95). */
        public Builder optMomentum(float momentum) {
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
            }
            this.momentum = momentum;
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
            if (adjustLr == null) {
                throw new IllegalArgumentException("adjustLr must not be null");
            }
            this.adjustLr = adjustLr;
            return this;
        }

        /** Newton-Schulz coefficient set (default KELLER_JORDAN). */
        public Builder optCoefficients(NewtonSchulz.Coefficients coefficients) {
            if (coefficients == null) {
                throw new IllegalArgumentException("coefficients must not be null");
            }
            this.coefficients = coefficients;
            return this;
        }

        /**
         * Momentum warm-up: beta ramps linearly from {@code start} on the first update to the
         * momentum after {@code steps} updates (modded-nanogpt uses 0.85 over 300 steps).
         */
        public Builder optMomentumWarmup(float start, int steps) {
            if (!(start >= 0 && start < 1) || steps < 0) {
                throw new IllegalArgumentException(
                        "momentum warm-up needs start in [0, 1) and steps >= 0, got " + start
                                + ", " + steps);
            }
            this.warmupStart = start;
            this.warmupSteps = steps;
            return this;
        }

        /**
         * Per-head orthogonalization: a 2-D parameter whose name contains a match of {@code
         * nameRegex} (e.g. the query and key projections [heads*head_dim, in]) is split into
         * {@code heads} matrices [head_dim, in], each orthogonalized (and scaled) on its own.
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
         * parameter is orthogonalized on its own, which measured a little faster (no stacking
         * copy, and each matrix stays in cache from momentum to update). Results agree to float32
         * rounding either way.
         */
        public Builder optStackSameShape(boolean stack) {
            this.stackSameShape = stack;
            return this;
        }

        /** Builds the optimizer. */
        public Muon build() {
            return new Muon(this);
        }
    }
}
