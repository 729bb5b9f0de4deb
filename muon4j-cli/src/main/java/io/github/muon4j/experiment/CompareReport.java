package io.github.muon4j.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.github.muon4j.report.LinePlot;
import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The numbers, table and plots of one {@link Compare.Result}: used by {@code compare} and by the
 * study.
 */
public final class CompareReport {

    private CompareReport() {}

    /**
     * A number for JSON: null where it is not finite (an unbounded interval end, a target never
     * reached).
     */
    public static JsonPrimitive num(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : null;
    }

    static void put(JsonObject o, String k, double v) {
        JsonPrimitive p = num(v);
        o.add(k, p == null ? JsonNull.INSTANCE : p);
    }

    static JsonArray pair(Stats.Interval i) {
        JsonArray a = new JsonArray();
        a.add(num(i.low()) == null ? JsonNull.INSTANCE : num(i.low()));
        a.add(num(i.high()) == null ? JsonNull.INSTANCE : num(i.high()));
        return a;
    }

    static JsonArray arr(List<? extends Number> v) {
        JsonArray a = new JsonArray();
        v.forEach(a::add);
        return a;
    }

    /** The summary object ({@code compare --json}). Non-finite values are null, never NaN. */
    public static JsonObject summary(Compare.Result r) {
        ToTarget.Result t = r.toTarget();
        JsonObject o = new JsonObject();
        put(o, "target_loss", t.target());
        o.addProperty("target_definition", t.targetDefinition());
        String[][] ratios = {
            {"steps", "steps"},
            {"tokens", "tokens"},
            {"model_flops", "modelFlops"},
            {"total_flops", "totalFlops"},
            {"wall", "wall"}
        };
        ToTarget.Ratio[] rs = {t.steps(), t.tokens(), t.modelFlops(), t.totalFlops(), t.wall()};
        for (int i = 0; i < rs.length; i++) {
            put(o, ratios[i][0] + "_ratio", rs[i].value());
            o.add(ratios[i][0] + "_ratio_ci95", pair(rs[i].ci95()));
        }
        o.addProperty("muon_reached_on_mean_curve", t.muon().reached());
        for (String arm : new String[] {"muon", "adamw"}) {
            boolean m = arm.equals("muon");
            LrSearch.Result s = m ? r.muonSearch() : r.adamwSearch();
            ToTarget.Reach x = m ? t.muon() : t.adamw();
            List<RunSummary> runs = m ? r.muon() : r.adamw();
            o.addProperty(arm + "_best_lr", s.best());
            o.add(arm + "_lrs", arr(s.lrs()));
            JsonArray losses = new JsonArray();
            s.trials()
                    .forEach(
                            tr ->
                                    losses.add(
                                            num(tr.loss()) == null
                                                    ? JsonNull.INSTANCE
                                                    : num(tr.loss())));
            o.add(arm + "_lr_losses", losses);
            o.addProperty(arm + "_lr_bracketed", s.bracketed());
            o.addProperty(arm + "_lr_capped", s.capped());
            put(o, arm + "_steps_to_target", x.steps());
            put(o, arm + "_tokens_to_target", x.tokens());
            put(o, arm + "_model_flops_to_target", x.modelFlops());
            put(o, arm + "_ns_flops_to_target", x.nsFlops());
            put(o, arm + "_total_flops_to_target", x.totalFlops());
            put(o, arm + "_seconds_to_target", x.seconds());
            o.addProperty(arm + "_runs", runs.size());
            o.addProperty(arm + "_reached", m ? t.muonReached() : t.adamwReached());
            o.addProperty(arm + "_diverged", m ? t.muonDiverged() : t.adamwDiverged());
            double[] fin =
                    runs.stream()
                            .filter(q -> !q.diverged())
                            .mapToDouble(RunSummary::finalValLoss)
                            .toArray();
            put(o, arm + "_final_val_loss", Stats.mean(fin));
            o.add(arm + "_final_val_loss_ci95", pair(Stats.tInterval(fin)));
        }
        o.add("seeds", arr(r.seeds()));
        o.addProperty("lr_grid_factor", r.protocol().factor());
        o.addProperty("lr_grid_cap", r.protocol().cap());
        o.addProperty("lr_delta", r.protocol().delta());
        o.addProperty("non_matrix_lr", r.base().adamwLr());
        o.addProperty("weight_decay", r.base().weightDecay());
        o.addProperty("muon_ns_flops_per_step", r.muon().get(0).cost().nsFlopsPerStep());
        o.addProperty("model_flops_per_token", r.muon().get(0).cost().modelFlopsPerToken());
        o.addProperty("non_embedding_params", r.muon().get(0).cost().nonEmbeddingParams());
        return o;
    }

