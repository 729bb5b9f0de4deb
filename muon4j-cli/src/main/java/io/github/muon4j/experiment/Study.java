package io.github.muon4j.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.train.TrainConfig;
import java.util.List;
import java.util.Locale;

/**
 * The Muon-vs-AdamW study, horizon-matched (the method of Wen et al. 2025, "Fantastic Pretraining
 * Optimizers and Where to Find Them"): at each model size and each data budget D of a geometric
 * ladder, every arm trains a whole schedule (warm-up, cosine decay) that ends at D, and the speedup
 * is read from final losses only ({@link Horizon}).
 *
 * <p>The study is a fixed, ordered list of runs ({@link Plan}): tuning grids first, then the
 * scoring runs whose settings are the tuning grids' optima. The list's length and order never
 * depend on results, so a job array can split it by index ({@link Shard}); a run whose settings
 * wait for a tuning grid is blocked until that grid has finished.
 *
 * <p>Arms: Muon for the hidden matrices with AdamW for the rest; AdamW with two rates (the hidden
 * matrices' rate and the non-matrix rate searched separately, as Muon's run has it); AdamW with one
 * rate for every parameter (the usual baseline).
 */
public final class Study {

    /** An arm of the comparison. */
    public enum Arm {
        MUON("muon", "Muon"),
        ADAMW("adamw", "AdamW"),
        ADAMW1("adamw1", "AdamW, one rate");

        public final String id;
        public final String title;

        Arm(String id, String title) {
            this.id = id;
            this.title = title;
        }

        public String optimizer() {
            return this == MUON ? "muon" : "adamw";
        }

        /** Whether the non-matrix rate is searched apart from the matrix rate. */
        public boolean twoRates() {
            return this != ADAMW1;
        }
    }

    /** A model size: the tiny preset's family with these layers, width and heads (byte tokens). */
    public record Size(String name, int layers, int dModel, int heads) {
        public JsonObject model() {
            return JsonParser.parseString(
                            String.format(
                                    Locale.ROOT,
                                    "{\"n_layers\": %d, \"d_model\": %d, \"n_heads\": %d}",
                                    layers,
                                    dModel,
                                    heads))
                    .getAsJsonObject();
        }
    }

    /** A tuning grid: matrix learning rates x weight decays. */
    public record Grid(List<Double> lr, List<Double> wd) {}

    /**
     * The study's settings.
     *
     * @param budgets the data ladder in optimizer steps of batch x seqLen tokens (geometric)
     * @param armBudgets how many of the budgets every arm trains; the ones after them only the
     *     reference (AdamW with two rates), so that its ladder reaches past Muon's largest budget
     *     and fewer speedups need the fitted law
     * @param tunedBudgets how many of the smallest budgets are tuned on their own; larger budgets
     *     use the last tuned budget's rates with the weight decay scaled to keep lr x wd x steps
     *     constant
     * @param nonMatrix the non-matrix (embedding, head, norms) AdamW rates tried at each two-rate
     *     arm's best (lr, wd); {@code nonMatrixDefault} is the one the lr x wd grid uses
     * @param tuningSeed the seed of every tuning run (never a scoring seed)
     * @param seeds scoring seeds
     * @param evalWindows held-out windows of seqLen tokens per evaluation (the same for every run)
     * @param evals evaluations per ladder run (evenly spaced, the last at the end)
     * @param frontierBudget index into budgets: the tokens of every frontier run
     * @param frontierEvals evaluations per frontier run
     * @param stabilityMultipliers multiples of the tuned rate (at the smallest budget, size S)
     */
    public record Settings(
            String name,
            int seqLen,
            int batch,
            List<Integer> budgets,
            int armBudgets,
            int tunedBudgets,
            List<Size> sizes,
            Grid muon,
            Grid adamw,
            List<Double> nonMatrix,
            double nonMatrixDefault,
            long tuningSeed,
            List<Long> seeds,
            int evalWindows,
            int evals,
            List<Integer> frontierBatches,
            int frontierBudget,
            List<Double> frontierLrFactors,
            List<Long> frontierSeeds,
            int frontierEvals,
            List<Integer> stabilityMultipliers,
            List<Double> stabilityClips,
            List<Long> stabilitySeeds,
            double clip) {

        public Grid grid(Arm a) {
            return a == Arm.MUON ? muon : adamw;
        }

        /** The budgets (indices) an arm trains. */
        public int budgetsOf(Arm a) {
            return a == Arm.ADAMW ? budgets.size() : armBudgets;
        }

        public long tokens(int steps) {
            return (long) steps * batch * seqLen;
        }

        public Size size(String name) {
            return sizes.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
        }
    }

