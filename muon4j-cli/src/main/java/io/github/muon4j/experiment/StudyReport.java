package io.github.muon4j.experiment;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.github.muon4j.experiment.Plan.Optimum;
import io.github.muon4j.experiment.Study.Arm;
import io.github.muon4j.experiment.Study.RunSpec;
import io.github.muon4j.experiment.Study.Settings;
import io.github.muon4j.experiment.Study.Size;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The study's report, rebuilt from the run summaries alone: REPORT.md, summary.json and the figures
 * ({@link StudyFigures}). Both text files are deterministic (no times, no machine names; numbers
 * from the summaries through StrictMath), so {@code --report-only} on the committed summaries
 * reproduces them byte for byte; wall times and load averages, which depend on the machine, go to
 * TIMING.md.
 */
public final class StudyReport {

    /** The report's text and the --json line. */
    public record Output(String report, String json) {}

    static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().serializeNulls().create();
    static final Gson LINE = new GsonBuilder().serializeNulls().create();

    /** The finished scoring runs of one arm at one budget, with the rates they used. */
    record ArmRuns(Optimum rates, List<RunSummary> runs, int seeds) {
        boolean complete() {
            return rates != null && runs.size() == seeds;
        }

        double[] finals() {
            return runs.stream().mapToDouble(RunSummary::finalValLoss).toArray();
        }
    }

    /** One size x budget of the headline: the speedups against both AdamW baselines. */
    record Cell(
            Size size,
            int budget,
            long tokens,
            ArmRuns muon,
            ArmRuns adamw,
            ArmRuns adamw1,
            Horizon.Estimate data,
            Horizon.Estimate flops,
            Horizon.Paired paired,
            Horizon.Estimate data1,
            Horizon.Estimate flops1) {}

    private final Plan plan;
    private final Settings s;
    private final Plan.Lookup l;
    private final StringBuilder md = new StringBuilder();

    private StudyReport(Plan plan, RunStore store) {
        this.plan = plan;
        this.s = plan.settings();
        this.l = Shard.lookup(plan, store);
    }

    public static Output write(Plan plan, RunStore store, Path dir, String command)
            throws IOException {
        store.refresh();
        Files.createDirectories(dir);
        return new StudyReport(plan, store).build(store, dir, command);
    }

    // ---- gathering ----

    ArmRuns arm(Size z, Arm a, int b) {
        Optimum o = plan.optimum(l, z, a, b);
        List<RunSummary> runs = new ArrayList<>();
        if (o != null) {
            for (long seed : s.seeds()) {
                RunSummary r = l.get(plan.scoreSpec(o, z, a, b, seed));
                if (r != null) {
                    runs.add(r);
                }
            }
        }
        return new ArmRuns(o, runs, s.seeds().size());
    }

    /** The tokens of the budgets an arm trains. */
    double[] budgetTokens(Arm a) {
        return s.budgets().stream()
                .limit(s.budgetsOf(a))
                .mapToDouble(x -> (double) s.tokens(x))
                .toArray();
    }

    /**
     * Per seed, an arm's final losses at every budget (null unless every budget and seed is
     * finished).
     */
    double[][] ladder(Size z, Arm a) {
        int nb = s.budgetsOf(a), ns = s.seeds().size();
        double[][] out = new double[ns][nb];
        for (int b = 0; b < nb; b++) {
            ArmRuns r = arm(z, a, b);
            if (!r.complete()) {
                return null;
            }
            for (int k = 0; k < ns; k++) {
                out[k][b] = r.runs().get(k).finalValLoss();
            }
        }
        return out;
    }

    List<Cell> cells(Size z) {
        List<Cell> out = new ArrayList<>();
        double[] d = budgetTokens(Arm.MUON),
                dRef = budgetTokens(Arm.ADAMW),
                dRef1 = budgetTokens(Arm.ADAMW1);
        double[][] ref = ladder(z, Arm.ADAMW), ref1 = ladder(z, Arm.ADAMW1);
        for (int b = 0; b < s.armBudgets(); b++) {
            ArmRuns m = arm(z, Arm.MUON, b), a = arm(z, Arm.ADAMW, b), a1 = arm(z, Arm.ADAMW1, b);
            Horizon.Estimate data = null, flops = null, data1 = null, flops1 = null;
            Horizon.Paired paired = null;
            if (m.complete()) {
                RunSummary r0 = m.runs().get(0);
                double muonFlops = r0.cost().totalFlops(s.budgets().get(b), d[b]);
                if (ref != null && !a.runs().isEmpty()) {
                    double perToken = a.runs().get(0).cost().modelFlopsPerToken();
                    data = Horizon.estimate(dRef, ref, m.finals(), d[b], 1);
                    flops = Horizon.scaled(data, perToken * d[b] / muonFlops);
                    paired = Horizon.paired(dRef, ref, m.finals(), d[b]);
                }
                if (ref1 != null && !a1.runs().isEmpty()) {
                    double perToken = a1.runs().get(0).cost().modelFlopsPerToken();
                    data1 = Horizon.estimate(dRef1, ref1, m.finals(), d[b], 1);
                    flops1 = Horizon.scaled(data1, perToken * d[b] / muonFlops);
                }
            }
            out.add(
                    new Cell(
                            z,
                            b,
                            s.tokens(s.budgets().get(b)),
                            m,
                            a,
                            a1,
                            data,
                            flops,
                            paired,
                            data1,
                            flops1));
        }
        return out;
    }