    public static String interval(Stats.Interval i, String f) {
        if (i.low() == Double.NEGATIVE_INFINITY && i.high() == Double.POSITIVE_INFINITY) {
            return "[no interval: one seed]";
        }
        String lo = Double.isFinite(i.low()) ? String.format(Locale.ROOT, f, i.low()) : "-inf";
        String hi =
                Double.isFinite(i.high())
                        ? String.format(Locale.ROOT, f, i.high())
                        : "unbounded (some resamples never reach)";
        return "[" + lo + ", " + hi + "]";
    }

    static String ratio(ToTarget.Ratio r) {
        String v =
                Double.isFinite(r.value())
                        ? String.format(Locale.ROOT, "%.2f", r.value())
                        : "not reached";
        return "**" + v + "** " + interval(r.ci95(), "%.2f");
    }

    /** The protocol paragraph, shared by every report. */
    public static String protocol(Compare.Protocol p, TrainConfig base) {
        return String.format(
                Locale.ROOT,
                "Tuning protocol (the same for both arms): the hidden-matrix learning rate is searched on the first seed on a log grid "
                        + "(factor %s between neighbours) that extends itself beyond an edge until the best rate is interior, i.e. on each side "
                        + "some tried rate ends at least %s nats worse in final validation loss (a diverged run counts as infinitely worse); at most %d "
                        + "rates per arm (the cap). The non-matrix parameters (embedding/head, norms, routers) use AdamW at the same rate %s in both arms, "
                        + "not searched; weight decay %s, decoupled and multiplied by each parameter's own rate, on every parameter in both arms. "
                        + "Muon uses Keller Jordan's original scaling (update = msign(G) x sqrt(max(1, rows/cols)), RMS about 1/sqrt(cols)), "
                        + "Nesterov momentum 0.95, 5 Newton-Schulz steps; AdamW betas (0.9, 0.95), eps 1e-8.%n%n",
                trim(p.factor()),
                trim(p.delta()),
                p.cap(),
                trim(base.adamwLr()),
                trim(base.weightDecay()));
    }

    static String trim(double v) {
        return Compare.fmt(v);
    }

