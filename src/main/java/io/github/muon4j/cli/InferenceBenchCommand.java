package io.github.muon4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.InferenceBench;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.report.BarChart;
import io.github.muon4j.report.LinePlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j bench inference}: KV-cache memory and prefill/decode speed of MHA/MLA x dense/MoE. */
@Command(
        name = "inference",
        mixinStandardHelpOptions = true,
        description = {
            "MHA dense, MLA dense, MHA MoE and MLA MoE at the same depth and width: KV-cache bytes per token",
            "(formula and measured), prefill and decode tokens/s at several contexts, each against MHA dense.",
            "Random seeded weights: speed and memory do not depend on training."
        })
public final class InferenceBenchCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "tiny", description = "(default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--vocab", description = "vocabulary size (default: the preset's)")
    Integer vocab;

    @Option(names = "--contexts", split = ",", description = "prefill lengths (default: 128 and doublings up to the context length minus --new-tokens)")
    List<Integer> contexts;

    @Option(names = "--new-tokens", defaultValue = "32", description = "decoded tokens timed per context (default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--reps", defaultValue = "2", description = "repetitions, best kept (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--out", paramLabel = "DIR", description = "write REPORT.md, results.json and PNG charts here")
    Path out;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelConfig base = ModelConfig.preset(preset);
        if (vocab != null) {
            base = base.withVocab(vocab);
        }
        if (newTokens < 1 || reps < 1) {
            throw new IllegalArgumentException("--new-tokens and --reps must be at least 1");
        }
        int limit = base.contextLength() - newTokens;
        if (contexts == null || contexts.isEmpty()) {
            contexts = new ArrayList<>();
            for (int c = 128; c <= limit; c *= 2) {
                contexts.add(c);
            }
            if (contexts.isEmpty() || contexts.get(contexts.size() - 1) < limit) {
                contexts.add(limit);
            }
        }
        for (int c : contexts) {
            if (c < 1 || c > limit) {
                throw new IllegalArgumentException("--contexts: " + c + " is outside [1, " + limit + "] (context length " + base.contextLength() + " minus --new-tokens)");
            }
        }
        int[] ctx = contexts.stream().mapToInt(Integer::intValue).toArray();
        List<InferenceBench.Variant> results = new ArrayList<>();
        for (Map.Entry<String, ModelConfig> e : InferenceBench.variants(base).entrySet()) {
            System.err.println("bench inference: " + e.getKey() + " ...");
            results.add(InferenceBench.run(e.getKey(), e.getValue(), ctx, newTokens, reps));
        }
        String report = report(base, results, ctx);
        System.out.print(report);
        JsonObject o = toJson(results);
        if (out != null) {
            Files.createDirectories(out);
            writeCharts(results, ctx);
            Files.writeString(out.resolve("results.json"), new GsonBuilder().setPrettyPrinting().create().toJson(o));
            Files.writeString(out.resolve("REPORT.md"), "# Inference: MLA and MoE\n\n" + report
                    + "\n![KV cache](kv_cache.png)\n\n![decode](decode.png)\n\n![prefill](prefill.png)\n");
            System.err.println("bench inference: wrote " + out.resolve("REPORT.md"));
        }
        if (json) {
            System.out.println(o);
        }
        return 0;
    }

    static JsonObject toJson(List<InferenceBench.Variant> results) {
        JsonObject variants = new JsonObject();
        for (InferenceBench.Variant v : results) {
            JsonObject j = new JsonObject();
            j.addProperty("total_params", v.totalParams());
            j.addProperty("active_params", v.activeParams());
            j.addProperty("kv_cache_bytes_per_token", v.kvCacheBytesPerTokenFormula());
            j.addProperty("kv_cache_bytes_per_token_measured", v.kvCacheBytesPerTokenMeasured());
            JsonObject dec = new JsonObject(), pre = new JsonObject(), mem = new JsonObject();
            for (InferenceBench.Point p : v.points()) {
                dec.addProperty(Integer.toString(p.context()), p.decodeTokensPerSecond());
                pre.addProperty(Integer.toString(p.context()), p.prefillTokensPerSecond());
                mem.addProperty(Integer.toString(p.context()), p.cacheBytes());
            }
            j.add("decode_tokens_per_s", dec);
            j.add("prefill_tokens_per_s", pre);
            j.add("kv_cache_bytes", mem);
            variants.add(v.name(), j);
        }
        JsonObject o = new JsonObject();
        o.add("variants", variants);
        return o;
    }

    static String report(ModelConfig base, List<InferenceBench.Variant> rs, int[] ctx) {
        StringBuilder b = new StringBuilder();
        InferenceBench.Variant ref = rs.get(0);
        b.append(String.format("%d layers, d_model %d, %d heads, vocab %d; batch 1, fp32, MLA in the absorbed form, random weights%n%n",
                base.nLayers(), base.dModel(), base.nHeads(), base.vocabSize()));
        b.append("| variant | total params | active params | KV bytes/token (formula) | measured | vs MHA dense |\n|---|---|---|---|---|---|\n");
        for (InferenceBench.Variant v : rs) {
            b.append(String.format("| %s | %,d | %,d | %,d | %,.0f | %.2fx (%.0f%% smaller) |%n", v.name(), v.totalParams(), v.activeParams(),
                    v.kvCacheBytesPerTokenFormula(), v.kvCacheBytesPerTokenMeasured(),
                    (double) v.kvCacheBytesPerTokenFormula() / ref.kvCacheBytesPerTokenFormula(),
                    100.0 * (1 - (double) v.kvCacheBytesPerTokenFormula() / ref.kvCacheBytesPerTokenFormula())));
        }
        b.append("\n| variant | context | KV cache bytes | prefill tok/s | decode tok/s | decode vs MHA dense |\n|---|---|---|---|---|---|\n");
        for (InferenceBench.Variant v : rs) {
            for (int i = 0; i < v.points().size(); i++) {
                InferenceBench.Point p = v.points().get(i);
                b.append(String.format("| %s | %d | %,d | %.0f | %.1f | %.2fx |%n", v.name(), p.context(), p.cacheBytes(),
                        p.prefillTokensPerSecond(), p.decodeTokensPerSecond(),
                        p.decodeTokensPerSecond() / ref.points().get(i).decodeTokensPerSecond()));
            }
        }
        return b.toString();
    }

    void writeCharts(List<InferenceBench.Variant> rs, int[] ctx) throws Exception {
        BarChart kv = new BarChart("KV cache per token (fp32, all layers)", "bytes");
        for (InferenceBench.Variant v : rs) {
            kv.bar(v.name(), v.kvCacheBytesPerTokenFormula());
        }
        kv.write(out.resolve("kv_cache.png"));
        LinePlot dec = new LinePlot("Decode speed, batch 1", "context (tokens)", "tokens/s");
        LinePlot pre = new LinePlot("Prefill speed, batch 1", "context (tokens)", "tokens/s");
        double[] x = java.util.Arrays.stream(ctx).asDoubleStream().toArray();
        for (InferenceBench.Variant v : rs) {
            dec.line(v.name(), x, v.points().stream().mapToDouble(InferenceBench.Point::decodeTokensPerSecond).toArray());
            pre.line(v.name(), x, v.points().stream().mapToDouble(InferenceBench.Point::prefillTokensPerSecond).toArray());
        }
        dec.write(out.resolve("decode.png"));
        pre.write(out.resolve("prefill.png"));
    }
}
