package io.github.muon4j.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Study.Arm;
import io.github.muon4j.experiment.Study.RunSpec;
import io.github.muon4j.experiment.Study.Settings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The batch-size frontier: at one data budget, each batch size trains a whole schedule with its own
 * rate (the ladder's rule x a small grid on the tuning seed), and the steps and tokens each needs
 * to reach a target loss are read off its evaluations. The targets are set above every cell's final
 * loss (the worst cell's final loss plus fixed margins), so no target is a cell's endpoint and
 * every cell that learns reaches every target; a cell that does not is shown as censored.
 */
final class Frontier {

    /** Margins above the worst cell's seed-mean final loss. */
    static final double[] MARGINS = {0.4, 0.2, 0.1, 0.05};

    /** One batch size x arm: its chosen lr factor and its scoring runs. */
    record Cell(int batch, Arm arm, double factor, List<RunSummary> runs, int seeds) {
        boolean complete() {
            return runs.size() == seeds;
        }
    }

    /** A cell's cost to a target: seed mean and min-max over seeds, or censored. */
    record Hit(
            double steps,
            double stepsLo,
            double stepsHi,
            double tokens,
            double tokensLo,
            double tokensHi,
            int reached,
            int runs) {
        boolean censored() {
            return reached < runs;
        }
    }

    private final Plan plan;
    private final Plan.Lookup l;
    private final Settings s;

    Frontier(Plan plan, Plan.Lookup l) {
        this.plan = plan;
        this.l = l;
        this.s = plan.settings();
    }

    List<Cell> cells() {
        List<Cell> out = new ArrayList<>();
        for (int b : s.frontierBatches()) {
            for (Arm a : Plan.FRONTIER_ARMS) {
                double f = plan.frontierFactor(l, a, b);
                List<RunSummary> runs = new ArrayList<>();
                if (!Double.isNaN(f)) {
                    for (long seed : s.frontierSeeds()) {
                        RunSummary r = l.get(plan.frontierSpec(l, a, b, f, seed));
                        if (r != null) {
                            runs.add(r);
                        }
                    }
                }
                out.add(new Cell(b, a, f, runs, s.frontierSeeds().size()));
            }
        }
        return out;
    }

    static double[] targets(List<Cell> cells) {
        double worst = Double.NEGATIVE_INFINITY;
        for (Cell c : cells) {
            double m =
                    Stats.mean(c.runs().stream().mapToDouble(RunSummary::finalValLoss).toArray());
            if (Double.isFinite(m) && !c.runs().stream().allMatch(Plan::diverged)) {
                worst = Math.max(worst, m);
            }
        }
        double[] t = new double[MARGINS.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = worst + MARGINS[i];
        }
        return t;
    }

    static Hit hit(Cell c, double target) {
        List<double[]> h = new ArrayList<>();
        for (RunSummary r : c.runs()) {
            Curve.Hit x = r.curve().reach(target);
            if (x.reached()) {
                h.add(new double[] {x.steps(), x.tokens()});
            }
        }
        double[] st = h.stream().mapToDouble(x -> x[0]).toArray(),
                tk = h.stream().mapToDouble(x -> x[1]).toArray();
        return new Hit(
                Stats.mean(st),
                Horizon.min(st),
                Horizon.max(st),
                Stats.mean(tk),
                Horizon.min(tk),
                Horizon.max(tk),
                h.size(),
                c.runs().size());
    }

    JsonObject write(StringBuilder md, StudyFigures fig) throws IOException {
        JsonObject out = new JsonObject();
        List<Cell> cells = cells();
        long tokens = s.tokens(s.budgets().get(s.frontierBudget()));
        md.append(
                String.format(
                        Locale.ROOT,
                        "Every run sees %s tokens, at batch sizes %s (x %d tokens), with warm-up and cosine decay ending there; "
                                + "each arm's rate is the ladder's rule for this budget times the best of %s on seed %d, then seeds %s score (two seeds: "
                                + "the spread shown is their min-max range, not a confidence interval). Steps and tokens to a target are read where the "
                                + "run's validation curve (%d evaluations) first crosses it, linearly between evaluations; these are mid-schedule reads, "
                                + "so the frontier compares schedules of the same length, not compute-optimal runs. Targets: the worst cell's final loss "
                                + "+ %s nats, so that no target is a cell's endpoint. No wall-time claim is made: the machine is shared.%n%n",
                        StudyReport.fmtInt(tokens),
                        s.frontierBatches(),
                        s.seqLen(),
                        s.frontierLrFactors(),
                        s.tuningSeed(),
                        s.frontierSeeds(),
                        s.frontierEvals(),
                        java.util.Arrays.toString(MARGINS)));
        boolean all = cells.stream().allMatch(Cell::complete);
        if (!all) {
            long done = cells.stream().filter(Cell::complete).count();
            md.append(
                    String.format(
                            Locale.ROOT,
                            "Waits for runs: %d of %d cells finished.%n%n",
                            done,
                            cells.size()));
            out.addProperty("complete", false);
            return out;
        }
        double[] targets = targets(cells);
        md.append("| batch | arm | lr (x rule) | final loss (seeds) |");
        for (double t : targets) {
            md.append(String.format(Locale.ROOT, " steps to %.3f | tokens to %.3f |", t, t));
        }
        md.append('\n')
                .append("|---|---|---|---|")
                .append("---|---|".repeat(targets.length))
                .append('\n');
        JsonArray rows = new JsonArray();
        for (Cell c : cells) {
            RunSpec sp =
                    plan.frontierSpec(l, c.arm(), c.batch(), c.factor(), s.frontierSeeds().get(0));
            StringBuilder fl = new StringBuilder();
            for (RunSummary r : c.runs()) {
                fl.append(fl.length() == 0 ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%.4f", r.finalValLoss()));
            }
            md.append(
                    String.format(
                            Locale.ROOT,
                            "| %d | %s | %s (x%s) | %s |",
                            c.batch(),
                            c.arm().title,
                            Study.num(sp.lr()),
                            Study.num(c.factor()),
                            fl));
            JsonObject row = new JsonObject();
            row.addProperty("batch", c.batch());
            row.addProperty("arm", c.arm().id);
            row.add("lr", StudyReport.jnum(sp.lr()));
            JsonArray hits = new JsonArray();
            for (double t : targets) {
                Hit h = hit(c, t);
                if (h.reached() == 0) {
                    md.append(" not reached | not reached |");
                } else {
                    md.append(
                            String.format(
                                    Locale.ROOT,
                                    " %.0f [%.0f, %.0f]%s | %s [%s, %s] |",
                                    h.steps(),
                                    h.stepsLo(),
                                    h.stepsHi(),
                                    h.censored()
                                            ? " (" + h.reached() + " of " + h.runs() + " seeds)"
                                            : "",
                                    StudyReport.fmtInt(Math.round(h.tokens())),
                                    StudyReport.fmtInt(Math.round(h.tokensLo())),
                                    StudyReport.fmtInt(Math.round(h.tokensHi()))));
                }
                JsonObject ho = new JsonObject();
                ho.add("target", StudyReport.jnum(t));
                ho.add("steps", StudyReport.jnum(h.steps()));
                ho.add("tokens", StudyReport.jnum(h.tokens()));
                ho.addProperty("reached", h.reached());
                hits.add(ho);
            }
            row.add("to_target", hits);
            rows.add(row);
            md.append('\n');
        }
        md.append('\n');
        md.append(
                "Edges: a batch size whose chosen factor is the grid's smallest or largest is at an edge of its lr grid: ");
        List<String> edges = new ArrayList<>();
        for (Cell c : cells) {
            if (c.factor() == s.frontierLrFactors().get(0)
                    || c.factor() == s.frontierLrFactors().get(s.frontierLrFactors().size() - 1)) {
                edges.add(
                        c.arm().title
                                + " at batch "
                                + c.batch()
                                + " (x"
                                + Study.num(c.factor())
                                + ")");
            }
        }
        md.append(edges.isEmpty() ? "none" : String.join(", ", edges)).append(".\n\n");
        out.add("cells", rows);
        out.add("targets", arr(targets));
        fig.frontier(cells, targets, md);
        return out;
    }

    private static JsonArray arr(double[] v) {
        JsonArray a = new JsonArray();
        for (double x : v) {
            a.add(StudyReport.jnum(x));
        }
        return a;
    }
}