    // ---- the report ----

    private Output build(RunStore store, Path dir, String command) throws IOException {
        int finished = Shard.finished(plan, store);
        int total = plan.slots().size();
        StudyFigures fig = new StudyFigures(dir);
        JsonObject summary = new JsonObject();
        summary.addProperty("study", s.name());
        summary.addProperty("command", command);
        summary.addProperty("runs_planned", total);
        summary.addProperty("runs_finished", finished);
        JsonArray speedup = new JsonArray(), speedup1 = new JsonArray();

        h1("Muon vs AdamW, horizon-matched (" + s.name() + ")");
        p(
                "Command: `"
                        + command
                        + "`; rebuilt from the run summaries in `runs/` by `"
                        + command
                        + " --report-only`.");
        p(
                String.format(
                        Locale.ROOT,
                        "Progress: **%d of %d runs finished**%s.",
                        finished,
                        total,
                        finished == total
                                ? ""
                                : " (the tables below cover "
                                        + "what has finished; a section waiting for runs says so)"));
        progress(store);
        method();
        sizesTable();

        h2("1. Speedup at each data budget");
        p(
                "Speedup of Muon over AdamW at budget D = D_AdamW(L_Muon(D)) / D: the data AdamW (two rates, tuned) needs to reach Muon's "
                        + "final loss at D, over D. **Headline: AdamW's data read by linear interpolation in (log D, loss) between its own budgets** "
                        + "(seed-mean losses); where Muon's loss lies outside AdamW's ladder the fitted L(D) = E + A D^-a over AdamW's "
                        + s.budgetsOf(Arm.ADAMW)
                        + " budgets stands in, and the cell is marked *extrapolated*. Compute: AdamW's model FLOPs at D_AdamW over Muon's model "
                        + "+ Newton-Schulz FLOPs at D. Intervals: 95% percentile bootstrap, Muon's "
                        + s.seeds().size()
                        + " seeds and AdamW's "
                        + s.seeds().size()
                        + " seeds (each seed's whole ladder as one unit) resampled independently, every resample enumerated. "
                        + "Paired: seed k's Muon loss against seed k's own AdamW ladder (interpolation only; a seed outside its ladder is "
                        + "counted and shown as a bound).");
        md.append(
                "| size | D (tokens) | tokens/param | Muon loss | AdamW loss | **data speedup** [95%] | **FLOPs speedup** [95%] | fitted-law data "
                        + "speedup | paired per seed | vs one-rate AdamW: data [95%] | Muon lr, wd, nm | AdamW lr, wd, nm | one-rate AdamW lr, wd |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        Map<String, List<Cell>> bySize = new LinkedHashMap<>();
        for (Size z : s.sizes()) {
            List<Cell> cs = cells(z);
            bySize.put(z.name(), cs);
            for (Cell c : cs) {
                row(c);
                if (c.data() != null) {
                    speedup.add(jsonRow(c, c.data(), c.flops(), c.adamw()));
                }
                if (c.data1() != null) {
                    speedup1.add(jsonRow(c, c.data1(), c.flops1(), c.adamw1()));
                }
            }
        }
        md.append('\n');
        p(
                "*extrapolated*: Muon's loss lies beyond AdamW's largest budget (or above its smallest budget's loss), so the number comes from the "
                        + "fitted law, not from a trained AdamW run; what the trained ladder alone says is given beside it (a bound), and the fitted "
                        + "law is unreliable far outside the ladder (its intervals show it). `nm`: the non-matrix (embedding, head, norms) AdamW rate; *: the value "
                        + "sits on the edge of its tuning grid (beyond the tuned budgets: of the local search). Rates at budgets beyond the second come from the local search around the transfer rule (see 3).");
        fig.speedup(bySize, s);
        img("speedup", "data speedup per size and budget");
        summary.add("speedup", speedup);
        summary.add("speedup_vs_one_rate_adamw", speedup1);

        h2("2. Per size");
        JsonObject sizes = new JsonObject();
        for (Size z : s.sizes()) {
            sizes.add(z.name(), sizeSection(z, bySize.get(z.name()), fig));
        }
        summary.add("sizes", sizes);

        h2("3. Tuning, and the local search at larger budgets");
        summary.add("tuning", tuning());

        h2("4. Batch-size frontier (size " + s.sizes().get(0).name() + ")");
        summary.add("frontier", new Frontier(plan, l).write(md, fig));

        h2("5. Stability");
        summary.add("stability", stability(fig));

        String report = md.toString();
        RunStore.write(dir.resolve("REPORT.md"), report);
        RunStore.write(dir.resolve("summary.json"), PRETTY.toJson(summary) + "\n");
        RunStore.write(dir.resolve("TIMING.md"), timing(store, command));
        JsonObject line = new JsonObject();
        line.addProperty("study", s.name());
        line.addProperty("runs_finished", finished);
        line.addProperty("runs_planned", total);
        line.add("speedup", speedup);
        return new Output(report, LINE.toJson(line));
    }

    /** Finished runs per size and part of the plan. */
    private void progress(RunStore store) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (Plan.Slot slot : plan.slots()) {
            String group = slot.id().substring(0, slot.id().indexOf('/')) + " " + slot.part();
            int[] c = counts.computeIfAbsent(group, k -> new int[2]);
            Plan.Run r = plan.resolve(slot, l);
            c[0] += r != null && l.get(r.spec()) != null ? 1 : 0;
            c[1]++;
        }
        md.append("| size and part | runs finished |\n|---|---|\n");
        for (var e : counts.entrySet()) {
            md.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %d of %d |%n",
                            e.getKey(),
                            e.getValue()[0],
                            e.getValue()[1]));
        }
        md.append('\n');
    }

    private void method() {
        h2("Method");
        int last = s.budgets().get(s.armBudgets() - 1);
        p(
                String.format(
                        Locale.ROOT,
                        "Data: %s, byte tokens, 2%% held out; every evaluation scores the same %d held-out windows of %d tokens. "
                                + "Budgets: %s optimizer steps of %d x %d tokens (%s tokens), a geometric ladder spanning %dx; the reference, AdamW "
                                + "with two rates, also trains %s steps, so that its ladder reaches past Muon's largest budget. Every run is a whole "
                                + "schedule ending at its budget: linear warm-up over the first 10%% of steps, cosine decay to 10%% of the peak at the "
                                + "last step, gradient clipping at %s; %d evaluations per run, the last at the end. Only final losses enter the "
                                + "speedups; no run is read mid-schedule for them.",
                        plan.user().data() == null
                                ? "the built-in corpus (English Europarl)"
                                : "`" + plan.user().data() + "`",
                        s.evalWindows(),
                        s.seqLen(),
                        s.budgets().subList(0, s.armBudgets()),
                        s.batch(),
                        s.seqLen(),
                        fmtTokens(budgetTokens(Arm.MUON)),
                        last / s.budgets().get(0),
                        s.budgets().subList(s.armBudgets(), s.budgets().size()),
                        num(s.clip()),
                        s.evals()));
        p(
                String.format(
                        Locale.ROOT,
                        "Arms: **Muon** (hidden matrices; AdamW for embedding, head and norms at its own rate `nm`), **AdamW** "
                                + "with two rates (hidden matrices `lr`, the rest `nm`, searched separately as in Muon's run) and **AdamW with one rate** "
                                + "for every parameter (the usual baseline). Weight decay is decoupled and multiplied by each parameter's own rate, so "
                                + "the same number is not the same regularisation in two arms: it is searched per arm. Muon: Nesterov momentum 0.95, "
                                + "5 Newton-Schulz steps, Keller Jordan's scaling; AdamW betas (0.9, 0.95), eps 1e-8 (warm-up and beta2 are tuned for "
                                + "neither arm)."));
        p(
                String.format(
                        Locale.ROOT,
                        "Tuning (fixed grids, on seed %d, which is never a scoring seed): at each of the %d smallest budgets and "
                                + "each size, every arm's matrix rate x weight decay (Muon lr %s x wd %s; both AdamW arms lr %s x wd %s) at nm = %s; "
                                + "then, at each two-rate arm's best (lr, wd), nm in %s. A diverged run (loss above the loss at step 1, or "
                                + "non-finite) scores +infinity. Larger budgets use the last tuned budget's rates with wd scaled by steps_tuned / "
                                + "steps (lr x wd x steps constant) as the centre of a local search at each of them (the rule's point, lr / 2, lr / 4, lr x 2, "
                                + "wd unscaled, and lr / 8 or lr x 4 where lr / 4 or lr x 2 wins; seed %d), whose best point is scored (section 3). Scoring: seeds %s at every budget.",
                        s.tuningSeed(),
                        s.tunedBudgets(),
                        nums(s.muon().lr()),
                        nums(s.muon().wd()),
                        nums(s.adamw().lr()),
                        nums(s.adamw().wd()),
                        num(s.nonMatrixDefault()),
                        nums(s.nonMatrix()),
                        s.tuningSeed(),
                        s.seeds()));
    }

    private void sizesTable() {
        md.append(
                "| size | layers x width (heads) | parameters (all, embeddings included) | non-embedding | tokens per parameter at each budget |\n");
        md.append("|---|---|---|---|---|\n");
        for (Size z : s.sizes()) {
            Cost c =
                    Cost.of(
                            Study.config(
                                    plan.user(),
                                    s,
                                    new RunSpec(
                                            z, Arm.ADAMW, s.batch(), 1, 1, 1e-3, 0.1, 3e-3,
                                            s.clip(), 1)));
            StringBuilder tpp = new StringBuilder();
            for (int b : s.budgets()) {
                tpp.append(tpp.length() == 0 ? "" : ", ")
                        .append(
                                String.format(
                                        Locale.ROOT,
                                        "%.2f",
                                        s.tokens(b) / (double) c.totalParams()));
            }
            md.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %d x %d (%d) | %,d | %,d | %s |%n",
                            z.name(),
                            z.layers(),
                            z.dModel(),
                            z.heads(),
                            c.totalParams(),
                            c.nonEmbeddingParams(),
                            tpp));
        }
        md.append('\n');
        p("Tokens per parameter count every parameter, embeddings and head included.");
    }

    private void row(Cell c) {
        double[] m = c.muon().finals(), a = c.adamw().finals();
        String mr = rates(c.muon().rates(), true),
                ar = rates(c.adamw().rates(), true),
                a1 = rates(c.adamw1().rates(), false);
        String data = c.data() == null ? "waits for runs" : est(c.data());
        String flops = c.flops() == null ? "" : est(c.flops());
        String fitted = c.data() == null ? "" : ratio(c.data().fitted());
        String paired = c.paired() == null ? "" : paired(c.paired());
        String one = c.data1() == null ? "" : est(c.data1());
        md.append(
                String.format(
                        Locale.ROOT,
                        "| %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        c.size().name(),
                        fmtInt(c.tokens()),
                        tpp(c.size(), c.tokens()),
                        loss(m, c.muon().seeds()),
                        loss(a, c.adamw().seeds()),
                        data,
                        flops,
                        fitted,
                        paired,
                        one,
                        mr,
                        ar,
                        a1));
    }

    double tpp(Size z, long tokens) {
        Cost c =
                Cost.of(
                        Study.config(
                                plan.user(),
                                s,
                                new RunSpec(
                                        z, Arm.ADAMW, s.batch(), 1, 1, 1e-3, 0.1, 3e-3, s.clip(),
                                        1)));
        return tokens / (double) c.totalParams();
    }

    private JsonObject jsonRow(Cell c, Horizon.Estimate data, Horizon.Estimate flops, ArmRuns ref) {
        JsonObject o = new JsonObject();
        o.addProperty("size", c.size().name());
        o.addProperty("budget_tokens", c.tokens());
        o.add("data_speedup", jnum(data.value()));
        o.add("data_speedup_ci95", pair(data.ci()));
        o.add("flops_speedup", jnum(flops.value()));
        o.add("flops_speedup_ci95", pair(flops.ci()));
        o.addProperty("extrapolated", data.extrapolated());
        o.addProperty(
                "extrapolated_side",
                data.position() > 0
                        ? "beyond the largest budget"
                        : data.position() < 0 ? "below the smallest budget" : "none");
        o.add(
                "data_speedup_ladder_bound",
                data.extrapolated() ? jnum(data.bound()) : JsonNull.INSTANCE);
        Optimum mo = c.muon().rates(), ao = ref.rates();
        o.add("muon_lr", jnum(mo.lr()));
        o.add("muon_wd", jnum(mo.wd()));
        o.add("adamw_lr", jnum(ao.lr()));
        o.add("adamw_wd", jnum(ao.wd()));
        o.add("muon_nonmatrix_lr", jnum(mo.nonMatrix()));
        o.add("adamw_nonmatrix_lr", jnum(ao.nonMatrix()));
        o.add("data_speedup_fitted_law", jnum(data.fitted()));
        o.add("muon_loss", jnum(Stats.mean(c.muon().finals())));
        o.add("adamw_loss", jnum(Stats.mean(ref.finals())));
        o.add("tokens_per_param", jnum(tpp(c.size(), c.tokens())));
        if (ref == c.adamw() && c.paired() != null) {
            JsonArray pr = new JsonArray();
            for (int k = 0; k < c.paired().ratios().length; k++) {
                JsonObject e = new JsonObject();
                e.addProperty("seed", s.seeds().get(k));
                e.add("data_speedup", jnum(c.paired().ratios()[k]));
                e.addProperty(
                        "bound",
                        c.paired().position()[k] == 0
                                ? "none"
                                : c.paired().position()[k] > 0 ? "at least" : "at most");
                pr.add(e);
            }
            o.add("paired", pr);
        }
        return o;
    }

    private JsonObject sizeSection(Size z, List<Cell> cells, StudyFigures fig) throws IOException {
        JsonObject out = new JsonObject();
        h3("Size " + z.name());
        md.append("| final validation loss, mean [95% t interval] over seeds " + s.seeds() + " | ");
        for (int b : s.budgets()) {
            md.append(fmtInt(s.tokens(b))).append(" tokens | ");
        }
        md.append('\n')
                .append("|---|".repeat(1))
                .append("---|".repeat(s.budgets().size()))
                .append('\n');
        Map<Arm, double[][]> ladders = new LinkedHashMap<>();
        for (Arm a : Arm.values()) {
            md.append("| ").append(a.title).append(" | ");
            JsonArray la = new JsonArray();
            for (int b = 0; b < s.budgets().size(); b++) {
                if (b >= s.budgetsOf(a)) {
                    md.append("— | ");
                    continue;
                }
                ArmRuns r = arm(z, a, b);
                md.append(loss(r.finals(), r.seeds())).append(" | ");
                JsonArray seeds = new JsonArray();
                for (RunSummary x : r.runs()) {
                    seeds.add(jnum(x.finalValLoss()));
                }
                la.add(seeds);
            }
            md.append('\n');
            out.add("final_loss_" + a.id, la);
            ladders.put(a, ladder(z, a));
        }
        md.append('\n');
        JsonObject fits = new JsonObject();
        for (Arm a : Arm.values()) {
            double[][] lad = ladders.get(a);
            double[] d = budgetTokens(a);
            if (lad != null) {
                PowerLaw f = PowerLaw.fit(d, Horizon.columnMeans(lad));
                md.append(
                        String.format(
                                Locale.ROOT,
                                "- %s: fitted L(D) = %.4f + %.4g D^-%.4f (residual sum of squares %.2e over %d budgets)%n",
                                a.title,
                                f.e(),
                                f.a(),
                                f.alpha(),
                                f.rss(),
                                d.length));
                JsonObject fo = new JsonObject();
                fo.add("E", jnum(f.e()));
                fo.add("A", jnum(f.a()));
                fo.add("alpha", jnum(f.alpha()));
                fits.add(a.id, fo);
            }
        }
        out.add("fitted_law", fits);
        md.append('\n');
        fig.lossVsData(z, this, ladders);
        img(z.name() + "-loss_vs_data", "final loss vs data, size " + z.name());
        if (ladders.get(Arm.MUON) != null && ladders.get(Arm.ADAMW) != null) {
            List<double[]> lm =
                    Horizon.lossMatched(
                            budgetTokens(Arm.ADAMW),
                            Horizon.columnMeans(ladders.get(Arm.ADAMW)),
                            budgetTokens(Arm.MUON),
                            Horizon.columnMeans(ladders.get(Arm.MUON)),
                            25);
            JsonArray arr = new JsonArray();
            for (double[] p : lm) {
                JsonArray e = new JsonArray();
                e.add(jnum(p[0]));
                e.add(jnum(p[1]));
                arr.add(e);
            }
            out.add("loss_matched_speedup", arr);
            if (!lm.isEmpty()) {
                p(
                        String.format(
                                Locale.ROOT,
                                "Loss-matched: over the losses both ladders reach (%.3f to %.3f), AdamW needs %.2f-%.2fx Muon's data "
                                        + "(each arm's data read off its own ladder by log-data interpolation).",
                                lm.get(lm.size() - 1)[0],
                                lm.get(0)[0],
                                lm.stream().mapToDouble(x -> x[1]).min().orElse(Double.NaN),
                                lm.stream().mapToDouble(x -> x[1]).max().orElse(Double.NaN)));
                fig.lossMatched(z, lm);
                img(z.name() + "-loss_matched", "loss-matched speedup, size " + z.name());
            }
        }
        int lastB = s.armBudgets() - 1;
        if (fig.curves(z, this, lastB)) {
            img(z.name() + "-curves", "validation curves at the largest budget, size " + z.name());
        }
        return out;
    }

    private JsonObject tuning() {
        JsonObject out = new JsonObject();
        p(
                "Final validation loss of every tuning run (seed "
                        + s.tuningSeed()
                        + "); **bold**: the grid's optimum; ∞: diverged; *edge*: the "
                        + "optimum sits on the grid's edge (a wider grid might find a better point there).");
        for (Size z : s.sizes()) {
            JsonObject zo = new JsonObject();
            for (int b = 0; b < s.tunedBudgets(); b++) {
                int steps = s.budgets().get(b);
                for (Arm a : Arm.values()) {
                    Study.Grid g = s.grid(a);
                    Optimum o = plan.tuned(l, z, a, b);
                    md.append(
                            String.format(
                                    Locale.ROOT,
                                    "**%s, %s, %s tokens** (lr rows x wd columns, nm = %s)%s%n%n",
                                    z.name(),
                                    a.title,
                                    fmtInt(s.tokens(steps)),
                                    num(s.nonMatrixDefault()),
                                    o == null ? " (waits for runs)" : ""));
                    md.append("| lr \\ wd |");
                    for (double wd : g.wd()) {
                        md.append(' ').append(num(wd)).append(" |");
                    }
                    md.append('\n')
                            .append("|---|")
                            .append("---|".repeat(g.wd().size()))
                            .append('\n');
                    for (double lr : g.lr()) {
                        md.append("| ").append(num(lr)).append(" |");
                        for (double wd : g.wd()) {
                            RunSummary r =
                                    l.get(plan.tuneSpec(z, a, b, lr, wd, s.nonMatrixDefault()));
                            String v =
                                    r == null
                                            ? "..."
                                            : Plan.diverged(r)
                                                    ? "∞"
                                                    : String.format(
                                                            Locale.ROOT, "%.4f", r.finalValLoss());
                            boolean best = o != null && o.lr() == lr && o.wd() == wd;
                            md.append(' ').append(best ? "**" + v + "**" : v).append(" |");
                        }
                        md.append('\n');
                    }
                    md.append('\n');
                    if (a.twoRates() && o != null) {
                        StringBuilder nm = new StringBuilder();
                        for (double v : s.nonMatrix()) {
                            RunSummary r = l.get(plan.tuneSpec(z, a, b, o.lr(), o.wd(), v));
                            nm.append(nm.length() == 0 ? "" : ", ")
                                    .append(num(v))
                                    .append(": ")
                                    .append(
                                            r == null
                                                    ? "..."
                                                    : Plan.diverged(r)
                                                            ? "∞"
                                                            : String.format(
                                                                    Locale.ROOT,
                                                                    "%.4f",
                                                                    r.finalValLoss()));
                        }
                        md.append("Non-matrix rate at (lr ")
                                .append(num(o.lr()))
                                .append(", wd ")
                                .append(num(o.wd()))
                                .append("): ")
                                .append(nm)
                                .append("; chosen ")
                                .append(num(o.nonMatrix()))
                                .append(o.nmEdge() ? " (*edge*)" : "")
                                .append(".\n\n");
                    }
                    if (o != null) {
                        md.append(
                                String.format(
                                        Locale.ROOT,
                                        "Chosen: lr %s%s, wd %s%s%s.%n%n",
                                        num(o.lr()),
                                        o.lrEdge() ? " (*edge*)" : "",
                                        num(o.wd()),
                                        o.wdEdge() ? " (*edge*)" : "",
                                        a.twoRates() ? ", nm " + num(o.nonMatrix()) : ""));
                        JsonObject jo = new JsonObject();
                        jo.add("lr", jnum(o.lr()));
                        jo.add("wd", jnum(o.wd()));
                        jo.add("nonmatrix_lr", jnum(o.nonMatrix()));
                        jo.addProperty("lr_edge", o.lrEdge());
                        jo.addProperty("wd_edge", o.wdEdge());
                        jo.addProperty("nonmatrix_edge", o.nmEdge());
                        zo.add(a.id + "@" + s.tokens(steps), jo);
                    }
                }
            }
            localSearch(z, zo);
            out.add(z.name(), zo);
        }
        return out;
    }

    /**
     * The local search at each budget beyond the tuned ones: the rule's point and its neighbours.
     */
    private void localSearch(Size z, JsonObject zo) {
        JsonObject jo = new JsonObject();
        for (int b = s.tunedBudgets(); b < s.budgets().size(); b++) {
            md.append(
                    String.format(
                            Locale.ROOT,
                            "**Local search, size %s, %s tokens** (seed %d): the transfer rule's point and its neighbours%n%n",
                            z.name(),
                            fmtInt(s.tokens(s.budgets().get(b))),
                            s.tuningSeed()));
            md.append(
                    "| arm | rule's point (lr, wd, nm) | rule | lr / 2 | lr / 4 | lr x 2 | wd unscaled | extension | chosen |\n|---|---|---|---|---|---|---|---|---|\n");
            for (Arm a : Arm.values()) {
                if (b >= s.budgetsOf(a)) {
                    continue;
                }
                Optimum rule = plan.ruleOptimum(l, z, a, b);
                md.append("| ")
                        .append(a.title)
                        .append(" | ")
                        .append(
                                rule == null
                                        ? "..."
                                        : num(rule.lr())
                                                + ", "
                                                + num(rule.wd())
                                                + ", "
                                                + num(rule.nonMatrix()))
                        .append(" |");
                JsonObject ao = new JsonObject();
                for (String v : Plan.LOCAL) {
                    RunSpec sp = plan.localSpec(l, z, a, b, v);
                    RunSummary r = sp == null ? null : l.get(sp);
                    double sc = r == null ? Double.NaN : Plan.score(r);
                    md.append(' ')
                            .append(
                                    r == null
                                            ? "..."
                                            : Double.isInfinite(sc)
                                                    ? "∞"
                                                    : String.format(Locale.ROOT, "%.4f", sc))
                            .append(" |");
                    ao.add(v, jnum(sc));
                }
                Plan.Local in = plan.localBest(l, z, a, b);
                RunSpec ext = in == null ? null : plan.localSpec(l, z, a, b, Plan.EXTEND);
                RunSummary er = ext == null ? null : l.get(ext);
                String extension =
                        in == null
                                ? "..."
                                : ext.equals(in.spec())
                                        ? "none (interior)"
                                        : "lr "
                                                + num(ext.lr())
                                                + ": "
                                                + (er == null
                                                        ? "..."
                                                        : Plan.diverged(er)
                                                                ? "∞"
                                                                : String.format(
                                                                        Locale.ROOT,
                                                                        "%.4f",
                                                                        er.finalValLoss()));
                md.append(' ').append(extension).append(" |");
                if (er != null && in != null && !ext.equals(in.spec())) {
                    ao.add("extension_lr", jnum(ext.lr()));
                    ao.add("extension", jnum(Plan.score(er)));
                }
                Optimum o = plan.optimum(l, z, a, b);
                md.append(' ')
                        .append(
                                o == null
                                        ? "..."
                                        : "lr "
                                                + num(o.lr())
                                                + (o.lrEdge() ? " (*edge*)" : "")
                                                + ", wd "
                                                + num(o.wd())
                                                + (o.wdEdge() ? " (*edge*)" : ""))
                        .append(" |\n");
                jo.add(a.id + "@" + s.tokens(s.budgets().get(b)), ao);
            }
            md.append('\n');
        }
        zo.add("local_search", jo);
    }

    private JsonObject stability(StudyFigures fig) throws IOException {
        JsonObject out = new JsonObject();
        Size z = s.sizes().get(0);
        p(
                String.format(
                        Locale.ROOT,
                        "Size %s, %s tokens, the smallest budget's tuned rates x %s, gradient clipping at %s and off, seeds %s. "
                                + "Diverged: the final validation loss is above the training loss at step 1 (the loss at initialisation) or non-finite, "
                                + "or the run stopped on %d non-finite steps in a row.",
                        z.name(),
                        fmtInt(s.tokens(s.budgets().get(0))),
                        s.stabilityMultipliers(),
                        num(s.clip()),
                        s.stabilitySeeds(),
                        5));
        md.append(
                "| arm | clipping | multiple of the tuned rate | rate | diverged | final loss per seed |\n|---|---|---|---|---|---|\n");
        Map<String, List<double[]>> series = new TreeMap<>();
        for (Arm a : Plan.FRONTIER_ARMS) {
            for (double clip : s.stabilityClips()) {
                for (int mult : s.stabilityMultipliers()) {
                    int div = 0, n = 0;
                    StringBuilder per = new StringBuilder();
                    double rate = Double.NaN;
                    for (long seed : s.stabilitySeeds()) {
                        RunSpec sp = plan.stabilitySpec(l, a, mult, clip, seed);
                        RunSummary r = sp == null ? null : l.get(sp);
                        if (sp != null) {
                            rate = sp.lr();
                        }
                        if (r == null) {
                            per.append(per.length() == 0 ? "" : ", ").append("...");
                            continue;
                        }
                        n++;
                        boolean dv = Plan.diverged(r);
                        div += dv ? 1 : 0;
                        per.append(per.length() == 0 ? "" : ", ")
                                .append(
                                        Double.isFinite(r.finalValLoss())
                                                ? String.format(
                                                        Locale.ROOT, "%.4f", r.finalValLoss())
                                                : "non-finite")
                                .append(dv ? " (diverged)" : "");
                        series.computeIfAbsent(
                                        a.id + (clip == 0 ? "-noclip" : "-clip"),
                                        k -> new ArrayList<>())
                                .add(new double[] {mult, r.finalValLoss(), dv ? 1 : 0, seed});
                    }
                    md.append(
                            String.format(
                                    Locale.ROOT,
                                    "| %s | %s | %dx | %s | %s | %s |%n",
                                    a.title,
                                    clip == 0 ? "off" : "at " + num(clip),
                                    mult,
                                    Double.isNaN(rate) ? "..." : num(rate),
                                    n == 0 ? "..." : div + " of " + n,
                                    per));
                    JsonObject o = new JsonObject();
                    o.addProperty("diverged", div);
                    o.addProperty("runs", n);
                    out.add(a.id + (clip == 0 ? "-noclip" : "-clip") + "-x" + mult, o);
                }
            }
        }
        md.append('\n');
        if (fig.stability(series, plan)) {
            img("stability", "final loss vs multiple of the tuned rate");
        }
        return out;
    }

    private String timing(RunStore store, String command) throws IOException {
        StringBuilder t =
                new StringBuilder(
                        "# Timing of "
                                + s.name()
                                + " (machine-dependent; not part of the reproducible report)\n\n");
        double wall = 0, loadSum = 0;
        java.time.Instant first = null, last = null;
        int n = 0;
        for (RunSummary r : store.all().values()) {
            wall += r.wallSeconds();
            if (r.finished() != null && !r.finished().isEmpty()) {
                java.time.Instant end = java.time.Instant.parse(r.finished());
                java.time.Instant start = end.minusMillis((long) (r.wallSeconds() * 1000));
                first = first == null || start.isBefore(first) ? start : first;
                last = last == null || end.isAfter(last) ? end : last;
            }
            if (r.loadAvg() != null && r.loadAvg().length == 2) {
                loadSum += (r.loadAvg()[0] + r.loadAvg()[1]) / 2;
                n++;
            }
        }
        t.append(
                String.format(
                        Locale.ROOT,
                        "%d run summaries; %.0f s (%.2f h) of run wall time in all.%n%n",
                        store.all().size(),
                        wall,
                        wall / 3600));
        if (first != null) {
            double elapsed = java.time.Duration.between(first, last).toMillis() / 1000.0;
            t.append(
                    String.format(
                            Locale.ROOT,
                            "First run started %s, last run finished %s: %.0f s (%.2f h) elapsed, including any pauses "
                                    + "between sittings.%n%n",
                            first,
                            last,
                            elapsed,
                            elapsed / 3600));
        }
        t.append(
                String.format(
                        Locale.ROOT,
                        "Mean 1-minute load average at the runs' starts and ends: %.2f (the machine has %d cores here).%n",
                        n == 0 ? Double.NaN : loadSum / n,
                        Runtime.getRuntime().availableProcessors()));
        return t.toString();
    }

    // ---- formatting ----

    private void h1(String t) {
        md.append("# ").append(t).append("\n\n");
    }

    private void h2(String t) {
        md.append("## ").append(t).append("\n\n");
    }

    private void h3(String t) {
        md.append("### ").append(t).append("\n\n");
    }

    void p(String t) {
        md.append(t).append("\n\n");
    }

    private void img(String base, String alt) {
        md.append("![").append(alt).append("](").append(base).append(".svg)\n\n");
    }

    static String num(double v) {
        return Study.num(v);
    }

    static String nums(List<Double> v) {
        return "{" + String.join(", ", v.stream().map(StudyReport::num).toList()) + "}";
    }

    static String fmtInt(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    static String fmtTokens(double[] d) {
        List<String> o = new ArrayList<>();
        for (double x : d) {
            o.add(fmtInt((long) x));
        }
        return String.join(", ", o);
    }

    static String ratio(double v) {
        return Double.isInfinite(v)
                ? "unbounded"
                : Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String est(Horizon.Estimate e) {
        String ex =
                e.position() > 0
                        ? String.format(
                                Locale.ROOT, " *extrapolated*; trained ladder: > %.2f", e.bound())
                        : e.position() < 0
                                ? String.format(
                                        Locale.ROOT,
                                        " *extrapolated*; trained ladder: < %.2f",
                                        e.bound())
                                : "";
        return String.format(
                Locale.ROOT,
                "**%s** [%s, %s]%s",
                ratio(e.value()),
                ratio(e.ci().low()),
                ratio(e.ci().high()),
                ex);
    }

    static String paired(Horizon.Paired p) {
        List<String> o = new ArrayList<>();
        for (int k = 0; k < p.ratios().length; k++) {
            o.add(
                    (p.position()[k] > 0 ? ">" : p.position()[k] < 0 ? "<" : "")
                            + String.format(Locale.ROOT, "%.2f", p.ratios()[k]));
        }
        String tail =
                p.beyond() + p.below() == 0
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                " (%d beyond, %d below the ladder)",
                                p.beyond(),
                                p.below());
        return String.join(", ", o) + tail;
    }

    static String loss(double[] v, int seeds) {
        if (v.length == 0) {
            return "...";
        }
        Stats.Interval ci = Stats.tInterval(v);
        String base = String.format(Locale.ROOT, "%.4f", Stats.mean(v));
        if (v.length < 2) {
            return base + " (1 seed)";
        }
        return base
                + String.format(Locale.ROOT, " [%.4f, %.4f]", ci.low(), ci.high())
                + (v.length < seeds ? " (" + v.length + " of " + seeds + " seeds)" : "");
    }

    /** lr, wd (and nm); a grid value at the edge of its grid is starred. */
    static String rates(Optimum o, boolean nm) {
        if (o == null) {
            return "...";
        }
        return num(o.lr())
                + (o.lrEdge() ? "*" : "")
                + ", "
                + num(o.wd())
                + (o.wdEdge() ? "*" : "")
                + (nm ? ", " + num(o.nonMatrix()) + (o.nmEdge() ? "*" : "") : "");
    }

    /** A JSON number rounded to 6 significant digits, or null for infinity/NaN. */
    static JsonElement jnum(double v) {
        if (!Double.isFinite(v)) {
            return JsonNull.INSTANCE;
        }
        return new JsonPrimitive(
                new java.math.BigDecimal(v).round(new java.math.MathContext(6)).doubleValue());
    }

    static JsonArray pair(Stats.Interval ci) {
        JsonArray a = new JsonArray();
        a.add(jnum(ci.low()));
        a.add(jnum(ci.high()));
        return a;
    }

    Plan plan() {
        return plan;
    }

    Plan.Lookup lookup() {
        return l;
    }
}