    private static final List<Double> MUON_LR = List.of(0.01, 0.02, 0.04, 0.08, 0.16);

    /**
     * AdamW's reaches two rates further up than Muon's: at 100 and 200 steps of size S its optimum
     * sat on the top edge of the first grid (0.016), then of the second (0.032).
     */
    private static final List<Double> ADAMW_LR =
            List.of(1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2, 6.4e-2);

    /**
     * Weight-decay grids. Decay is multiplied by the parameter's rate, so what regularises is lr x
     * wd (the shrink per step): Muon's grid spans 2.5e-4 to 6.4e-2 of it, AdamW's 1e-4 to 0.1, both
     * including the usual wd = 0.1.
     */
    private static final List<Double> MUON_WD = List.of(0.025, 0.1, 0.4);

    private static final List<Double> ADAMW_WD = List.of(0.1, 0.4, 1.6);

    /**
     * The full study: sizes S, M, L; budgets 100-800 steps of 16 x 128 tokens (0.2M-1.6M tokens),
     * AdamW also 1600 steps.
     */
    public static Settings full() {
        return new Settings(
                "horizon",
                128,
                16,
                List.of(100, 200, 400, 800, 1600),
                4,
                2,
                List.of(
                        new Size("S", 2, 64, 4),
                        new Size("M", 2, 128, 4),
                        new Size("L", 4, 128, 4)),
                new Grid(MUON_LR, MUON_WD),
                new Grid(ADAMW_LR, ADAMW_WD),
                List.of(1e-3, 3e-3, 1e-2, 3e-2),
                3e-3,
                100L,
                List.of(1L, 2L, 3L, 4L),
                128,
                4,
                List.of(4, 8, 16, 32, 64),
                2,
                List.of(0.5, 1.0, 2.0),
                List.of(1L, 2L),
                16,
                List.of(1, 4, 16, 32, 64),
                List.of(1.0, 0.0),
                List.of(1L, 2L),
                1.0);
    }

    /**
     * The same report shape from small runs: budgets 40-320 steps of 8 x 64 tokens, smaller sizes
     * and grids.
     */
    public static Settings quick() {
        return new Settings(
                "horizon-quick",
                64,
                8,
                List.of(40, 80, 160, 320, 640),
                4,
                2,
                List.of(new Size("S", 2, 32, 2), new Size("M", 2, 64, 4)),
                new Grid(List.of(0.02, 0.04, 0.08), List.of(0.025, 0.1)),
                new Grid(List.of(2e-3, 4e-3, 8e-3), List.of(0.1, 0.4)),
                List.of(3e-3, 1e-2),
                3e-3,
                100L,
                List.of(1L, 2L, 3L, 4L),
                64,
                4,
                List.of(2, 4, 8, 16),
                2,
                List.of(0.5, 1.0, 2.0),
                List.of(1L, 2L),
                8,
                List.of(1, 4, 16, 64),
                List.of(1.0, 0.0),
                List.of(1L, 2L),
                1.0);
    }

    /**
     * A study of seconds, for tests and the Slurm integration test: sizes of 16 and 32 wide,
     * budgets of 8-64 steps of 4 x 32 tokens, grids of two rates; the same parts and report as the
     * others.
     */
    public static Settings tiny() {
        return new Settings(
                "horizon-tiny",
                32,
                4,
                List.of(8, 16, 32, 64, 128),
                4,
                2,
                List.of(new Size("S", 1, 16, 2), new Size("M", 1, 32, 2)),
                new Grid(List.of(0.02, 0.04), List.of(0.1)),
                new Grid(List.of(4e-3, 8e-3), List.of(0.1)),
                List.of(3e-3, 1e-2),
                3e-3,
                100L,
                List.of(1L, 2L, 3L, 4L),
                16,
                4,
                List.of(2, 4),
                2,
                List.of(0.5, 1.0),
                List.of(1L, 2L),
                8,
                List.of(1, 16),
                List.of(1.0, 0.0),
                List.of(1L),
                1.0);
    }

