package io.github.muon4j.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.report.BarChart;
import io.github.muon4j.report.LinePlot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** REPORT.md, plots and summary.json of a {@link Study.Result}, computed from the run summaries only. */
public final class StudyReport {

    private StudyReport() {}

    /** Where a cell's seed-mean curve reaches a target, with a bootstrap interval over seeds. */
    public record FrontierPoint(int batch, String optimizer, double lr, double steps, Stats.Interval stepsCi, double tokens, Stats.Interval tokensCi,
            boolean reached, int runs) {}

    /** The frontier's target: the highest seed-mean final loss among its cells, so every cell's mean curve reaches it. */
    public static double frontierTarget(List<Study.FrontierCell> cells) {
        double t = Double.NEGATIVE_INFINITY;
        for (Study.FrontierCell c : cells) {
            double[] fin = c.runs().stream().filter(r -> !r.diverged()).mapToDouble(RunSummary::finalValLoss).toArray();
            if (fin.length > 0) {
                t = Math.max(t, Stats.mean(fin));
            }
        }
        return t;
    }

    public static List<FrontierPoint> frontier(List<Study.FrontierCell> cells, double target) {
        List<FrontierPoint> out = new ArrayList<>();
        for (Study.FrontierCell c : cells) {
            List<RunSummary> ok = c.runs().stream().filter(r -> !r.diverged()).toList();
            if (ok.isEmpty()) {
                continue;
            }
            int n = ok.stream().mapToInt(r -> r.valLoss().length).min().orElse(0);
            double[][] v = ok.stream().map(r -> Arrays.copyOf(r.valLoss(), n)).toArray(double[][]::new);
            RunSummary like = ok.get(0);
            double[] one = {0};
            double[] res = new double[2];
            Stats.Interval[] ci = new Stats.Interval[2];
            for (int k = 0; k < 2; k++) {
                final int kk = k;
                ci[k] = Stats.bootstrap(v, new double[][] {one}, (a, b) -> {
                    ToTarget.Reach r = ToTarget.reach(like, meanOf(a, n), new double[n], target);
                    return r.reached() ? (kk == 0 ? r.steps() : r.tokens()) : Double.POSITIVE_INFINITY;
                }, 7L);
                ToTarget.Reach r = ToTarget.reach(like, meanOf(v, n), new double[n], target);
                res[k] = r.reached() ? (k == 0 ? r.steps() : r.tokens()) : Double.POSITIVE_INFINITY;
            }
            if (ok.size() < 2) {
                ci[0] = ci[1] = new Stats.Interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
            }
            out.add(new FrontierPoint(c.batch(), c.optimizer(), c.search().best(), res[0], ci[0], res[1], ci[1], Double.isFinite(res[0]), ok.size()));
        }
        return out;
    }

    static double[] meanOf(double[][] v, int n) {
        double[] m = new double[n];
        for (double[] r : v) {
            for (int i = 0; i < n; i++) {
                m[i] += r[i] / v.length;
            }
        }
        return m;
    }

    /** All run summaries the result uses (each once). */
    static List<RunSummary> allRuns(Study.Result r) {
        Set<String> seen = new LinkedHashSet<>();
        List<RunSummary> out = new ArrayList<>();
        List<RunSummary> all = new ArrayList<>();
        r.sizes().values().forEach(c -> {
            all.addAll(c.sweep());
            all.addAll(c.muon());
            all.addAll(c.adamw());
        });
        r.frontier().forEach(f -> all.addAll(f.runs()));
        all.addAll(r.stability());
        r.arch().forEach(a -> all.addAll(a.runs()));
        for (RunSummary s : all) {
            if (seen.add(s.key())) {
                out.add(s);
            }
        }
        return out;
    }

