package io.github.muon4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Curve;
import io.github.muon4j.experiment.Sweep;
import io.github.muon4j.report.LinePlot;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code muon4j sweep}: the batch-size frontier and learning-rate sensitivity, resumable. */
@Command(
        name = "sweep",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Batch-size frontier and learning-rate sensitivity (a resumable grid of runs).",
            "A grid of runs over batch sizes, optimizers, learning rates and seeds (finished points are not re-run).",
            "Plots steps and tokens to a target loss against batch size per optimizer (the frontier), final loss",
            "against learning rate (sensitivity), and counts runs that diverged or spiked."
        })
public final class SweepCommand implements Callable<Integer> {

    @Mixin TrainOptions options = new TrainOptions();

    @Option(
            names = "--batch-sizes",
            split = ",",
            defaultValue = "4,8,16",
            description = "(default: ${DEFAULT-VALUE})")
    List<Integer> batchSizes;

    @Option(
            names = "--optimizers",
            split = ",",
            defaultValue = "muon,adamw",
            description = "(default: ${DEFAULT-VALUE})")
    List<String> optimizers;

    @Option(
            names = "--lrs",
            split = ",",
            description =
                    "matrix learning rates to grid over (default: --lr for Muon, 2e-3 for AdamW)")
    List<Double> lrs = new ArrayList<>();