    /** One run's settings: what the study chooses; everything else is the tiny preset's. */
    public record RunSpec(
            Size size,
            Arm arm,
            int batch,
            int steps,
            int evalEvery,
            double lr,
            double wd,
            double nonMatrix,
            double clip,
            long seed) {}

    /**
     * The training configuration of a run: the user's data and threads, the study's explicit
     * settings.
     */
    public static TrainConfig config(TrainConfig user, Settings s, RunSpec r) {
        return user.overlay(spec(user, s, r).toString(), "study").validate();
    }

    /**
     * Every training setting the study fixes, written out in full so that a run's key (a hash of
     * this object) does not move when a default elsewhere changes.
     */
    public static JsonObject spec(TrainConfig user, Settings s, RunSpec r) {
        JsonObject o = new JsonObject();
        o.addProperty("preset", "tiny");
        o.add("model", r.size().model());
        o.addProperty("attention", "mha");
        o.addProperty("ffn", "dense");
        o.addProperty("tokenizer", "byte");
        o.addProperty("data", user.data());
        o.addProperty("val_fraction", 0.02);
        o.addProperty("seq_len", s.seqLen());
        o.addProperty("batch_size", r.batch());
        o.addProperty("grad_accum", 1);
        o.addProperty("steps", r.steps());
        o.addProperty("warmup", Math.max(1, r.steps() / 10));
        o.addProperty("schedule", "cosine");
        o.addProperty("eval_every", r.evalEvery());
        o.addProperty("eval_batches", Math.max(1, s.evalWindows() / r.batch()));
        o.addProperty("optimizer", r.arm().optimizer());
        o.addProperty("lr", r.lr());
        o.addProperty("adamw_lr", r.arm().twoRates() ? r.nonMatrix() : r.lr());
        o.addProperty("weight_decay", r.wd());
        o.addProperty("clip", r.clip());
        o.addProperty("max_bad_steps", 5);
        o.addProperty("seed", r.seed());
        return o;
    }

    /** Readable number for labels: 0.04, 1e-03 -> 0.001, 0.025. */
    static String num(double v) {
        return String.format(Locale.ROOT, "%.4g", v).replaceAll("\\.?0+(e|$)", "$1");
    }

    static String label(String prefix, RunSpec r) {
        return String.format(
                Locale.ROOT,
                "%s-%s-lr%s-wd%s%s%s-seed%d",
                prefix,
                r.arm().id,
                num(r.lr()),
                num(r.wd()),
                r.arm().twoRates() ? "-nm" + num(r.nonMatrix()) : "",
                r.clip() == 0 ? "-noclip" : "",
                r.seed());
    }

    private Study() {}

    /** Tokens per parameter (all parameters, embeddings included) of a budget at a size. */
    public static double tokensPerParam(TrainConfig user, Settings s, Size size, int steps) {
        Cost c =
                Cost.of(
                        config(
                                user,
                                s,
                                new RunSpec(
                                        size, Arm.ADAMW, s.batch(), steps, steps, 1e-3, 0.1, 3e-3,
                                        s.clip(), 1)));
        return s.tokens(steps) / (double) c.totalParams();
    }

    /** The steps of a budget's run at a batch size with the same tokens. */
    static int steps(Settings s, int budgetSteps, int batch) {
        return (int) Math.max(1, (long) budgetSteps * s.batch() / batch);
    }

    /**
     * Opens the plan's training text once (byte tokens), so that a bad --data fails before any run
     * starts.
     */
    public static void checkData(Plan p) {
        io.github.muon4j.data.DataSets.open(
                p.user().data(),
                null,
                0.02,
                io.github.muon4j.data.Tokenizers.byName("byte"),
                io.github.muon4j.data.DataSets.defaultCacheDir(),
                null);
    }
}
