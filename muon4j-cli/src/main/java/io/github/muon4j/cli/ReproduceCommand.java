package io.github.muon4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.Budget;
import io.github.muon4j.experiment.Reproduce;
import io.github.muon4j.report.BarChart;
import io.github.muon4j.report.LinePlot;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code muon4j reproduce}: the paper's headline, MLA+MoE+Muon against MHA dense AdamW. */
@Command(
        name = "reproduce",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "The paper's headline: MLA+MoE+Muon against MHA dense AdamW.",
            "Trains MHA/MLA x dense/MoE x Muon/AdamW on one budget (same steps and tokens for all eight), measures",
            "KV-cache memory and decode speed of each architecture, and writes the side-by-side table of the",
            "paper's headline: MLA+MoE+Muon against the MHA dense AdamW baseline. --lr is Muon's rate, --adamw-lr AdamW's."
        })
public final class ReproduceCommand implements Callable<Integer> {

    @Mixin TrainOptions options = new TrainOptions();

    @Option(
            names = "--budget",
            defaultValue = "20m",
            description =
                    "tokens per run (2M, 500k) or minutes for the whole command (20m) (default: ${DEFAULT-VALUE})")
    String budget;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Budget b = Budget.parse(budget);
        TrainConfig base = options.resolve(TrainConfig.defaults());
        Path out = Path.of(base.out() != null ? base.out() : "runs/reproduce");
        Files.createDirectories(out);
        Reproduce.Result r = Reproduce.run(base, b, base.lr(), base.adamwLr(), out, System.err);
        JsonObject summary = summary(r);
        charts(r, out);
        Reports.publish(out, report(base, r, summary), summary, summary, json);
        return 0;
    }

    static double decode(Reproduce.Cell c) {
        return c.inference().points().get(0).decodeTokensPerSecond();
    }

    static Reproduce.Cell cell(Reproduce.Result r, String arch, String opt) {
        return r.cells().stream()
                .filter(c -> c.arch().equals(arch) && c.optimizer().equals(opt))
                .findFirst()
                .orElseThrow();
    }

    static JsonObject summary(Reproduce.Result r) {
        JsonObject o = new JsonObject();
        o.addProperty("steps", r.steps());
        o.addProperty("decode_context", r.decodeContext());
        JsonArray cells = new JsonArray();
        for (Reproduce.Cell c : r.cells()) {
            JsonObject j = new JsonObject();
            j.addProperty("arch", c.arch());
            j.addProperty("optimizer", c.optimizer());
            j.addProperty("lr", c.lr());
            j.addProperty("final_val_loss", c.run().finalValLoss());
            j.addProperty("val_ppl", Math.exp(c.run().finalValLoss()));
            j.addProperty("kv_cache_bytes_per_token", c.inference().kvCacheBytesPerTokenFormula());
            j.addProperty("decode_tokens_per_s", decode(c));
            j.addProperty("total_params", c.inference().totalParams());
            j.addProperty("active_params", c.inference().activeParams());
            j.add("val_steps", new com.google.gson.Gson().toJsonTree(c.run().curve().steps()));
            j.add("val_loss", new com.google.gson.Gson().toJsonTree(c.run().curve().valLoss()));
            cells.add(j);
        }
        o.add("cells", cells);
        Reproduce.Cell base = cell(r, "mha-dense", "adamw"), best = cell(r, "mla-moe", "muon");
        double pb = Math.exp(base.run().finalValLoss()), px = Math.exp(best.run().finalValLoss());
        o.addProperty(
                "kv_memory_reduction",
                1
                        - (double) best.inference().kvCacheBytesPerTokenFormula()
                                / base.inference().kvCacheBytesPerTokenFormula());
        o.addProperty("decode_speedup", decode(best) / decode(base));
        o.addProperty("perplexity_improvement", (pb - px) / pb);
        o.addProperty("baseline_val_ppl", pb);
        o.addProperty("mla_moe_muon_val_ppl", px);
        return o;
    }

    static void charts(Reproduce.Result r, Path out) throws Exception {
        BarChart ppl =
                new BarChart(
                        "Validation perplexity, same steps and tokens (A = AdamW, M = Muon)",
                        "perplexity");
        BarChart kv = new BarChart("KV cache per token (fp32)", "bytes");
        BarChart dec = new BarChart("Decode speed, batch 1", "tokens/s");
        LinePlot curves = new LinePlot("Validation loss", "step", "validation loss");
        for (Reproduce.Cell c : r.cells()) {
            String n = c.arch() + " " + c.optimizer();
            ppl.bar(
                    c.arch() + (c.optimizer().equals("muon") ? " M" : " A"),
                    Math.exp(c.run().finalValLoss()));
            curves.line(n, c.run().curve().steps(), c.run().curve().valLoss());
            if (c.optimizer().equals("muon")) {
                kv.bar(c.arch(), c.inference().kvCacheBytesPerTokenFormula());
                dec.bar(c.arch(), decode(c));
            }
        }
        ppl.write(out.resolve("perplexity.png"));
        kv.write(out.resolve("kv_cache.png"));
        dec.write(out.resolve("decode.png"));
        curves.write(out.resolve("val_loss.png"));
    }

    static String report(TrainConfig c, Reproduce.Result r, JsonObject s) {
        StringBuilder b = new StringBuilder("# MLA + MoE + Muon against MHA dense AdamW\n\n");
        b.append(
                String.format(
                        "Preset `%s`, %s tokens, %d steps of %d x %d tokens for every run (Muon lr %s, AdamW lr %s), seed %d. "
                                + "Decode speed: batch 1, greedy, after a %d-token prefill, random weights of the same shapes.%n%n",
                        c.preset(),
                        c.tokenizerOrDefault(),
                        r.steps(),
                        c.batchSize(),
                        c.seqLen(),
                        c.lr(),
                        c.adamwLr(),
                        c.seed(),
                        r.decodeContext()));
        b.append("| claim | paper | measured here |\n|---|---|---|\n");
        b.append(
                String.format(
                        "| KV-cache memory reduction | 68%% | %.0f%% |%n",
                        100 * s.get("kv_memory_reduction").getAsDouble()));
        b.append(
                String.format(
                        "| inference (decode) speed-up | 3.2x | %.2fx |%n",
                        s.get("decode_speedup").getAsDouble()));
        b.append(
                String.format(
                        "| perplexity improvement | 8-12%% | %.1f%% (%.2f -> %.2f) |%n%n",
                        100 * s.get("perplexity_improvement").getAsDouble(),
                        s.get("baseline_val_ppl").getAsDouble(),
                        s.get("mla_moe_muon_val_ppl").getAsDouble()));
        b.append(
                "| architecture | optimizer | total params | active params | KV bytes/token | decode tok/s | final val loss | perplexity |\n|---|---|---|---|---|---|---|---|\n");
        for (Reproduce.Cell x : r.cells()) {
            b.append(
                    String.format(
                            "| %s | %s | %,d | %,d | %,d | %.1f | %.4f | %.2f |%n",
                            x.arch(),
                            x.optimizer(),
                            x.inference().totalParams(),
                            x.inference().activeParams(),
                            x.inference().kvCacheBytesPerTokenFormula(),
                            decode(x),
                            x.run().finalValLoss(),
                            Math.exp(x.run().finalValLoss())));
        }
        b.append(
                "\n![perplexity](perplexity.png)\n\n![val loss](val_loss.png)\n\n![kv](kv_cache.png)\n\n![decode](decode.png)\n");
        return b.toString();
    }
}
