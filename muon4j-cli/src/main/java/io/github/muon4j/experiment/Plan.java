package io.github.muon4j.experiment;

import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Study.Arm;
import io.github.muon4j.experiment.Study.RunSpec;
import io.github.muon4j.experiment.Study.Settings;
import io.github.muon4j.experiment.Study.Size;
import io.github.muon4j.train.TrainConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The study as a fixed, ordered list of run slots. A slot's settings are either fixed (a tuning
 * grid point) or chosen by a tuning grid's result (a scoring run at the grid's optimum); the list
 * itself (length, order, slot names) depends only on the settings, so {@code --shard I/N} can split
 * it by index before anything has run.
 *
 * <p>Parts, in order, per size: the lr x wd grid of every arm at each tuned budget ({@code tune}),
 * the non-matrix rate at each two-rate arm's best point ({@code tune-nm}), at each larger budget a
 * local search around the transfer rule's point ({@code tune-local}), the scoring runs at every
 * budget x arm x seed ({@code score}); after size S: {@code stability} and the batch-size {@code
 * frontier} (its lr grid, then its seeds).
 */
public final class Plan {

    /** What one of the study's runs is, once its settings are known. */
    public record Run(String label, String key, RunSpec spec, JsonObject json) {}

    /**
     * One run of the plan.
     *
     * @param id stable name ("S/D400/score/muon/seed3")
     * @param part tune, tune-nm, tune-local, score, stability, frontier-tune, frontier
     * @param waitsFor what the settings depend on (empty for fixed runs)
     */
    public record Slot(
            int index,
            String id,
            String part,
            String waitsFor,
            Function<Lookup, RunSpec> resolve,
            String labelPrefix) {}

    /** The finished runs a slot's settings may depend on. */
    public interface Lookup {
        /** The summary of a run (null while not finished). */
        RunSummary get(RunSpec r);
    }

    /** A tuned point: matrix rate, weight decay, non-matrix rate, and its score. */
    public record Optimum(
            double lr,
            double wd,
            double nonMatrix,
            double loss,
            boolean lrEdge,
            boolean wdEdge,
            boolean nmEdge) {}

    private final Settings s;
    private final TrainConfig user;
    private final List<Slot> slots = new ArrayList<>();

    public Plan(TrainConfig user, Settings s) {
        this.s = s;
        this.user = user;
        build();
    }

    public List<Slot> slots() {
        return slots;
    }

    public Settings settings() {
        return s;
    }

    public TrainConfig user() {
        return user;
    }

    /** A slot's run, or null while a tuning run it depends on is unfinished. */
    public Run resolve(Slot slot, Lookup l) {
        RunSpec r = slot.resolve().apply(l);
        return r == null ? null : run(slot.labelPrefix(), r);
    }

    public Run run(String prefix, RunSpec r) {
        JsonObject spec = Study.spec(user, s, r);
        return new Run(Study.label(prefix, r), keys.computeIfAbsent(r, x -> key(spec)), r, spec);
    }

    /**
     * The key of a run's settings (memoized: lookups resolve the same tuning runs again and again).
     */
    public String key(RunSpec r) {
        return keys.computeIfAbsent(r, x -> key(Study.spec(user, s, x)));
    }

