package io.github.muon4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Compare;
import io.github.muon4j.experiment.Curve;
import io.github.muon4j.report.LinePlot;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code muon4j compare}: Muon against AdamW, compute to a target loss. */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Muon vs AdamW: steps, tokens, FLOPs and time to a target loss.",
            "Muon (AdamW for non-matrix parameters) vs AdamW alone on the same model, data, batch and seeds.",
            "Each gets its best learning rate from a small sweep; the target is AdamW's final validation loss.",
            "Reports steps, tokens, FLOPs and wall time to the target, and writes REPORT.md, results.json and plots."
        })
public final class CompareCommand implements Callable<Integer> {

    @Mixin TrainOptions options = new TrainOptions();

    @Option(names = "--muon-lrs", split = ",", defaultValue = "0.01,0.02,0.04", description = "Muon learning rates to sweep (default: ${DEFAULT-VALUE})")
    List<Double> muonLrs;

    @Option(names = "--adamw-lrs", split = ",", defaultValue = "1e-3,3e-3,6e-3", description = "AdamW learning rates to sweep (default: ${DEFAULT-VALUE})")
    List<Double> adamwLrs;

    @Option(names = "--seeds", split = ",", defaultValue = "1337", description = "seeds; the sweep uses the first, the best rates run on all (default: ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(names = "--target", description = "target validation loss (default: AdamW's final validation loss)")
    Double target;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        TrainConfig base = options.resolve(TrainConfig.defaults().overlay("{\"steps\": 300, \"warmup\": 30}", "compare defaults"));
        Path out = Path.of(base.out() != null ? base.out() : "runs/compare");
        for (double lr : muonLrs) {
            require(lr > 0, "--muon-lrs must be positive");
        }
        for (double lr : adamwLrs) {
            require(lr > 0, "--adamw-lrs must be positive");
        }
        require(!seeds.isEmpty(), "--seeds needs at least one seed");
        Files.createDirectories(out);
        System.err.printf("compare: %s %s/%s, %d steps of %dx%d tokens, %d+%d sweep runs, seeds %s -> %s%n", base.preset(), base.attention(),
                base.ffn(), base.steps(), base.batchSize(), base.seqLen(), muonLrs.size(), adamwLrs.size(), seeds, out);
        Compare.Result r = Compare.run(base, muonLrs, adamwLrs, seeds, target, out, System.err);
        JsonObject summary = summary(r);
        plots(r, out);
        Reports.publish(out, report(base, r, summary), results(r, summary), summary, json);
        return 0;
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    static double[] each(List<Compare.RunResult> runs, double target, ToDoubleFunction<Curve.Hit> f) {
        return runs.stream().mapToDouble(x -> f.applyAsDouble(x.curve().reach(target))).toArray();
    }

    static JsonObject summary(Compare.Result r) {
        JsonObject o = new JsonObject();
        o.addProperty("target_loss", r.target());
        for (String opt : new String[] {"muon", "adamw"}) {
            List<Compare.RunResult> runs = opt.equals("muon") ? r.muon() : r.adamw();
            o.addProperty(opt + "_lr", runs.get(0).lr());
            o.addProperty(opt + "_steps_to_target", mean(each(runs, r.target(), Curve.Hit::steps)));
            o.addProperty(opt + "_tokens_to_target", mean(each(runs, r.target(), Curve.Hit::tokens)));
            o.addProperty(opt + "_flops_to_target", mean(each(runs, r.target(), Curve.Hit::flops)));
            o.addProperty(opt + "_seconds_to_target", mean(each(runs, r.target(), Curve.Hit::seconds)));
            o.addProperty(opt + "_runs_reaching_target", java.util.Arrays.stream(each(runs, r.target(), Curve.Hit::steps)).filter(Double::isFinite).count());
            double[] fin = runs.stream().mapToDouble(Compare.RunResult::finalValLoss).toArray();
            o.addProperty(opt + "_final_val_loss", mean(fin));
            o.addProperty(opt + "_final_val_loss_std", std(fin));
            o.addProperty(opt + "_final_val_ppl", Math.exp(mean(fin)));
        }
        for (String k : new String[] {"steps", "tokens", "flops", "seconds"}) {
            o.addProperty(k + "_ratio", o.get("muon_" + k + "_to_target").getAsDouble() / o.get("adamw_" + k + "_to_target").getAsDouble());
        }
        return o;
    }

    static double mean(double[] v) {
        double s = 0;
        int n = 0;
        for (double d : v) {
            if (!Double.isFinite(d)) {
                return Double.NaN; // a run that never reached the target: no mean
            }
            s += d;
            n++;
        }
        return n == 0 ? Double.NaN : s / n;
    }

    static double std(double[] v) {
        double m = mean(v), s = 0;
        for (double d : v) {
            s += (d - m) * (d - m);
        }
        return v.length < 2 ? 0 : Math.sqrt(s / (v.length - 1));
    }

    static JsonObject results(Compare.Result r, JsonObject summary) {
        JsonObject o = new JsonObject();
        o.add("summary", summary);
        o.addProperty("flops_per_token", r.flopsPerToken());
        JsonArray runs = new JsonArray();
        for (List<Compare.RunResult> group : List.of(r.sweep(), r.muon().subList(1, r.muon().size()), r.adamw().subList(1, r.adamw().size()))) {
            for (Compare.RunResult x : group) {
                JsonObject j = new JsonObject();
                j.addProperty("optimizer", x.optimizer());
                j.addProperty("lr", x.lr());
                j.addProperty("seed", x.seed());
                j.addProperty("dir", x.dir().toString());
                j.addProperty("final_val_loss", x.finalValLoss());
                Curve c = x.curve();
                j.add("steps", new com.google.gson.Gson().toJsonTree(c.steps()));
                j.add("tokens", new com.google.gson.Gson().toJsonTree(c.tokens()));
                j.add("seconds", new com.google.gson.Gson().toJsonTree(c.seconds()));
                j.add("val_loss", new com.google.gson.Gson().toJsonTree(c.valLoss()));
                runs.add(j);
            }
        }
        o.add("runs", runs);
        return o;
    }

    static void plots(Compare.Result r, Path out) throws Exception {
        String[][] axes = {{"steps", "loss_vs_steps.png"}, {"tokens", "loss_vs_tokens.png"}, {"FLOPs", "loss_vs_flops.png"}, {"wall time (s)", "loss_vs_time.png"}};
        List<Function<Curve, double[]>> xs = List.of(Curve::steps, Curve::tokens, Curve::flops, Curve::seconds);
        for (int i = 0; i < axes.length; i++) {
            LinePlot p = new LinePlot("Validation loss: Muon vs AdamW (best learning rates)", axes[i][0], "validation loss");
            for (Compare.RunResult x : r.muon()) {
                p.line("Muon lr " + x.lr() + " seed " + x.seed(), xs.get(i).apply(x.curve()), x.curve().valLoss());
            }
            for (Compare.RunResult x : r.adamw()) {
                p.line("AdamW lr " + x.lr() + " seed " + x.seed(), xs.get(i).apply(x.curve()), x.curve().valLoss());
            }
            double[] xr = xs.get(i).apply(r.adamw().get(0).curve());
            if (xr.length > 0) {
                p.dashed("target " + String.format("%.3f", r.target()), new double[] {xr[0], xr[xr.length - 1]}, new double[] {r.target(), r.target()});
            }
            p.write(out.resolve(axes[i][1]));
        }
        LinePlot sweep = new LinePlot("Learning-rate sweep (first seed)", "learning rate", "final validation loss").logX(true);
        for (String opt : new String[] {"muon", "adamw"}) {
            List<Compare.RunResult> rs = r.sweep().stream().filter(x -> x.optimizer().equals(opt)).toList();
            sweep.line(opt, rs.stream().mapToDouble(Compare.RunResult::lr).toArray(), rs.stream().mapToDouble(Compare.RunResult::finalValLoss).toArray());
        }
        sweep.write(out.resolve("lr_sweep.png"));
    }

    static String report(TrainConfig c, Compare.Result r, JsonObject s) {
        StringBuilder b = new StringBuilder();
        b.append("# Muon vs AdamW: compute to a target loss\n\n");
        b.append(String.format("Model `%s` %s/%s, %s tokens, %d steps of %d x %d tokens, seeds %s. Target validation loss: **%.4f**%s.%n%n",
                c.preset(), c.attention(), c.ffn(), c.tokenizerOrDefault(), c.steps(), c.batchSize(), c.seqLen(),
                r.muon().stream().map(x -> Long.toString(x.seed())).toList(), r.target(), " (AdamW's final validation loss at its best rate, unless --target)"));
        b.append("| | Muon | AdamW | Muon / AdamW |\n|---|---|---|---|\n");
        b.append(String.format("| best learning rate | %s | %s | |%n", s.get("muon_lr"), s.get("adamw_lr")));
        String[][] rows = {{"steps", "steps to target", "%.1f"}, {"tokens", "tokens to target", "%.0f"}, {"flops", "FLOPs to target", "%.3g"}, {"seconds", "wall time to target (s)", "%.1f"}};
        for (String[] row : rows) {
            b.append(String.format("| %s | " + row[2] + " | " + row[2] + " | %.2f |%n", row[1], s.get("muon_" + row[0] + "_to_target").getAsDouble(),
                    s.get("adamw_" + row[0] + "_to_target").getAsDouble(), s.get(row[0] + "_ratio").getAsDouble()));
        }
        b.append(String.format("| final validation loss (mean ± std) | %.4f ± %.4f | %.4f ± %.4f | |%n", s.get("muon_final_val_loss").getAsDouble(),
                s.get("muon_final_val_loss_std").getAsDouble(), s.get("adamw_final_val_loss").getAsDouble(), s.get("adamw_final_val_loss_std").getAsDouble()));
        b.append(String.format("| final perplexity | %.2f | %.2f | |%n%n", s.get("muon_final_val_ppl").getAsDouble(), s.get("adamw_final_val_ppl").getAsDouble()));
        b.append("Steps to target are interpolated linearly between evaluations; a run that never reaches the target shows NaN.\n\n");
        b.append("| sweep run | learning rate | final validation loss |\n|---|---|---|\n");
        for (Compare.RunResult x : r.sweep()) {
            b.append(String.format("| %s | %s | %.4f |%n", x.optimizer(), x.lr(), x.finalValLoss()));
        }
        b.append("\n![steps](loss_vs_steps.png)\n\n![tokens](loss_vs_tokens.png)\n\n![flops](loss_vs_flops.png)\n\n![time](loss_vs_time.png)\n\n![sweep](lr_sweep.png)\n");
        return b.toString();
    }
}
