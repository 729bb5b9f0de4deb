package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;

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
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One optimizer for a whole model: {@link Muon} for hidden matrices and expert stacks, {@link
 * AdamW} for everything else, each with its own learning-rate tracker and weight decay.
 *
 * <p>Parameters are routed by {@link ParamRole}, never by shape alone (the embedding and the LM
 * head are 2-D too). The route of a parameter name is decided on its first update, in this order:
 *
 * <ol>
 *   <li>the first {@link Builder#optOverride override} whose regex is found in the name;
 *   <li>the role given by {@link Builder#optRoles(Function)} ({@code isMuon()} picks Muon);
 *   <li>when the role is unknown (null), a guess from the name: a name containing "embed",
 *       "norm", "bias", "router" or "gate", or "head" (but not "heads" nor "multihead"), goes to
 *       AdamW; otherwise a 2-D or 3-D parameter goes to Muon and anything else to AdamW. The guess
 *       is a fallback: pass the model's true roles. Caveat: a SwiGLU projection named "gate" is
 *       guessed to be a router.
 * </ol>
 *
 * <p>{@link #step(Map)} updates all parameters at once (the trainer's call): every gradient is
 * checked first, so a non-finite one changes nothing, then same-shape Muon matrices are
 * orthogonalized in one batched call. {@link #saveState}/{@link #loadState} cover both groups.
 */
public class MuonWithAdamW extends Optimizer {

    /** The two parameter groups. */
    public enum Group {
        MUON,
        ADAMW
    }

    private final Muon muon;
    private final AdamW adamW;
    private final Function<String, ParamRole> roles;
    private final List<RouteOverride> overrides;
    private final Map<String, Group> routes = new HashMap<>();

    private record RouteOverride(Pattern pattern, Group group) {}

    private record AdamEntry(String name, NDArray weight, NDArray grad, float lr) {}

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
        this.adamW = builder.adamW != null ? builder.adamW : AdamW.builder().build();
        this.roles = builder.roles;
        this.overrides = List.copyOf(builder.overrides);
    }

    /** A builder: default Muon and AdamW, no known roles (name guesses only). */
    public static Builder builder() {
        return new Builder();
    }

    /** Routes and updates one parameter in place (DJL's per-parameter call). */
    @Override
    public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
        Map<String, NDArray[]> one = new LinkedHashMap<>();
        one.put(parameterId, new NDArray[] {weight, grad});
        step(one);
    }

    /**
     * Updates every given parameter in place. All gradients are checked before anything changes;
     * then Muon parameters are updated with same-shape matrices stacked, AdamW parameters one by
     * one.
     *
     * @param weightAndGrad parameter name to {weight, gradient}
     */
    public synchronized void step(Map<String, NDArray[]> weightAndGrad) {
        List<Muon.Entry> muonEntries = new ArrayList<>();
        List<AdamEntry> adamEntries = new ArrayList<>();
        for (Map.Entry<String, NDArray[]> e : weightAndGrad.entrySet()) {
            String name = e.getKey();
            NDArray w = e.getValue()[0];
            NDArray g = e.getValue()[1];
            if (route(name, w.getShape()) == Group.MUON) {
                muonEntries.add(muon.prepare(name, w, g));
            } else {
                adamEntries.add(new AdamEntry(name, w, g, adamW.prepare(name, w, g)));
            }
        }
        muon.apply(muonEntries);
        for (AdamEntry a : adamEntries) {
            adamW.apply(a.name(), a.weight(), a.grad(), a.lr());
        }
    }

    /**
     * The group of a parameter, deciding (and remembering) it on first sight; see the class
     * comment for the order of rules.
     *
     * @throws IllegalArgumentException when a Muon role is given to a parameter of fewer than 2
     *     dims
     */
    public synchronized Group route(String name, Shape shape) {
        Group g = routes.get(name);
        if (g != null) {
            return g;
        }
        g = decide(name, shape);
        if (g == Group.MUON && shape.dimension() < 2) {
            throw new IllegalArgumentException(
                    "parameter '" + name + "' is routed to Muon but has shape " + shape
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
        ParamRole role = roles.apply(name);
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
    public AdamW adamWGroup() {
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

    /** Writes both groups' state; the stream is flushed, not closed. */
    public synchronized void saveState(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        muon.saveState(data);
        adamW.saveState(data);
        data.flush();
    }

    /** Replaces both groups' state with a stream written by {@link #saveState}. */
    public synchronized void loadState(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        muon.loadState(data);
        adamW.loadState(data);
    }

    /** Builds a {@link MuonWithAdamW}. */
    public static final class Builder extends OptimizerBuilder<Builder> {

        private Muon muon;
        private AdamW adamW;
        private Function<String, ParamRole> roles = name -> null;
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
        public Builder optAdamW(AdamW adamW) {
            this.adamW = adamW;
            return this;
        }

        /** Roles by parameter name; null for an unknown name (then the name is guessed from). */
        public Builder optRoles(Function<String, ParamRole> roles) {
            if (roles == null) {
                throw new IllegalArgumentException("roles must not be null");
            }
            this.roles = roles;
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
