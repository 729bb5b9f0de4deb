package io.github.muon4j.bench.inference;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.bench.Bandwidth;
import io.github.muon4j.bench.Measure;
import io.github.muon4j.bench.inference.InferenceBenchResult.Point;
import io.github.muon4j.bench.inference.InferenceBenchResult.Run;
import io.github.muon4j.bench.inference.InferenceBenchResult.Variant;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.report.BarChart;
import io.github.muon4j.report.LinePlot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * {@code bench inference}'s output: the Markdown report (cache per token, every point against its
 * roofline, measured and roofline crossovers), the JSON object, and in a directory REPORT.md,
 * results.json and the PNG charts.
 */
public final class InferenceBenchReport {

    private InferenceBenchReport() {}

    /** Writes REPORT.md, results.json and the charts into {@code out}. */
    public static void write(InferenceBenchResult r, Path out) throws IOException {
        Files.createDirectories(out);
        charts(r, out);
        Files.writeString(
                out.resolve("results.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(json(r)));
        Files.writeString(
                out.resolve("REPORT.md"),
                "# Inference: MLA and MoE\n\n"
                        + markdown(r)
                        + "\n![KV cache](kv_cache.png)\n\n![decode](decode.png)\n\n![prefill](prefill.png)\n");
    }

    public static JsonObject json(InferenceBenchResult r) {
        JsonObject variants = new JsonObject();
        for (Variant v : r.variants()) {
            JsonObject j = new JsonObject();
            j.addProperty("total_params", v.totalParams());
            j.addProperty("active_params", v.activeParams());
            j.addProperty("kv_cache_bytes_per_token", v.kvCacheBytesPerTokenFormula());
            j.addProperty("kv_cache_bytes_per_token_measured", v.kvCacheBytesPerTokenMeasured());
            // decode_tokens_per_s.<context>: at the smallest batch measured there
            JsonObject dec = new JsonObject(), pre = new JsonObject(), mem = new JsonObject();
            JsonArray pts = new JsonArray();
            for (Point p : v.points()) {
                String c = Integer.toString(p.context());
                if (!dec.has(c)) {
                    dec.addProperty(c, p.decodeTokensPerSecond());
                    pre.addProperty(c, p.prefillTokensPerSecond());
                    mem.addProperty(c, p.cacheBytes());
                }
                JsonObject q = new JsonObject();
                q.addProperty("context", p.context());
                q.addProperty("batch", p.batch());
                q.addProperty("decode_tokens_per_s", p.decodeTokensPerSecond());
                q.addProperty("prefill_tokens_per_s", p.prefillTokensPerSecond());
                q.addProperty("kv_cache_bytes", p.cacheBytes());
                q.addProperty("weight_bytes_per_token", p.weightBytesPerToken());
                q.addProperty("cache_bytes_per_token", p.cacheBytesPerToken());
                q.addProperty("flops_per_token", p.flopsPerToken());
                q.addProperty("bandwidth_bytes_per_s", p.bandwidth());
                q.addProperty("kernel_flops_per_s", p.flopRate());
                q.addProperty("roofline_tokens_per_s", p.rooflineTokensPerSecond());
                q.addProperty("roofline_bound", p.bound());
                q.addProperty(
                        "fraction_of_roofline",
                        p.decodeTokensPerSecond() / p.rooflineTokensPerSecond());
                q.addProperty(
                        "weight_bandwidth_bound_tokens_per_s",
                        p.bandwidth() / p.weightBytesPerToken());
                q.addProperty("load_average", p.load());
                q.addProperty(
                        "tokens_per_cpu_second",
                        Double.isFinite(p.tokensPerCpuSecond()) ? p.tokensPerCpuSecond() : null);
                pts.add(q);
            }
            j.add("decode_tokens_per_s", dec);
            j.add("prefill_tokens_per_s", pre);
            j.add("kv_cache_bytes", mem);
            j.add("points", pts);
            variants.add(v.name(), j);
        }
        JsonObject o = new JsonObject();
        o.add("variants", variants);
        Run run = r.run();
        JsonObject c = new JsonObject();
        c.addProperty("kernels", run.kernels());
        c.addProperty("threads", run.threads());
        c.addProperty("bandwidth_bytes_per_s", run.bandwidthMedian());
        c.addProperty("bandwidth_best_bytes_per_s", run.bandwidthBest());
        c.add("bandwidth_samples", new GsonBuilder().create().toJsonTree(run.bandwidthSamples()));
        c.add(
                "bandwidth_pass_medians",
                new GsonBuilder()
                        .create()
                        .toJsonTree(
                                run.bandwidth().stream().map(Bandwidth.Sample::median).toList()));
        c.addProperty("bandwidth_buffer_bytes", run.bandwidthBytes());
        c.addProperty("bandwidth_passes", run.bandwidthPasses());
        c.addProperty("llc_bytes", run.llcBytes());
        c.addProperty("kernel_flops_per_s", run.flopRate());
        c.add("kernel_flops_samples", new GsonBuilder().create().toJsonTree(run.flopSamples()));
        c.addProperty("load_average_before", run.loadBefore());
        c.addProperty("load_average_after", run.loadAfter());
        if (run.budget() > 0) {
            c.addProperty("kv_budget_bytes", run.budget());
        }
        o.add("machine", c);
        return o;
    }

    /** "median (n samples, lo-hi)" of {@code v} in {@code unit}s. */
    private static String spread(List<Double> v, double unit) {
        return String.format(
                "%.1f (%d samples, %.1f-%.1f)",
                Measure.median(v) / unit, v.size(), Measure.min(v) / unit, Measure.max(v) / unit);
    }

    public static String markdown(InferenceBenchResult result) {
        ModelConfig base = result.base();
        List<Variant> rs = result.variants();
        Run run = result.run();
        StringBuilder b = new StringBuilder();
        b.append(
                String.format(
                        "%d layers, d_model %d, %d heads, vocab %d; fp32, MLA absorbed, random weights; decode kernels: %s, %d thread%s%n%n",
                        base.nLayers(),
                        base.dModel(),
                        base.nHeads(),
                        base.vocabSize(),
                        run.kernels(),
                        run.threads(),
                        run.threads() == 1 ? "" : "s"));
        b.append(
                String.format(
                        "Ceilings, sampled before every point: memory bandwidth %s; kernel FLOP rate %s GFLOP/s "
                                + "(cache-resident matrix product). Each point's roofline uses the samples taken just before it. "
                                + "Load average %.2f before, %.2f after.%n%n",
                        Bandwidth.describe(
                                run.bandwidth(),
                                run.bandwidthPasses(),
                                run.bandwidthBytes(),
                                run.llcBytes()),
                        spread(run.flopSamples(), 1e9),
                        run.loadBefore(),
                        run.loadAfter()));
        if (run.budget() > 0) {
            b.append(
                    String.format(
                            "Memory-budget mode: at each context, as many sequences as fit %,d bytes of fp32 KV cache.%n%n",
                            run.budget()));
        }
        Variant ref = rs.get(0);
        b.append(
                "| variant | total params | active params | KV bytes/token (formula) | measured | vs "
                        + ref.name()
                        + " |\n|---|---|---|---|---|---|\n");
        for (Variant v : rs) {
            b.append(
                    String.format(
                            "| %s | %,d | %,d | %,d | %,.0f | %.2fx (%.0f%% smaller) |%n",
                            v.name(),
                            v.totalParams(),
                            v.activeParams(),
                            v.kvCacheBytesPerTokenFormula(),
                            v.kvCacheBytesPerTokenMeasured(),
                            (double) v.kvCacheBytesPerTokenFormula()
                                    / ref.kvCacheBytesPerTokenFormula(),
                            100.0
                                    * (1
                                            - (double) v.kvCacheBytesPerTokenFormula()
                                                    / ref.kvCacheBytesPerTokenFormula())));
        }
        b.append(
                "\nPer token: weight and cache bytes read, FLOPs; roofline = min(bandwidth / bytes, FLOP rate / FLOPs) with the ceilings "
                        + "(GB/s, GFLOP/s) sampled next to the point.\n\n");
        b.append(
                "| variant | context | batch | decode tok/s | weight MB/tok | cache MB/tok | MFLOP/tok | GB/s | GFLOP/s | roofline tok/s | bound | of roofline | vs "
                        + ref.name()
                        + " | prefill tok/s | tok per CPU-s | load |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Variant v : rs) {
            for (Point p : v.points()) {
                Point r = ref.at(p.context(), p.batch());
                double roof = p.rooflineTokensPerSecond();
                b.append(
                        String.format(
                                "| %s | %d | %d | %.1f | %.2f | %.2f | %.1f | %.1f | %.1f | %.0f | %s | %.0f%% | %s | %.0f | %s | %.2f |%n",
                                v.name(),
                                p.context(),
                                p.batch(),
                                p.decodeTokensPerSecond(),
                                p.weightBytesPerToken() / 1e6,
                                p.cacheBytesPerToken() / 1e6,
                                p.flopsPerToken() / 1e6,
                                p.bandwidth() / 1e9,
                                p.flopRate() / 1e9,
                                roof,
                                p.bound(),
                                100 * p.decodeTokensPerSecond() / roof,
                                r == null
                                        ? "-"
                                        : String.format(
                                                "%.2fx",
                                                p.decodeTokensPerSecond()
                                                        / r.decodeTokensPerSecond()),
                                p.prefillTokensPerSecond(),
                                Double.isFinite(p.tokensPerCpuSecond())
                                        ? String.format("%.0f", p.tokensPerCpuSecond())
                                        : "-",
                                p.load()));
            }
        }
        b.append(crossovers(result));
        b.append(rooflineCrossovers(result));
        return b.toString();
    }

    /**
     * MLA over MHA (dense and MoE) at each (context, batch) both measured, and where it crosses 1.
     */
    static String crossovers(InferenceBenchResult r) {
        return perPair(
                r,
                (pr, a, m, batch) -> {
                    Crossover.Ratios c = Crossover.of(a, m, batch);
                    if (c.ratios().isEmpty()) {
                        return "";
                    }
                    StringBuilder line = new StringBuilder();
                    for (Crossover.Ratio x : c.ratios()) {
                        line.append(String.format(" %d: %.2fx;", x.context(), x.ratio()));
                    }
                    return String.format(
                            "%n%s / %s, batch %d, by context:%s crossover (ratio 1): %s%n",
                            pr[0],
                            pr[1],
                            batch,
                            line,
                            Double.isNaN(c.crossing())
                                    ? "none in the measured range"
                                    : String.format("about %.0f positions", c.crossing()));
                });
    }

    /**
     * The same ratios from the roofline alone ({@link Roofline}), at the run's median ceilings:
     * followed to contexts beyond those measured, with the contexts where they reach 1 and 1.5.
     */
    static String rooflineCrossovers(InferenceBenchResult r) {
        Run run = r.run();
        double bw = run.bandwidthMedian(), fl = run.flopRate();
        return perPair(
                r,
                (pr, a, m, batch) -> {
                    Roofline.Fit fa = Roofline.fit(a, batch), fm = Roofline.fit(m, batch);
                    if (fa == null || fm == null) {
                        return "";
                    }
                    StringBuilder line = new StringBuilder();
                    for (int ctx : new int[] {512, 1024, 2048, 4096, 8192, 32768}) {
                        line.append(
                                String.format(
                                        " %d: %.2fx;", ctx, Roofline.ratio(fa, fm, ctx, bw, fl)));
                    }
                    return String.format(
                            "%nroofline %s / %s, batch %d (%.1f GB/s, %.1f GFLOP/s):%s reaches 1 at %s, 1.5 at %s%n",
                            pr[0],
                            pr[1],
                            batch,
                            bw / 1e9,
                            fl / 1e9,
                            line,
                            reach(Roofline.reach(fa, fm, 1, bw, fl)),
                            reach(Roofline.reach(fa, fm, 1.5, bw, fl)));
                });
    }

    /** The text of one pair of variants (names {@code pr}) measured at one batch size. */
    private interface PairText {
        String of(String[] pr, Variant a, Variant m, int batch);
    }

    /**
     * The texts of each pair of {@link Crossover#PAIRS} that r measured, at each of its batch
     * sizes, as one block after a blank line ("" when all are empty).
     */
    private static String perPair(InferenceBenchResult r, PairText text) {
        StringBuilder b = new StringBuilder();
        for (String[] pr : Crossover.PAIRS) {
            Variant a = r.find(pr[0]), m = r.find(pr[1]);
            if (a == null || m == null) {
                continue;
            }
            for (int batch : Crossover.batches(a)) {
                b.append(text.of(pr, a, m, batch));
            }
        }
        return b.length() == 0 ? "" : "\n" + b.toString().strip() + "\n";
    }

    private static String reach(Roofline.Reach r) {
        if (Double.isNaN(r.context())) {
            return String.format("no context (limit %.2fx)", r.limit());
        }
        return r.context() == 1
                ? "every context"
                : String.format("about %.0f positions", r.context());
    }

    /** kv_cache.png, decode.png, prefill.png and, with several batches, decode_batch<b>.png. */
    static void charts(InferenceBenchResult r, Path out) throws IOException {
        List<Variant> rs = r.variants();
        BarChart kv = new BarChart("KV cache per token (fp32, all layers)", "bytes");
        for (Variant v : rs) {
            kv.bar(v.name(), v.kvCacheBytesPerTokenFormula());
        }
        kv.write(out.resolve("kv_cache.png"));
        TreeSet<Integer> batchSet = new TreeSet<>();
        rs.forEach(v -> batchSet.addAll(Crossover.batches(v)));
        boolean budgetMode = r.run().budget() > 0;
        LinePlot dec =
                new LinePlot(
                                budgetMode
                                        ? "Decode speed in a fixed KV budget (dashed: roofline)"
                                        : "Decode speed, batch "
                                                + batchSet.first()
                                                + " (dashed: roofline)",
                                "context (tokens)",
                                "tokens/s")
                        .logX(true)
                        .logY(true);
        LinePlot pre =
                new LinePlot("Prefill speed (DJL, one sequence)", "context (tokens)", "tokens/s")
                        .logX(true);
        for (Variant v : rs) {
            List<Point> pts = new ArrayList<>();
            for (Point p : v.points()) {
                if (budgetMode || p.batch() == batchSet.first()) {
                    pts.add(p);
                }
            }
            double[] x = pts.stream().mapToDouble(Point::context).toArray();
            dec.line(v.name(), x, pts.stream().mapToDouble(Point::decodeTokensPerSecond).toArray());
            dec.dashed(
                    v.name() + " roofline",
                    x,
                    pts.stream().mapToDouble(Point::rooflineTokensPerSecond).toArray());
            pre.line(
                    v.name(), x, pts.stream().mapToDouble(Point::prefillTokensPerSecond).toArray());
        }
        dec.write(out.resolve("decode.png"));
        pre.write(out.resolve("prefill.png"));
        if (!budgetMode && batchSet.size() > 1) {
            for (int batch : batchSet) {
                if (batch == batchSet.first()) {
                    continue;
                }
                LinePlot p =
                        new LinePlot(
                                        "Decode speed, batch " + batch + " (dashed: roofline)",
                                        "context (tokens)",
                                        "tokens/s")
                                .logX(true)
                                .logY(true);
                for (Variant v : rs) {
                    List<Point> pts = v.points().stream().filter(q -> q.batch() == batch).toList();
                    double[] x = pts.stream().mapToDouble(Point::context).toArray();
                    p.line(
                            v.name(),
                            x,
                            pts.stream().mapToDouble(Point::decodeTokensPerSecond).toArray());
                    p.dashed(
                            v.name() + " roofline",
                            x,
                            pts.stream().mapToDouble(Point::rooflineTokensPerSecond).toArray());
                }
                p.write(out.resolve("decode_batch" + batch + ".png"));
            }
        }
    }
}