    /**
     * The markdown section: result table, per-seed hits, sweep; plots named {@code prefix + ...}.
     */
    public static String markdown(Compare.Result r, String prefix) {
        ToTarget.Result t = r.toTarget();
        TrainConfig c = r.base();
        RunSummary m0 = r.muon().get(0);
        StringBuilder b = new StringBuilder();
        b.append(
                String.format(
                        Locale.ROOT,
                        "Model `%s` %s/%s%s, %,d non-embedding parameters, %s tokens, %d steps of %d x %d tokens (%s schedule, "
                                + "warm-up %d), seeds %s. Target validation loss **%.4f**: %s.%n%n",
                        c.preset(),
                        c.attention(),
                        c.ffn(),
                        c.model() == null ? "" : " " + c.model(),
                        m0.cost().nonEmbeddingParams(),
                        c.tokenizerOrDefault(),
                        c.steps(),
                        c.batchSize(),
                        c.seqLen(),
                        c.schedule(),
                        c.warmup(),
                        r.seeds(),
                        t.target(),
                        t.targetDefinition()));
        b.append("| to target | Muon | AdamW | Muon / AdamW [95% interval] |\n|---|---|---|---|\n");
        b.append(
                String.format(
                        Locale.ROOT,
                        "| best matrix learning rate | %s | %s | |%n",
                        trim(r.muonSearch().best()),
                        trim(r.adamwSearch().best())));
        b.append(
                String.format(
                        Locale.ROOT,
                        "| steps | %.1f%s | %.1f | %s |%n",
                        t.muon().steps(),
                        t.muon().reached() ? "" : " (not reached)",
                        t.adamw().steps(),
                        ratio(t.steps())));
        b.append(
                String.format(
                        Locale.ROOT,
                        "| tokens | %,.0f | %,.0f | %s |%n",
                        t.muon().tokens(),
                        t.adamw().tokens(),
                        ratio(t.tokens())));
        b.append(
                String.format(
                        Locale.ROOT,
                        "| model FLOPs | %.3g | %.3g | %s |%n",
                        t.muon().modelFlops(),
                        t.adamw().modelFlops(),
                        ratio(t.modelFlops())));
        b.append(
                String.format(
                        Locale.ROOT, "| Newton-Schulz FLOPs | %.3g | 0 | |%n", t.muon().nsFlops()));
        b.append(
                String.format(
                        Locale.ROOT,
                        "| **total FLOPs (compute)** | %.3g | %.3g | %s |%n",
                        t.muon().totalFlops(),
                        t.adamw().totalFlops(),
                        ratio(t.totalFlops())));
        b.append(
                String.format(
                        Locale.ROOT,
                        "| wall time, training steps only (s) | %.1f | %.1f | %s |%n",
                        t.muon().seconds(),
                        t.adamw().seconds(),
                        ratio(t.wall())));
        for (String arm : new String[] {"muon", "adamw"}) {
            List<RunSummary> runs = arm.equals("muon") ? r.muon() : r.adamw();
            double[] fin =
                    runs.stream()
                            .filter(q -> !q.diverged())
                            .mapToDouble(RunSummary::finalValLoss)
                            .toArray();
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| final val loss, %s (mean, 95%% t interval) | %.4f %s | | |%n",
                            arm.equals("muon") ? "Muon" : "AdamW",
                            Stats.mean(fin),
                            interval(Stats.tInterval(fin), "%.4f")));
        }
        b.append(
                String.format(
                        Locale.ROOT,
                        "| runs reaching the target on their own | %d of %d | %d of %d | |%n",
                        t.muonReached(),
                        r.muon().size(),
                        t.adamwReached(),
                        r.adamw().size()));
        if (t.muonDiverged() + t.adamwDiverged() > 0) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| diverged at the chosen rate (left out of the means) | %d | %d | |%n",
                            t.muonDiverged(),
                            t.adamwDiverged()));
        }
        b.append(
                String.format(
                        Locale.ROOT,
                        "%nNewton-Schulz: %.3g FLOPs per Muon step, against %.3g model FLOPs per step (%.1f%%).%n%n",
                        m0.cost().nsFlopsPerStep(),
                        m0.cost().modelFlopsPerToken() * c.batchSize() * c.seqLen() * c.gradAccum(),
                        100
                                * m0.cost().nsFlopsPerStep()
                                / (m0.cost().modelFlopsPerToken()
                                        * c.batchSize()
                                        * c.seqLen()
                                        * c.gradAccum())));
        b.append("| seed | Muon steps to target | AdamW steps to target |\n|---|---|---|\n");
        for (int i = 0; i < r.seeds().size(); i++) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %d | %s | %s |%n",
                            r.seeds().get(i),
                            hit(t.muonRuns(), i),
                            hit(t.adamwRuns(), i)));
        }
        b.append("\n| learning-rate search (seed ")
                .append(r.seeds().get(0))
                .append(") | rates tried: final validation loss | optimum |\n|---|---|---|\n");
        for (String arm : new String[] {"Muon", "AdamW"}) {
            LrSearch.Result s = arm.equals("Muon") ? r.muonSearch() : r.adamwSearch();
            StringBuilder tr = new StringBuilder();
            for (LrSearch.Trial x : s.trials()) {
                tr.append(tr.length() == 0 ? "" : ", ")
                        .append(trim(x.lr()))
                        .append(": ")
                        .append(
                                Double.isFinite(x.loss())
                                        ? String.format(Locale.ROOT, "%.4f", x.loss())
                                        : "diverged");
            }
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %s (%s) |%n",
                            arm,
                            tr,
                            trim(s.best()),
                            s.bracketed()
                                    ? "interior"
                                    : "NOT interior: cap of " + s.cap() + " reached"));
        }
        b.append(
                String.format(
                        "%n![loss vs steps](%1$sloss_vs_steps.png)%n%n![loss vs total FLOPs](%1$sloss_vs_flops.png)%n%n"
                                + "![loss vs wall time](%1$sloss_vs_time.png)%n%n![learning-rate search](%1$slr_search.png)%n%n",
                        prefix));
        return b.toString();
    }

    static String hit(List<Curve.Hit> hits, int i) {
        if (i >= hits.size()) {
            return "";
        }
        Curve.Hit h = hits.get(i);
        return h.reached() ? String.format(Locale.ROOT, "%.1f", h.steps()) : "not reached";
    }

    /**
     * Loss vs steps, total FLOPs and wall time (every seed, target dashed) and the learning-rate
     * search.
     */
    public static void plots(Compare.Result r, Path dir, String prefix, String title)
            throws IOException {
        String[][] axes = {
            {"steps", "loss_vs_steps.png"},
            {"total FLOPs (model + Newton-Schulz)", "loss_vs_flops.png"},
            {"training time (s)", "loss_vs_time.png"}
        };
        List<Function<Curve, double[]>> xs = List.of(Curve::steps, Curve::flops, Curve::seconds);
        for (int i = 0; i < axes.length; i++) {
            LinePlot p =
                    new LinePlot(
                            title + ": validation loss at the best rates",
                            axes[i][0],
                            "validation loss");
            for (List<RunSummary> arm : List.of(r.muon(), r.adamw())) {
                for (RunSummary x : arm) {
                    // from the first evaluation after step 0, so that the initial loss does not
                    // flatten the curves
                    double[] xv = xs.get(i).apply(x.curve()), yv = x.valLoss();
                    p.line(
                            (x.optimizer().equals("muon") ? "Muon" : "AdamW")
                                    + " lr "
                                    + trim(x.lr())
                                    + " seed "
                                    + x.seed(),
                            Arrays.copyOfRange(xv, Math.min(1, xv.length), xv.length),
                            Arrays.copyOfRange(yv, Math.min(1, yv.length), yv.length));
                }
            }
            double[] xr = xs.get(i).apply(r.adamw().get(0).curve());
            if (xr.length > 1) {
                p.dashed(
                        String.format(Locale.ROOT, "target %.3f", r.toTarget().target()),
                        new double[] {xr[1], xr[xr.length - 1]},
                        new double[] {r.toTarget().target(), r.toTarget().target()});
            }
            p.write(dir.resolve(prefix + axes[i][1]));
        }
        LinePlot s =
                new LinePlot(
                                title + ": learning-rate search (first seed)",
                                "matrix learning rate",
                                "final validation loss")
                        .logX(true);
        for (String arm : new String[] {"Muon", "AdamW"}) {
            LrSearch.Result q = arm.equals("Muon") ? r.muonSearch() : r.adamwSearch();
            s.line(
                    arm,
                    q.trials().stream().mapToDouble(LrSearch.Trial::lr).toArray(),
                    q.trials().stream().mapToDouble(LrSearch.Trial::loss).toArray());
        }
        s.write(dir.resolve(prefix + "lr_search.png"));
    }
}