    static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    public static JsonObject write(Study.Result r, Path dir, String command) throws IOException {
        StringBuilder b = new StringBuilder();
        JsonObject json = new JsonObject();
        Study.Settings s = r.settings();
        // the header counts every stored summary, including those of parts that are not finished
        List<RunSummary> runs = new ArrayList<>(allRuns(r));
        Set<String> have = new java.util.HashSet<>(runs.stream().map(RunSummary::key).toList());
        Path stored = dir.resolve("runs");
        if (java.nio.file.Files.isDirectory(stored)) {
            try (var files = java.nio.file.Files.list(stored)) {
                for (Path q : files.filter(x -> x.toString().endsWith(".json")).sorted().toList()) {
                    RunSummary x = RunSummary.fromJson(java.nio.file.Files.readString(q));
                    if (have.add(x.key())) {
                        runs.add(x);
                    }
                }
            }
        }
        double wall = runs.stream().mapToDouble(RunSummary::wallSeconds).sum();
        double[] loads = runs.stream().flatMapToDouble(x -> Arrays.stream(x.loadAvg())).filter(Double::isFinite).toArray();
        String first = runs.stream().map(RunSummary::finished).min(String::compareTo).orElse("-");
        String last = runs.stream().map(RunSummary::finished).max(String::compareTo).orElse("-");
        b.append("# Muon vs AdamW: the study (").append(s.name()).append(")\n\n");
        b.append(f("Command: `%s`. Every number below is computed from the run summaries in this directory (one JSON per run; "
                + "`./muon4j study%s --report-only` regenerates this report from them without training).%n%n", command,
                s.name().equals("quick") ? " --quick" : ""));
        b.append(f("Machine: %d-core CPU, shared with other jobs: the 1-minute load average over the runs' starts and ends was %.2f on average "
                + "(%.2f to %.2f), so wall times carry that noise; FLOPs and steps do not. Runs finished between %s and %s; "
                + "%d runs, %.0f s (%.2f h) of run wall time in all.%n%n", Runtime.getRuntime().availableProcessors(), Stats.mean(loads),
                Arrays.stream(loads).min().orElse(Double.NaN), Arrays.stream(loads).max().orElse(Double.NaN), first, last, runs.size(), wall, wall / 3600));
        json.addProperty("runs", runs.size());
        json.addProperty("run_wall_seconds", wall);
        json.addProperty("load_average_mean", Stats.mean(loads));
        if (!r.incomplete().isEmpty()) {
            b.append("**Not finished yet** (resume with the same command; finished runs are reused):\n\n");
            r.incomplete().forEach(x -> b.append("- ").append(x).append('\n'));
            b.append('\n');
        }
        JsonArray inc = new JsonArray();
        r.incomplete().forEach(inc::add);
        json.add("incomplete", inc);
        b.append(f("Data: the built-in corpus (English Europarl), byte tokens, 2%% held out; every evaluation scores the same %d windows of %d tokens "
                + "(each held-out token at most once).%n%n", s.evalWindows(), s.seqLen()));
        b.append(CompareReport.protocol(new Compare.Protocol(List.of(), List.of(), s.factor(), s.cap(), s.delta()), r.base()));

        // ------------------------------------------------------------ sizes
        b.append("## 1. Muon vs AdamW at three model sizes\n\n");
        b.append(f("%d steps of %d x %d tokens, seeds %s; starting grids Muon {0.01, 0.02, 0.04}, AdamW {0.001, 0.002, 0.004}.%n%n", s.steps(),
                s.batchSize(), s.seqLen(), s.seeds()));
        b.append("| size | non-embedding params | Muon lr | AdamW lr | steps ratio [95%] | total FLOPs ratio [95%] | wall ratio [95%] "
                + "| runs reaching target (Muon, AdamW) | final loss Muon | final loss AdamW |\n|---|---|---|---|---|---|---|---|---|---|\n");
        JsonObject sizesJson = new JsonObject();
        List<double[]> trend = new ArrayList<>();
        for (Study.Size z : Study.SIZES) {
            Compare.Result c = r.sizes().get(z.name());
            long ne = r.nonEmbedding().getOrDefault(z.name(), 0L);
            if (c == null) {
                b.append(f("| %s | %,d | not finished | | | | | | | |%n", z.name(), ne));
                continue;
            }
            JsonObject sj = CompareReport.summary(c);
            sizesJson.add(z.name(), sj);
            ToTarget.Result t = c.toTarget();
            b.append(f("| %s | %,d | %s%s | %s%s | %s | %s | %s | %d/%d, %d/%d | %.4f | %.4f |%n", z.name(), ne, Compare.fmt(c.muonSearch().best()),
                    c.muonSearch().bracketed() ? "" : " (edge)", Compare.fmt(c.adamwSearch().best()), c.adamwSearch().bracketed() ? "" : " (edge)",
                    CompareReport.ratio(t.steps()), CompareReport.ratio(t.totalFlops()), CompareReport.ratio(t.wall()), t.muonReached(), c.muon().size(),
                    t.adamwReached(), c.adamw().size(), sj.get("muon_final_val_loss").getAsDouble(), sj.get("adamw_final_val_loss").getAsDouble()));
            trend.add(new double[] {ne, t.steps().value(), t.steps().ci95().low(), t.steps().ci95().high(), t.totalFlops().value(),
                t.totalFlops().ci95().low(), t.totalFlops().ci95().high()});
        }
        json.add("sizes", sizesJson);
        b.append("\n(edge): the optimum was not interior within the cap. Ratios are Muon / AdamW to the target; below 1 means Muon needs less.\n\n");
        if (!trend.isEmpty()) {
            LinePlot tp = new LinePlot("Muon / AdamW to target vs model size (95% bootstrap bands)", "non-embedding parameters",
                    "Muon / AdamW").logX(true);
            double[] x = trend.stream().mapToDouble(q -> q[0]).toArray();
            tp.line("steps ratio", x, col(trend, 1)).band(x, col(trend, 2), cap(col(trend, 3)));
            tp.line("total FLOPs ratio", x, col(trend, 4)).band(x, col(trend, 5), cap(col(trend, 6)));
            tp.dashed("parity", new double[] {x[0], x[x.length - 1]}, new double[] {1, 1});
            tp.write(dir.resolve("sizes_ratio.png"));
            b.append("![ratio vs size](sizes_ratio.png)\n\n");
        }
        for (Study.Size z : Study.SIZES) {
            Compare.Result c = r.sizes().get(z.name());
            if (c != null) {
                b.append("### Size ").append(z.name()).append("\n\n").append(CompareReport.markdown(c, "size" + z.name() + "-"));
                CompareReport.plots(c, dir, "size" + z.name() + "-", "size " + z.name());
            }
        }

        // ------------------------------------------------------------ frontier
        b.append("## 2. Batch-size frontier (size S)\n\n");
        List<FrontierPoint> fp = List.of();
        if (!r.frontier().isEmpty()) {
            double target = frontierTarget(r.frontier());
            fp = frontier(r.frontier(), target);
            b.append(f("Every run trains %,d tokens (steps = tokens / (batch x %d)), warm-up 10%% of its steps; each batch size x optimizer gets its "
                    + "own learning-rate search (the protocol above, starting at half, 1x and 2x the size-S optimum, cap %d) on seed %d, then seeds %s. "
                    + "Target: %.4f, the highest seed-mean final loss among the cells, so every cell's mean curve reaches it; steps and tokens are read "
                    + "off each cell's seed-mean curve, intervals by bootstrap over seeds.%n%n", s.frontierTokens(), s.seqLen(), s.frontierCap(),
                    s.frontierSeeds().get(0), s.frontierSeeds(), target));
            b.append("| batch | optimizer | lr (interior?) | steps to target [95%] | tokens to target [95%] | Muon/AdamW tokens |\n|---|---|---|---|---|---|\n");
            JsonArray fj = new JsonArray();
            for (FrontierPoint q : fp) {
                Study.FrontierCell cell = r.frontier().stream().filter(c -> c.batch() == q.batch() && c.optimizer().equals(q.optimizer())).findFirst()
                        .orElseThrow();
                String ratio = "";
                if (q.optimizer().equals("muon")) {
                    FrontierPoint a = fp.stream().filter(o -> o.batch() == q.batch() && o.optimizer().equals("adamw")).findFirst().orElse(null);
                    ratio = a == null ? "" : f("%.2f", q.tokens() / a.tokens());
                }
                b.append(f("| %d | %s | %s (%s) | %.1f %s | %,.0f %s | %s |%n", q.batch(), q.optimizer(), Compare.fmt(q.lr()),
                        cell.search().bracketed() ? "yes" : "edge", q.steps(), CompareReport.interval(q.stepsCi(), "%.1f"), q.tokens(),
                        CompareReport.interval(q.tokensCi(), "%.0f"), ratio));
                JsonObject o = new JsonObject();
                o.addProperty("batch", q.batch());
                o.addProperty("optimizer", q.optimizer());
                o.addProperty("lr", q.lr());
                o.add("steps_to_target", CompareReport.num(q.steps()));
                o.add("tokens_to_target", CompareReport.num(q.tokens()));
                fj.add(o);
            }
            json.add("frontier", fj);
            json.addProperty("frontier_target", target);
            LinePlot st = new LinePlot("Steps to target vs batch size (size S)", "batch size (sequences)", "steps to target").logX(true).logY(true);
            LinePlot tk = new LinePlot("Tokens to target vs batch size (size S)", "batch size (sequences)", "tokens to target").logX(true).logY(true);
            for (String opt : new String[] {"muon", "adamw"}) {
                List<FrontierPoint> ps = fp.stream().filter(q -> q.optimizer().equals(opt)).toList();
                double[] x = ps.stream().mapToDouble(FrontierPoint::batch).toArray();
                String n = opt.equals("muon") ? "Muon" : "AdamW";
                st.line(n, x, ps.stream().mapToDouble(FrontierPoint::steps).toArray())
                        .band(x, ps.stream().mapToDouble(q -> q.stepsCi().low()).toArray(), cap(ps.stream().mapToDouble(q -> q.stepsCi().high()).toArray()));
                tk.line(n, x, ps.stream().mapToDouble(FrontierPoint::tokens).toArray())
                        .band(x, ps.stream().mapToDouble(q -> q.tokensCi().low()).toArray(), cap(ps.stream().mapToDouble(q -> q.tokensCi().high()).toArray()));
            }
            st.write(dir.resolve("frontier_steps.png"));
            tk.write(dir.resolve("frontier_tokens.png"));
            b.append("\n![steps vs batch](frontier_steps.png)\n\n![tokens vs batch](frontier_tokens.png)\n\n");
        } else {
            b.append("Not run yet.\n\n");
        }

        // ------------------------------------------------------------ stability
        b.append("## 3. Stability (size S)\n\n");
        if (!r.stability().isEmpty()) {
            RunSummary any = r.stability().get(0);
            b.append(f("%d short runs of %d steps (batch %d x %d): learning rate = 2^e x the size-S optimum for e in %s, seeds %s, both optimizers. "
                    + "Diverged: the trainer stopped on non-finite losses, or the last validation loss is not finite or above the first. "
                    + "Spike: a training step whose loss exceeds 1.5x the lowest loss so far, after the first 10%% of steps.%n%n",
                    r.stability().size(), any.config().get("steps").getAsInt(), any.batchSize(), any.seqLen(), s.stabilityExponents(),
                    s.stabilitySeeds()));
            b.append("| optimizer | tuned lr (1x) | runs | diverged | runs with a spike | spikes | skipped (non-finite) steps |\n|---|---|---|---|---|---|---|\n");
            JsonObject sj = new JsonObject();
            LinePlot sens = new LinePlot("Learning-rate sensitivity (size S): seed mean, band = min..max over seeds", "learning rate / tuned rate",
                    "final validation loss").logX(true);
            StringBuilder rows = new StringBuilder("| optimizer | lr / tuned | lr | final loss mean [min, max] | diverged |\n|---|---|---|---|---|\n");
            for (String opt : new String[] {"muon", "adamw"}) {
                List<RunSummary> rs = r.stability().stream().filter(x -> x.optimizer().equals(opt)).toList();
                long div = rs.stream().filter(RunSummary::diverged).count();
                long spk = rs.stream().filter(x -> x.spikes() > 0).count();
                int spikes = rs.stream().mapToInt(RunSummary::spikes).sum();
                int skipped = rs.stream().mapToInt(RunSummary::skippedSteps).sum();
                double center = r.stabilityCenters().get(opt);
                b.append(f("| %s | %s | %d | %d | %d | %d | %d |%n", opt, Compare.fmt(center), rs.size(), div, spk, spikes, skipped));
                JsonObject o = new JsonObject();
                o.addProperty("runs", rs.size());
                o.addProperty("diverged", div);
                o.addProperty("runs_with_spike", spk);
                o.addProperty("spikes", spikes);
                sj.add(opt, o);
                List<Double> lrs = rs.stream().map(RunSummary::lr).distinct().sorted().toList();
                double[] x = new double[lrs.size()], m = new double[lrs.size()], lo = new double[lrs.size()], hi = new double[lrs.size()];
                for (int i = 0; i < x.length; i++) {
                    double lr = lrs.get(i);
                    double[] fin = rs.stream().filter(q -> q.lr() == lr).mapToDouble(q -> q.diverged() || !Double.isFinite(q.finalValLoss())
                            ? Double.NaN : q.finalValLoss()).toArray();
                    long d = Arrays.stream(fin).filter(Double::isNaN).count();
                    double[] ok = Arrays.stream(fin).filter(Double::isFinite).toArray();
                    x[i] = lr / center;
                    m[i] = ok.length == 0 ? Double.NaN : Stats.mean(ok);
                    lo[i] = Arrays.stream(ok).min().orElse(Double.NaN);
                    hi[i] = Arrays.stream(ok).max().orElse(Double.NaN);
                    rows.append(f("| %s | %s | %s | %.4f [%.4f, %.4f] | %d of %d |%n", opt, Compare.fmt(x[i]), Compare.fmt(lr), m[i], lo[i], hi[i], d, fin.length));
                }
                sens.line(opt.equals("muon") ? "Muon" : "AdamW", x, m).band(x, lo, hi);
            }
            json.add("stability", sj);
            sens.write(dir.resolve("stability_lr.png"));
            b.append('\n').append(rows).append("\n![lr sensitivity](stability_lr.png)\n\n");
        } else {
            b.append("Not run yet.\n\n");
        }

        // ------------------------------------------------------------ architectures
        b.append("## 4. Architecture grid (size M = tiny preset)\n\n");
        if (!r.arch().isEmpty() && r.arch().stream().anyMatch(a -> !a.runs().isEmpty())) {
            b.append(f("MHA/MLA x dense/MoE x Muon/AdamW, %d steps of %d x %d tokens, seeds %s, at the size-M protocol's rates (tuned on MHA dense, "
                    + "not re-tuned per architecture). Final validation loss: mean and 95%% t interval over seeds.%n%n", s.archSteps(), s.batchSize(),
                    s.seqLen(), s.archSeeds()));
            b.append("| architecture | optimizer | lr | runs | final val loss [95%] | perplexity | total params |\n|---|---|---|---|---|---|---|\n");
            BarChart bar = new BarChart("Final validation loss, seed mean (A = AdamW, M = Muon)", "validation loss");
            JsonArray aj = new JsonArray();
            for (Study.ArchCell a : r.arch()) {
                double[] fin = a.runs().stream().filter(x -> !x.diverged()).mapToDouble(RunSummary::finalValLoss).toArray();
                if (a.runs().isEmpty()) {
                    b.append(f("| %s | %s | %s | 0 | not run yet | | |%n", a.arch(), a.optimizer(), Compare.fmt(a.lr())));
                    continue;
                }
                b.append(f("| %s | %s | %s | %d | %.4f %s | %.2f | %,d |%n", a.arch(), a.optimizer(), Compare.fmt(a.lr()), a.runs().size(), Stats.mean(fin),
                        CompareReport.interval(Stats.tInterval(fin), "%.4f"), Math.exp(Stats.mean(fin)), a.runs().get(0).cost().totalParams()));
                bar.bar(a.arch() + (a.optimizer().equals("muon") ? " M" : " A"), Stats.mean(fin));
                JsonObject o = new JsonObject();
                o.addProperty("arch", a.arch());
                o.addProperty("optimizer", a.optimizer());
                o.add("final_val_loss", CompareReport.num(Stats.mean(fin)));
                aj.add(o);
            }
            json.add("arch", aj);
            bar.write(dir.resolve("arch.png"));
            b.append('\n');
            String[][] contrasts = {{"mla-moe", "muon", "mha-dense", "adamw", "MLA+MoE+Muon vs MHA dense AdamW (the paper's 8-12%)"},
                {"mha-dense", "muon", "mha-dense", "adamw", "Muon alone (MHA dense)"}, {"mla-moe", "adamw", "mha-dense", "adamw", "MLA+MoE alone (AdamW)"},
                {"mla-moe", "muon", "mha-dense", "muon", "MLA+MoE alone (Muon)"}};
            b.append("| contrast | perplexity improvement [95% bootstrap] |\n|---|---|\n");
            for (String[] c : contrasts) {
                double[][] x = fins(r.arch(), c[0], c[1]), y = fins(r.arch(), c[2], c[3]);
                if (x.length == 0 || y.length == 0) {
                    continue;
                }
                java.util.function.BiFunction<double[][], double[][], Double> imp = (p, q) -> 1 - Math.exp(meanRows(p)) / Math.exp(meanRows(q));
                Stats.Interval ci = x.length > 1 && y.length > 1 ? Stats.bootstrap(x, y, imp, 11L)
                        : new Stats.Interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
                b.append(f("| %s | %.1f%% %s |%n", c[4], 100 * imp.apply(x, y), pct(ci)));
            }
            b.append("\n![architectures](arch.png)\n\n");
        } else {
            b.append("Not run yet.\n\n");
        }
        java.nio.file.Files.writeString(dir.resolve("REPORT.md"), b.toString());
        java.nio.file.Files.writeString(dir.resolve("summary.json"), new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(json));
        return json;
    }

    static String pct(Stats.Interval ci) {
        if (!Double.isFinite(ci.low()) && !Double.isFinite(ci.high())) {
            return "[no interval: one seed]";
        }
        return f("[%.1f%%, %.1f%%]", 100 * ci.low(), 100 * ci.high());
    }

    static double[][] fins(List<Study.ArchCell> cells, String arch, String opt) {
        return cells.stream().filter(a -> a.arch().equals(arch) && a.optimizer().equals(opt)).flatMap(a -> a.runs().stream())
                .filter(x -> !x.diverged()).map(x -> new double[] {x.finalValLoss()}).toArray(double[][]::new);
    }

    static double meanRows(double[][] v) {
        double s = 0;
        for (double[] r : v) {
            s += r[0];
        }
        return s / v.length;
    }

    static double[] col(List<double[]> rows, int c) {
        return rows.stream().mapToDouble(r -> r[c]).toArray();
    }

    /** Unbounded interval ends are drawn at the line's own value (the table says "unbounded"). */
    static double[] cap(double[] v) {
        return Arrays.stream(v).map(d -> Double.isFinite(d) ? d : Double.NaN).toArray();
    }
}