    private final java.util.Map<RunSpec, String> keys =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The first 12 hex digits of SHA-256 of the run's spec. */
    public static String key(JsonObject spec) {
        try {
            byte[] h =
                    MessageDigest.getInstance("SHA-256")
                            .digest(spec.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public TrainConfig config(Run r) {
        return Study.config(user, s, r.spec());
    }

    // ---- the study's choices, fixed at launch ----

    /**
     * A run failed to learn: stopped on non-finite losses, or its final validation loss is not
     * finite or above its training loss at the first step (the loss at initialisation).
     */
    public static boolean diverged(RunSummary r) {
        double fin = r.finalValLoss();
        double init = r.trainLoss().length > 0 ? r.trainLoss()[0] : Double.NaN;
        return r.stoppedEarly() || !Double.isFinite(fin) || (Double.isFinite(init) && fin > init);
    }

    /** A tuning run's score: its final validation loss, +infinity if it diverged. */
    public static double score(RunSummary r) {
        return diverged(r) ? Double.POSITIVE_INFINITY : r.finalValLoss();
    }

    private int evalEvery(int steps) {
        return Math.max(1, steps / s.evals());
    }

    RunSpec tuneSpec(Size z, Arm a, int b, double lr, double wd, double nm) {
        int steps = s.budgets().get(b);
        return new RunSpec(
                z, a, s.batch(), steps, evalEvery(steps), lr, wd, nm, s.clip(), s.tuningSeed());
    }

    /**
     * The lr x wd grid's best point at a tuned budget, then the non-matrix rate (two-rate arms);
     * null while unfinished.
     */
    public Optimum tuned(Lookup l, Size z, Arm a, int b) {
        Study.Grid g = s.grid(a);
        double best = Double.POSITIVE_INFINITY;
        int bi = -1, bj = -1;
        for (int i = 0; i < g.lr().size(); i++) {
            for (int j = 0; j < g.wd().size(); j++) {
                RunSummary r =
                        l.get(
                                tuneSpec(
                                        z,
                                        a,
                                        b,
                                        g.lr().get(i),
                                        g.wd().get(j),
                                        s.nonMatrixDefault()));
                if (r == null) {
                    return null;
                }
                double sc = score(r);
                if (sc < best) {
                    best = sc;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (bi < 0) { // every point diverged: the smallest rate and decay, flagged as edges
            bi = 0;
            bj = 0;
        }
        double lr = g.lr().get(bi), wd = g.wd().get(bj);
        boolean lrEdge = bi == 0 || bi == g.lr().size() - 1,
                wdEdge = bj == 0 || bj == g.wd().size() - 1;
        if (!a.twoRates()) {
            return new Optimum(lr, wd, lr, best, lrEdge, wdEdge, false);
        }
        double nm = s.nonMatrixDefault();
        List<Double> nms = s.nonMatrix();
        for (double v : nms) {
            if (v == s.nonMatrixDefault()) {
                continue;
            }
            RunSummary r = l.get(tuneSpec(z, a, b, lr, wd, v));
            if (r == null) {
                return null;
            }
            if (score(r) < best) {
                best = score(r);
                nm = v;
            }
        }
        int k = nms.indexOf(nm);
        return new Optimum(lr, wd, nm, best, lrEdge, wdEdge, k == 0 || k == nms.size() - 1);
    }

    /**
     * The transfer rule's point at a budget: its own grid's optimum at a tuned budget; beyond, the
     * last tuned budget's rates with the weight decay scaled by its steps / this budget's steps (lr
     * x wd x steps constant: the decay's timescale stays the same fraction of the run). It is the
     * centre of the local search at larger budgets ({@link #localSpec}), and the frontier's rates.
     */
    public Optimum ruleOptimum(Lookup l, Size z, Arm a, int b) {
        int t = s.tunedBudgets() - 1;
        if (b <= t) {
            return tuned(l, z, a, b);
        }
        Optimum o = tuned(l, z, a, t);
        if (o == null) {
            return null;
        }
        double scale = s.budgets().get(t) / (double) s.budgets().get(b);
        return new Optimum(
                o.lr(),
                o.wd() * scale,
                o.nonMatrix(),
                Double.NaN,
                o.lrEdge(),
                o.wdEdge(),
                o.nmEdge());
    }

    /**
     * The rates a budget's scoring runs use: its own grid's optimum at a tuned budget; beyond, the
     * best of the local search around the transfer rule's point at that budget, its extension
     * included (null while unfinished). An optimum at the extension (lr / 8 or lr x 4) is on the
     * search's lr edge, one with the decay unscaled on its wd edge.
     */
    public Optimum optimum(Lookup l, Size z, Arm a, int b) {
        if (b < s.tunedBudgets()) {
            return tuned(l, z, a, b);
        }
        Local in = localBest(l, z, a, b);
        if (in == null) {
            return null;
        }
        RunSpec ext = localSpec(l, z, a, b, EXTEND);
        RunSummary r = l.get(ext);
        if (r == null) {
            return null;
        }
        boolean extended = !ext.equals(in.spec());
        boolean outside = extended && score(r) < in.score();
        RunSpec best = outside ? ext : in.spec();
        return new Optimum(
                best.lr(),
                best.wd(),
                best.nonMatrix(),
                outside ? score(r) : in.score(),
                outside,
                !outside && in.variant().equals("wd-unscaled"),
                ruleOptimum(l, z, a, b).nmEdge());
    }

    /** The best of the local search's fixed points. */
    record Local(String variant, RunSpec spec, double score) {}

    Local localBest(Lookup l, Size z, Arm a, int b) {
        Local best = null;
        for (String v : LOCAL) {
            RunSpec sp = localSpec(l, z, a, b, v);
            RunSummary r = sp == null ? null : l.get(sp);
            if (r == null) {
                return null;
            }
            if (best == null || score(r) < best.score()) {
                best = new Local(v, sp, score(r));
            }
        }
        return best;
    }

    public RunSpec scoreSpec(Optimum o, Size z, Arm a, int b, long seed) {
        int steps = s.budgets().get(b);
        return new RunSpec(
                z,
                a,
                s.batch(),
                steps,
                evalEvery(steps),
                o.lr(),
                o.wd(),
                o.nonMatrix(),
                s.clip(),
                seed);
    }

    /**
     * The local search at each budget beyond the tuned ones, on the tuning seed: the transfer
     * rule's point itself, lr / 2, lr / 4 and lr x 2 (decay as the rule scales it; the optimal rate
     * falls as runs get longer, hence two steps down), and the rule's rates with the decay left
     * unscaled (the last tuned budget's wd); then {@link #EXTEND}. The best is that budget's
     * scoring setting.
     */
    public static final List<String> LOCAL = List.of("rule", "lr/2", "lr/4", "lr*2", "wd-unscaled");

    /**
     * One more point where the best of {@link #LOCAL} sits on its lr edge: lr / 8 when lr / 4 won,
     * lr x 4 when lr x 2 won; otherwise the best point itself (already trained, so nothing runs).
     */
    public static final String EXTEND = "extend";

    /** The point with its matrix rate (and a one-rate arm's only rate) times {@code f}. */
    private static Optimum scaled(Optimum o, Arm a, double f) {
        double lr = o.lr() * f;
        return new Optimum(lr, o.wd(), a.twoRates() ? o.nonMatrix() : lr, 0, false, false, false);
    }

    public RunSpec localSpec(Lookup l, Size z, Arm a, int b, String variant) {
        Optimum o = ruleOptimum(l, z, a, b);
        if (o == null) {
            return null;
        }
        if (variant.equals(EXTEND)) { // only past an lr edge of the fixed points
            Local in = localBest(l, z, a, b);
            if (in == null || !(in.variant().equals("lr/4") || in.variant().equals("lr*2"))) {
                return in == null ? null : in.spec();
            }
        }
        Optimum t = tuned(l, z, a, s.tunedBudgets() - 1);
        Optimum v =
                switch (variant) {
                    case "rule" -> o;
                    case "lr/2" -> scaled(o, a, 0.5);
                    case "lr/4" -> scaled(o, a, 0.25);
                    case "lr*2" -> scaled(o, a, 2);
                    case EXTEND ->
                            scaled(
                                    o,
                                    a,
                                    localBest(l, z, a, b).variant().equals("lr/4") ? 0.125 : 4);
                    default -> new Optimum(o.lr(), t.wd(), o.nonMatrix(), 0, false, false, false);
                };
        int steps = s.budgets().get(b);
        return new RunSpec(
                z,
                a,
                s.batch(),
                steps,
                evalEvery(steps),
                v.lr(),
                v.wd(),
                v.nonMatrix(),
                s.clip(),
                s.tuningSeed());
    }

    /** The rate at the ladder's rule for the frontier's budget, for a batch size (lr x factor). */
    public RunSpec frontierSpec(Lookup l, Arm a, int batch, double factor, long seed) {
        Size z = s.sizes().get(0);
        Optimum o = ruleOptimum(l, z, a, s.frontierBudget());
        if (o == null) {
            return null;
        }
        int steps = Study.steps(s, s.budgets().get(s.frontierBudget()), batch);
        double lr = o.lr() * factor;
        return new RunSpec(
                z,
                a,
                batch,
                steps,
                Math.max(1, steps / s.frontierEvals()),
                lr,
                o.wd(),
                a.twoRates() ? o.nonMatrix() : lr,
                s.clip(),
                seed);
    }

    /**
     * The frontier's best lr factor for a batch size (on the tuning seed), or NaN while unfinished.
     */
    public double frontierFactor(Lookup l, Arm a, int batch) {
        double best = Double.POSITIVE_INFINITY, f = s.frontierLrFactors().get(0);
        for (double x : s.frontierLrFactors()) {
            RunSpec r = frontierSpec(l, a, batch, x, s.tuningSeed());
            RunSummary sum = r == null ? null : l.get(r);
            if (sum == null) {
                return Double.NaN;
            }
            if (score(sum) < best) {
                best = score(sum);
                f = x;
            }
        }
        return f;
    }

    public RunSpec stabilitySpec(Lookup l, Arm a, int mult, double clip, long seed) {
        Size z = s.sizes().get(0);
        Optimum o = ruleOptimum(l, z, a, 0);
        if (o == null) {
            return null;
        }
        int steps = s.budgets().get(0);
        double lr = o.lr() * mult;
        return new RunSpec(
                z,
                a,
                s.batch(),
                steps,
                evalEvery(steps),
                lr,
                o.wd(),
                a.twoRates() ? o.nonMatrix() : lr,
                clip,
                seed);
    }

    public static final List<Arm> FRONTIER_ARMS = List.of(Arm.MUON, Arm.ADAMW);

    private void add(
            String id, String part, String waits, String prefix, Function<Lookup, RunSpec> f) {
        slots.add(new Slot(slots.size(), id, part, waits, f, prefix));
    }

    private void build() {
        for (int zi = 0; zi < s.sizes().size(); zi++) {
            Size z = s.sizes().get(zi);
            for (int b = 0; b < s.tunedBudgets(); b++) {
                int steps = s.budgets().get(b);
                for (Arm a : Arm.values()) {
                    Study.Grid g = s.grid(a);
                    for (double lr : g.lr()) {
                        for (double wd : g.wd()) {
                            RunSpec r = tuneSpec(z, a, b, lr, wd, s.nonMatrixDefault());
                            add(
                                    z.name()
                                            + "/D"
                                            + steps
                                            + "/tune/"
                                            + a.id
                                            + "/lr"
                                            + Study.num(lr)
                                            + "/wd"
                                            + Study.num(wd),
                                    "tune",
                                    "",
                                    z.name() + "-D" + steps + "-tune",
                                    l -> r);
                        }
                    }
                }
            }
            for (int b = 0; b < s.tunedBudgets(); b++) {
                int steps = s.budgets().get(b), bb = b;
                for (Arm a : Arm.values()) {
                    if (!a.twoRates()) {
                        continue;
                    }
                    for (double nm : s.nonMatrix()) {
                        if (nm == s.nonMatrixDefault()) {
                            continue;
                        }
                        add(
                                z.name()
                                        + "/D"
                                        + steps
                                        + "/tune-nm/"
                                        + a.id
                                        + "/nm"
                                        + Study.num(nm),
                                "tune-nm",
                                z.name() + "/D" + steps + "/tune/" + a.id,
                                z.name() + "-D" + steps + "-tune",
                                l -> {
                                    Optimum o = tunedGrid(l, z, a, bb);
                                    return o == null
                                            ? null
                                            : tuneSpec(z, a, bb, o.lr(), o.wd(), nm);
                                });
                    }
                }
            }
            String lastTuned = z.name() + "/D" + s.budgets().get(s.tunedBudgets() - 1) + "/tune*";
            for (int b = s.tunedBudgets(); b < s.budgets().size(); b++) {
                int steps = s.budgets().get(b), bb = b;
                for (Arm a : Arm.values()) {
                    if (b >= s.budgetsOf(a)) {
                        continue;
                    }
                    for (String v : Stream.concat(LOCAL.stream(), Stream.of(EXTEND)).toList()) {
                        add(
                                z.name() + "/D" + steps + "/tune-local/" + a.id + "/" + v,
                                "tune-local",
                                lastTuned,
                                z.name() + "-D" + steps + "-local",
                                l -> localSpec(l, z, a, bb, v));
                    }
                }
            }
            for (int b = 0; b < s.budgets().size(); b++) {
                int steps = s.budgets().get(b), bb = b;
                String from =
                        b < s.tunedBudgets()
                                ? z.name() + "/D" + steps + "/tune*"
                                : z.name() + "/D" + steps + "/tune-local";
                for (long seed : s.seeds()) {
                    for (Arm a : Arm.values()) {
                        if (b >= s.budgetsOf(a)) {
                            continue;
                        }
                        add(
                                z.name() + "/D" + steps + "/score/" + a.id + "/seed" + seed,
                                "score",
                                from,
                                z.name() + "-D" + steps,
                                l -> {
                                    Optimum o = optimum(l, z, a, bb);
                                    return o == null ? null : scoreSpec(o, z, a, bb, seed);
                                });
                    }
                }
            }
            if (zi == 0) {
                stabilityAndFrontier(z);
            }
        }
    }

    private void stabilityAndFrontier(Size z) {
        String d1 = z.name() + "/D" + s.budgets().get(0) + "/tune*";
        for (Arm a : FRONTIER_ARMS) {
            for (double clip : s.stabilityClips()) {
                for (int m : s.stabilityMultipliers()) {
                    for (long seed : s.stabilitySeeds()) {
                        add(
                                String.format(
                                        Locale.ROOT,
                                        "%s/stability/%s/x%d/%s/seed%d",
                                        z.name(),
                                        a.id,
                                        m,
                                        clip == 0 ? "noclip" : "clip",
                                        seed),
                                "stability",
                                d1,
                                z.name() + "-stab-x" + m,
                                l -> stabilitySpec(l, a, m, clip, seed));
                    }
                }
            }
        }
        int fb = s.budgets().get(s.frontierBudget());
        String rule =
                z.name()
                        + "/D"
                        + s.budgets().get(Math.min(s.frontierBudget(), s.tunedBudgets() - 1))
                        + "/tune*";
        for (int batch : s.frontierBatches()) {
            for (Arm a : FRONTIER_ARMS) {
                for (double f : s.frontierLrFactors()) {
                    add(
                            String.format(
                                    Locale.ROOT,
                                    "%s/frontier/b%d/tune/%s/x%s",
                                    z.name(),
                                    batch,
                                    a.id,
                                    Study.num(f)),
                            "frontier-tune",
                            rule,
                            z.name() + "-front-b" + batch + "-tune",
                            l -> frontierSpec(l, a, batch, f, s.tuningSeed()));
                }
            }
        }
        for (int batch : s.frontierBatches()) {
            for (Arm a : FRONTIER_ARMS) {
                for (long seed : s.frontierSeeds()) {
                    add(
                            String.format(
                                    Locale.ROOT,
                                    "%s/frontier/b%d/%s/seed%d",
                                    z.name(),
                                    batch,
                                    a.id,
                                    seed),
                            "frontier",
                            z.name() + "/frontier/b" + batch + "/tune/" + a.id,
                            z.name() + "-front-b" + batch,
                            l -> {
                                double f = frontierFactor(l, a, batch);
                                return Double.isNaN(f) ? null : frontierSpec(l, a, batch, f, seed);
                            });
                }
            }
        }
        if (fb <= 0) {
            throw new IllegalStateException("frontier budget");
        }
    }

    /** The lr x wd grid's best point alone (what the non-matrix runs start from). */
    Optimum tunedGrid(Lookup l, Size z, Arm a, int b) {
        Study.Grid g = s.grid(a);
        double best = Double.POSITIVE_INFINITY;
        double lr = g.lr().get(0), wd = g.wd().get(0);
        for (double x : g.lr()) {
            for (double y : g.wd()) {
                RunSummary r = l.get(tuneSpec(z, a, b, x, y, s.nonMatrixDefault()));
                if (r == null) {
                    return null;
                }
                if (score(r) < best) {
                    best = score(r);
                    lr = x;
                    wd = y;
                }
            }
        }
        return new Optimum(lr, wd, s.nonMatrixDefault(), best, false, false, false);
    }
}