    @Option(
            names = "--seeds",
            split = ",",
            defaultValue = "1337",
            description = "(default: ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(
            names = "--target",
            description =
                    "target validation loss (default: the highest final loss among runs that did not diverge, so all of them reach it)")
    Double target;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        return io.github.muon4j.train.StopSignals.runStoppable(
                System.err, this::run); // SIGTERM/SIGINT: stop cleanly
    }

    private Integer run() throws Exception {
        for (String o : optimizers) {
            CompareCommand.require(
                    o.equals("muon") || o.equals("adamw"),
                    "--optimizers: muon or adamw, not '" + o + "'");
        }
        for (int b : batchSizes) {
            CompareCommand.require(b >= 1, "--batch-sizes must be at least 1");
        }
        for (double lr : lrs) {
            CompareCommand.require(lr > 0, "--lrs must be positive");
        }
        TrainConfig base =
                options.resolve(
                        TrainConfig.defaults()
                                .overlay(
                                        "{\"steps\": 200, \"warmup\": 20, \"eval_every\": 10}",
                                        "sweep defaults"));
        Path out = Path.of(base.out() != null ? base.out() : "runs/sweep");
        Files.createDirectories(out);
        List<Sweep.Point> points =
                Sweep.run(
                        base,
                        batchSizes,
                        optimizers,
                        lrs,
                        seeds,
                        new io.github.muon4j.experiment.RunCache(
                                out.resolve("summaries"), out.resolve("runs"), true, System.err),
                        System.err);
        double t =
                target != null
                        ? target
                        : points.stream()
                                .filter(p -> !p.diverged())
                                .mapToDouble(p -> p.run().finalValLoss())
                                .max()
                                .orElse(Double.NaN);
        JsonObject o = new JsonObject();
        o.addProperty("target_loss", t);
        o.addProperty("runs", points.size());
        o.addProperty("diverged", points.stream().filter(Sweep.Point::diverged).count());
        o.addProperty("spiked", points.stream().filter(Sweep.Point::spiked).count());
        JsonArray arr = new JsonArray();
        StringBuilder table =
                new StringBuilder(
                        "| batch | optimizer | lr | seed | steps to target | tokens to target | seconds to target | final val loss | diverged | spiked |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (Sweep.Point p : points) {
            Curve.Hit h = p.run().curve().reach(t);
            JsonObject j = new JsonObject();
            j.addProperty("batch_size", p.batchSize());
            j.addProperty("optimizer", p.optimizer());
            j.addProperty("lr", p.lr());
            j.addProperty("seed", p.seed());
            j.addProperty("steps_to_target", h.steps());
            j.addProperty("tokens_to_target", h.tokens());
            j.addProperty("seconds_to_target", h.seconds());
            j.addProperty("final_val_loss", p.run().finalValLoss());
            j.addProperty("diverged", p.diverged());
            j.addProperty("spiked", p.spiked());
            j.addProperty("run", p.run().label());
            arr.add(j);
            table.append(
                    String.format(
                            "| %d | %s | %s | %d | %.1f | %.0f | %.1f | %.4f | %s | %s |%n",
                            p.batchSize(),
                            p.optimizer(),
                            p.lr(),
                            p.seed(),
                            h.steps(),
                            h.tokens(),
                            h.seconds(),
                            p.run().finalValLoss(),
                            p.diverged() ? "yes" : "",
                            p.spiked() ? "yes" : ""));
        }
        o.add("points", arr);
        plots(points, t, out);
        String report =
                String.format(
                                "# Sweep: batch-size frontier and learning-rate sensitivity%n%n"
                                        + "Model `%s` %s/%s, %d steps, seq %d. Target validation loss %.4f%s. %d runs, %d diverged (final loss not finite or above "
                                        + "the first evaluation), %d spiked (a training loss above 1.5x the lowest so far, after the first 10%% of steps).%n%n",
                                base.preset(),
                                base.attention(),
                                base.ffn(),
                                base.steps(),
                                base.seqLen(),
                                t,
                                target != null
                                        ? ""
                                        : " (the highest final loss among runs that did not diverge)",
                                points.size(),
                                o.get("diverged").getAsLong(),
                                o.get("spiked").getAsLong())
                        + table
                        + "\n![steps](steps_to_target.png)\n\n![tokens](tokens_to_target.png)\n\n![lr](lr_sensitivity.png)\n";
        Reports.publish(out, report, o, o, json);
        return 0;
    }

    static void plots(List<Sweep.Point> points, double target, Path out) throws Exception {
        LinePlot steps =
                new LinePlot(
                                "Steps to target loss vs batch size",
                                "batch size (sequences)",
                                "steps to target")
                        .logX(true);
        LinePlot tokens =
                new LinePlot(
                                "Tokens to target loss vs batch size",
                                "batch size (sequences)",
                                "tokens to target")
                        .logX(true);
        LinePlot sens =
                new LinePlot("Learning-rate sensitivity", "learning rate", "final validation loss")
                        .logX(true);
        for (String opt : new String[] {"muon", "adamw"}) {
            List<Sweep.Point> ps = points.stream().filter(p -> p.optimizer().equals(opt)).toList();
            if (ps.isEmpty()) {
                continue;
            }
            List<Integer> bs = ps.stream().map(Sweep.Point::batchSize).distinct().sorted().toList();
            double[] x = bs.stream().mapToDouble(Integer::doubleValue).toArray();
            double[] ys = new double[x.length], yt = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int b = bs.get(i);
                // the best (fewest steps) learning rate at each batch size, mean over seeds
                ys[i] = bestAt(ps, b, target, true);
                yt[i] = bestAt(ps, b, target, false);
            }
            steps.line(opt, x, ys);
            tokens.line(opt, x, yt);
            List<Double> rates = ps.stream().map(Sweep.Point::lr).distinct().sorted().toList();
            double[] lx = rates.stream().mapToDouble(Double::doubleValue).toArray();
            double[] ly =
                    rates.stream()
                            .mapToDouble(
                                    lr ->
                                            ps.stream()
                                                    .filter(p -> p.lr() == lr)
                                                    .mapToDouble(p -> p.run().finalValLoss())
                                                    .average()
                                                    .orElse(Double.NaN))
                            .toArray();
            sens.line(opt, lx, ly);
        }
        steps.write(out.resolve("steps_to_target.png"));
        tokens.write(out.resolve("tokens_to_target.png"));
        sens.write(out.resolve("lr_sensitivity.png"));
    }

    static double bestAt(List<Sweep.Point> ps, int batch, double target, boolean steps) {
        double best = Double.NaN;
        for (double lr :
                ps.stream()
                        .filter(p -> p.batchSize() == batch)
                        .map(Sweep.Point::lr)
                        .distinct()
                        .toList()) {
            double v =
                    ps.stream()
                            .filter(p -> p.batchSize() == batch && p.lr() == lr)
                            .mapToDouble(
                                    p ->
                                            steps
                                                    ? p.run().curve().reach(target).steps()
                                                    : p.run().curve().reach(target).tokens())
                            .average()
                            .orElse(Double.NaN);
            if (Double.isFinite(v) && !(v >= best)) {
                best = v;
            }
        }
        return best;
    }
}
