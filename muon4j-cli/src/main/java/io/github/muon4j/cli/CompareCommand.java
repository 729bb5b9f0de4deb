package io.github.muon4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Compare;
import io.github.muon4j.experiment.CompareReport;
import io.github.muon4j.experiment.RunCache;
import io.github.muon4j.experiment.RunSummary;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code muon4j compare}: Muon against AdamW, compute to a target loss, tuned by one protocol. */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Muon vs AdamW: steps, tokens, FLOPs and time to a target loss, with 95%% intervals over seeds.",
            "Both arms are tuned by the same protocol: the hidden-matrix learning rate on a log grid that extends itself",
            "until the optimum is interior (or --lr-cap rates were tried); the other parameters use AdamW at --adamw-lr in both.",
            "Target: the final loss of AdamW's seed-mean curve. Costs: steps, tokens, model FLOPs, Newton-Schulz FLOPs, total",
            "FLOPs and training time. Writes REPORT.md, results.json, plots and one summary per run (finished runs are reused)."
        })
public final class CompareCommand implements Callable<Integer> {

    @Mixin TrainOptions options = new TrainOptions();

    @Option(
            names = "--muon-lrs",
            split = ",",
            defaultValue = "0.01,0.02,0.04",
            description = "Muon's starting grid (default: ${DEFAULT-VALUE})")
    List<Double> muonLrs;

    @Option(
            names = "--adamw-lrs",
            split = ",",
            defaultValue = "1e-3,2e-3,4e-3",
            description = "AdamW's starting grid (default: ${DEFAULT-VALUE})")
    List<Double> adamwLrs;

    @Option(
            names = "--lr-factor",
            defaultValue = "2",
            description =
                    "factor between a grid edge and the rate added beyond it (default: ${DEFAULT-VALUE})")
    double factor;

    @Option(
            names = "--lr-cap",
            defaultValue = "8",
            description = "most rates tried per arm (default: ${DEFAULT-VALUE})")
    int cap;

    @Option(
            names = "--lr-delta",
            defaultValue = "0.01",
            description =
                    "nats by which both sides of the optimum must be worse (default: ${DEFAULT-VALUE})")
    double delta;

    @Option(
            names = "--seeds",
            split = ",",
            description =
                    "seeds; the search uses the first, the best rates run on all (default: --seed, else 1,2)")
    List<Long> seeds;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        return io.github.muon4j.train.StopSignals.runStoppable(
                System.err, this::run); // SIGTERM/SIGINT: stop cleanly
    }

    private Integer run() throws Exception {
        TrainConfig base =
                options.resolve(
                        TrainConfig.defaults()
                                .overlay("{\"steps\": 300, \"warmup\": 30}", "compare defaults"));
        if (base.evalEvery() == 0 || base.evalEvery() > Math.max(1, base.steps() / 10)) {
            base =
                    base.overlay(
                            "{\"eval_every\": " + Math.max(1, base.steps() / 20) + "}", "compare");
        }
        Path out = Path.of(base.out() != null ? base.out() : "runs/compare");
        for (double lr : muonLrs) {
            require(lr > 0, "--muon-lrs must be positive");
        }
        for (double lr : adamwLrs) {
            require(lr > 0, "--adamw-lrs must be positive");
        }
        require(factor > 1, "--lr-factor must be above 1");
        require(
                cap >= Math.max(muonLrs.size(), adamwLrs.size()),
                "--lr-cap must be at least the size of each starting grid");
        require(delta >= 0, "--lr-delta must be >= 0");
        if (seeds == null) {
            seeds = options.seed != null ? List.of(options.seed) : List.of(1L, 2L);
        }
        require(!seeds.isEmpty(), "--seeds needs at least one seed");
        require(seeds.stream().distinct().count() == seeds.size(), "--seeds must be distinct");
        Files.createDirectories(out);
        System.err.printf(
                "compare: %s %s/%s, %d steps of %dx%d tokens, seeds %s -> %s%n",
                base.preset(),
                base.attention(),
                base.ffn(),
                base.steps(),
                base.batchSize(),
                base.seqLen(),
                seeds,
                out);
        Compare.Protocol p = new Compare.Protocol(muonLrs, adamwLrs, factor, cap, delta);
        RunCache cache =
                new RunCache(out.resolve("summaries"), out.resolve("runs"), true, System.err);
        Compare.Result r = Compare.run(base, p, seeds, "", cache, System.err);
        JsonObject summary = CompareReport.summary(r);
        CompareReport.plots(r, out, "", "Muon vs AdamW");
        String report =
                "# Muon vs AdamW: compute to a target loss\n\n"
                        + CompareReport.protocol(p, base)
                        + CompareReport.markdown(r, "");
        JsonObject results = new JsonObject();
        results.add("summary", summary);
        JsonArray runs = new JsonArray();
        for (List<RunSummary> g : List.of(r.sweep(), r.muon(), r.adamw())) {
            g.forEach(x -> runs.add(x.label()));
        }
        results.add("runs", runs);
        Reports.publish(out, report, results, summary, json);
        return 0;
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
