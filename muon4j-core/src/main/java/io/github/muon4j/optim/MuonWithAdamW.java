package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One optimizer for a whole model: {@link Muon} for hidden matrices and expert stacks, {@link
 * DecoupledAdamW} for everything else (embeddings, the output layer, biases, norms, routers), each
 * with its own learning-rate tracker and weight decay.
 *
 * <p>With DJL's {@code Trainer} or {@code EasyTrain.fit}, build it from the model's block:
 *
 * <pre>{@code
 * Optimizer opt = MuonWithAdamW.builder().optBlock(block).build();  // the default roles
 * Optimizer opt = MuonWithAdamW.builder()
 *         .optBlock(block, (name, parameter) -> name.endsWith("classifier_weight") ? ParamRole.HEAD : null)
 *         .build();
 * }</pre>
 *
 * <p>DJL calls {@code update} with per-process parameter ids; {@code optBlock} resolves them to the
 * names of {@code block.getParameters()} once, so routing, saved state and error messages use
 * names. Like DJL's own optimizers, every update zeroes the weight's gradient afterwards.
 *
 * <p>Parameters are routed by {@link ParamRole}, never by shape alone (the embedding and the output
 * layer are 2-D too). The route of a parameter is decided on its first update, in this order:
 *
 * <ol>
 *   <li>the first {@link Builder#optOverride override} whose regex is found in the name;
 *   <li>the role function given with {@link Builder#optBlock(Block, BiFunction)}, then (when it
 *       says null, or with {@link Builder#optBlock(Block)}) the block's default roles, {@link
 *       ParamRoles#defaults};
 *   <li>without a block: the role given by {@link Builder#optRoles(Function)} for the name;
 *   <li>when the role is still unknown, a guess from the name: a name containing "embed", "norm",
 *       "bias", "router" or "gate", or "head" (but not "heads" nor "multihead"), goes to AdamW;
 *       otherwise a 2-D or 3-D parameter goes to Muon and anything else to AdamW. Caveat: a SwiGLU
 *       projection named "gate" is guessed to be a router.
 * </ol>
 *
 * <p>{@link #step(Map)} updates all parameters at once (the project's trainer's call): every
 * gradient is checked first, so a non-finite one changes nothing, then same-shape Muon matrices are
 * orthogonalized in one batched call. {@link #saveState}/{@link #loadState} cover both groups, by
 * parameter name.
 */
public class MuonWithAdamW extends Optimizer {

    /** The two parameter groups. */
    public enum Group {
        MUON,
        ADAMW
    }

    private final Muon muon;
    private final DecoupledAdamW adamW;
    private final Function<String, ParamRole> roles;
    private final List<RouteOverride> overrides;
    private final ParamNames names;
    private final Map<String, Parameter> blockParams;
    private final BiFunction<String, Parameter, ParamRole> blockRoles;
    private final BiFunction<String, Parameter, ParamRole> defaultRoles;
    private final Map<String, Group> routes = new HashMap<>();

    private record RouteOverride(Pattern pattern, Group group) {}

    /**
     * Creates the combined optimizer.
     *
     * @param builder the builder
     */
    protected MuonWithAdamW(Builder builder) {
        super(builder);
        if (getWeightDecay() != 0 || clipGrad > 0 || rescaleGrad != 1f) {
            throw new IllegalArgumentException(
                    "MuonWithAdamW: set weight decay, clipping and gradient rescaling on the Muon"
                            + " and AdamW builders, one per group");
        }
        this.muon = builder.muon != null ? builder.muon : Muon.builder().build();
        this.adamW = builder.adamW != null ? builder.adamW : DecoupledAdamW.builder().build();
        this.roles = builder.roles;
        this.overrides = List.copyOf(builder.overrides);
        if (builder.block != null && builder.rolesSet) {
            throw new IllegalArgumentException(
                    "MuonWithAdamW: give roles either by name (optRoles) or through optBlock's role"
                            + " function, not both");
        }
        if (builder.block != null) {
            this.names = ParamNames.of(builder.block);
            Map<String, Parameter> byName = new HashMap<>();
            for (Pair<String, Parameter> p : builder.block.getParameters()) {
                byName.put(p.getKey(), p.getValue());
            }
            this.blockParams = byName;
            this.blockRoles = builder.blockRoles;
            this.defaultRoles = ParamRoles.defaults(builder.block);
        } else {
            this.names = ParamNames.NONE;
            this.blockParams = null;
            this.blockRoles = null;
            this.defaultRoles = null;
        }
    }

    /** A builder: default Muon and AdamW, no block and no roles (name guesses only). */
    public static Builder builder() {
        return new Builder();
    }

    /** Routes and updates one parameter in place, then zeroes its gradient (DJL's call). */
    @Override
    public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
        Map<String, NDArray[]> one = new LinkedHashMap<>();
        one.put(parameterId, new NDArray[] {weight, grad});
        step(one);
    }

    /**
     * Updates every given parameter in place, then zeroes their weights' gradients. All gradients
     * are checked before anything changes; then Muon parameters are updated with same-shape
     * matrices stacked, AdamW parameters one by one.
     *
     * @param weightAndGrad parameter name (or DJL id) to {weight, gradient}
     */
    public synchronized void step(Map<String, NDArray[]> weightAndGrad) {
        List<Muon.Entry> muonEntries = new ArrayList<>();
        List<DecoupledAdamW.Entry> adamEntries = new ArrayList<>();
        for (Map.Entry<String, NDArray[]> e : weightAndGrad.entrySet()) {
            String name = names.name(e.getKey());
            NDArray w = e.getValue()[0];
            NDArray g = e.getValue()[1];
            if (route(name, w.getShape()) == Group.MUON) {
                muonEntries.add(muon.prepare(name, w, g));
            } else {
                adamEntries.add(adamW.prepare(name, w, g));
            }
        }
        muon.apply(muonEntries);
        for (DecoupledAdamW.Entry a : adamEntries) {
            adamW.apply(a);
        }
        for (NDArray[] wg : weightAndGrad.values()) {
            Gradients.zero(wg[0]);
        }
    }

    /**
     * The group of a parameter (its name, or its DJL id when built with a block), deciding and
     * remembering it on first sight; see the class comment for the order of rules.
     *
     * @throws IllegalArgumentException when a Muon role is given to a parameter of fewer than 2
     *     dims, or an id is not one of the block's parameters
     */
    public synchronized Group route(String key, Shape shape) {
        String name = names.name(key);
        Group g = routes.get(name);
        if (g != null) {
            return g;
        }
        g = decide(name, shape);
        if (g == Group.MUON && shape.dimension() < 2) {
            throw new IllegalArgumentException(
                    "parameter '"
                            + name
                            + "' is routed to Muon but has shape "
                            + shape
                            + "; Muon needs a matrix");
        }
        routes.put(name, g);
        return g;
    }

    private Group decide(String name, Shape shape) {
        for (RouteOverride o : overrides) {
            if (o.pattern().matcher(name).find()) {
                return o.group();
            }
        }
        ParamRole role = null;
        if (blockParams != null) {
            Parameter p = blockParams.get(name);
            if (p == null) {
                throw new IllegalArgumentException(
                        "parameter "
                                + (ParamNames.isDjlId(name) ? name : "'" + name + "'")
                                + " is not a parameter of the block given to optBlock");
            }
            role = blockRoles != null ? blockRoles.apply(name, p) : null;
            if (role == null) {
                role = defaultRoles.apply(name, p);
            }
        } else {
            role = roles.apply(name);
        }
        if (role == null) {
            role = guessRole(name, shape);
        }
        return role.isMuon() ? Group.MUON : Group.ADAMW;
    }

    /**
     * The role guessed from a parameter's name and shape when none is known (see the class
     * comment).
     */
    public static ParamRole guessRole(String name, Shape shape) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.contains("embed")) {
            return ParamRole.EMBEDDING;
        }
        if (n.contains("norm")) {
            return ParamRole.NORM;
        }
        if (n.contains("bias")) {
            return ParamRole.BIAS;
        }
        if (n.contains("router") || n.contains("gate")) {
            return ParamRole.ROUTER;
        }
        if (n.replace("multihead", "").replace("heads", "").contains("head")) {
            return ParamRole.HEAD;
        }
        int nd = shape.dimension();
        if (nd == 2) {
            return ParamRole.HIDDEN_MATRIX;
        }
        if (nd == 3) {
            return ParamRole.EXPERT_STACK;
        }
        return nd < 2 ? ParamRole.BIAS : ParamRole.HIDDEN_MATRIX;
    }

    /** The Muon group's optimizer (its trackers, diagnostics and state). */
    public Muon muonGroup() {
        return muon;
    }

    /** The AdamW group's optimizer. */
    public DecoupledAdamW adamWGroup() {
        return adamW;
    }

    /** See {@link Muon#diagnoseNextStep}. */
    public void diagnoseNextStep(String orthogonalityOf) {
        muon.diagnoseNextStep(orthogonalityOf);
    }

    /** See {@link Muon#lastDiagnostics}: per Muon parameter, the last diagnosed update. */
    public Map<String, MuonDiagnostics> lastDiagnostics() {
        return muon.lastDiagnostics();
    }

    /**
     * Writes both groups' state by parameter name; the stream is flushed, not closed.
     *
     * @throws IllegalStateException when a parameter is known only by its DJL id (build with {@link
     *     Builder#optBlock})
     */
    public synchronized void saveState(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        muon.states().save(data);
        adamW.states().save(data);
        data.flush();
    }

    /** Replaces both groups' state with a stream written by {@link #saveState}. */
    public synchronized void loadState(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        muon.states().load(data);
        adamW.states().load(data);
    }

    /** Builds a {@link MuonWithAdamW}. */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private Muon muon;
        private DecoupledAdamW adamW;
        private Block block;
        private BiFunction<String, Parameter, ParamRole> blockRoles;
        private Function<String, ParamRole> roles = name -> null;
        private boolean rolesSet;
        private final List<RouteOverride> overrides = new ArrayList<>();

        Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /** The Muon group's optimizer, with its learning-rate tracker and weight decay. */
        public Builder optMuon(Muon muon) {
            this.muon = muon;
            return this;
        }

        /** The AdamW group's optimizer, with its learning-rate tracker and weight decay. */
        public Builder optAdamW(DecoupledAdamW adamW) {
            this.adamW = adamW;
            return this;
        }

        /**
         * The block whose parameters this optimizer updates, routed by its default roles ({@link
         * ParamRoles#defaults}): 2-D hidden weights to Muon; embeddings, the output layer (the last
         * Linear's weight), biases and norms to AdamW. DJL's parameter ids are resolved to the
         * names of {@code block.getParameters()} once.
         */
        public Builder optBlock(Block block) {
            return optBlock(block, (name, parameter) -> null);
        }

        /**
         * As {@link #optBlock(Block)}, with {@code roles} deciding each parameter's role from its
         * name (as {@code block.getParameters()} gives it) and the parameter; where it returns null
         * the default roles decide.
         */
        public Builder optBlock(Block block, BiFunction<String, Parameter, ParamRole> roles) {
            if (block == null || roles == null) {
                throw new IllegalArgumentException("optBlock: block and roles must not be null");
            }
            this.block = block;
            this.blockRoles = roles;
            return this;
        }

        /**
         * Roles by parameter name, for a caller that passes names to {@link MuonWithAdamW#step}
         * without a block; null for an unknown name (then the name is guessed from). Not with
         * {@link #optBlock}.
         */
        public Builder optRoles(Function<String, ParamRole> roles) {
            if (roles == null) {
                throw new IllegalArgumentException("roles must not be null");
            }
            this.roles = roles;
            this.rolesSet = true;
            return this;
        }

        /** Roles by parameter name, as a map. */
        public Builder optRoles(Map<String, ParamRole> roles) {
            Map<String, ParamRole> copy = Map.copyOf(roles);
            return optRoles(copy::get);
        }

        /**
         * Sends parameters whose name contains a match of {@code nameRegex} to {@code group},
         * whatever their role. Earlier overrides win.
         */
        public Builder optOverride(String nameRegex, Group group) {
            if (group == null) {
                throw new IllegalArgumentException("override group must not be null");
            }
            overrides.add(new RouteOverride(Pattern.compile(nameRegex), group));
            return this;
        }

        /** Builds the optimizer. */
        public MuonWithAdamW build() {
            return new MuonWithAdamW(this);
        }
    }
}
