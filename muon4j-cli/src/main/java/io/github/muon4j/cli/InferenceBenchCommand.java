package io.github.muon4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.experiment.InferenceBench;
import io.github.muon4j.infer.Kernels;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.report.BarChart;
import io.github.muon4j.report.LinePlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j bench inference}: KV-cache memory and decode speed of MHA/MLA x dense/MoE at long
 * contexts and in batches, each point beside its bytes and FLOPs per token and the bandwidth and
 * FLOP ceilings measured in the same run (a roofline).
 */
@Command(
        name = "inference",
        mixinStandardHelpOptions = true,
        description = {
            "MHA dense, MLA dense, MHA MoE and MLA MoE at the same depth and width: KV-cache bytes per token,",
            "then decode tokens/s at each context and batch, with the bytes read and FLOPs done per token and the",
            "memory-bandwidth and kernel FLOP ceilings measured in the same run (a roofline).",
            "Random seeded weights: speed and memory do not depend on training."
        })
public final class InferenceBenchCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "tiny", description = "(default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--vocab", description = "vocabulary size (default: the preset's)")
    Integer vocab;

    @Option(
            names = "--variants",
            split = ",",
            description = "subset of mha-dense, mla-dense, mha-moe, mla-moe (default: all)")
    List<String> only;

    @Option(
            names = "--contexts",
            split = ",",
            description =
                    "cached positions before decoding, any length (RoPE is computed) (default: 128,512,2048,8192)")
    List<Integer> contexts;

    @Option(
            names = "--batch",
            split = ",",
            description = "sequences decoded together, one or more sizes (default: 1)")
    List<Integer> batches;

    @Option(
            names = "--kv-budget",
            paramLabel = "SIZE",
            description =
                    "memory-budget mode: at each context decode as many sequences as fit SIZE of fp32 KV cache (e.g. 512m, 2g)")
    String kvBudget;

    @Option(
            names = "--max-batch",
            defaultValue = "64",
            description = "cap of the budget mode (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(
            names = "--new-tokens",
            defaultValue = "32",
            description = "decode steps timed per point (default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(
            names = "--reps",
            defaultValue = "2",
            description = "repetitions, best kept (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(
            names = "--threads",
            description =
                    "decode threads (default: by the work of a step: 1 for small models, else all cores)")
    Integer threads;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "write REPORT.md, results.json and PNG charts here")
    Path out;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    /** Ceilings and settings of one run. */
    record Run(
            String kernels,
            int threads,
            long budget,
            double bandwidth,
            double flopRate,
            List<Double> bandwidthSamples,
            List<Double> flopSamples,
            double loadBefore,
            double loadAfter) {}

    @Override
    public Integer call() throws Exception {
        ModelConfig base = ModelConfig.preset(preset);
        if (vocab != null) {
            base = base.withVocab(vocab);
        }
        if (newTokens < 1 || reps < 1) {
            throw new IllegalArgumentException("--new-tokens and --reps must be at least 1");
        }
        if (contexts == null || contexts.isEmpty()) {
            contexts = List.of(128, 512, 2048, 8192);
        }
        for (int c : contexts) {
            if (c < 1 || c > 1 << 20) {
                throw new IllegalArgumentException("--contexts: " + c + " is outside [1, 1048576]");
            }
        }
        if (batches == null || batches.isEmpty()) {
            batches = List.of(1);
        }
        for (int b : batches) {
            if (b < 1 || b > 4096) {
                throw new IllegalArgumentException("--batch: " + b + " is outside [1, 4096]");
            }
        }
        long budget = kvBudget == null ? 0 : parseSize(kvBudget);
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--max-batch must be at least 1");
        }
        int nThreads =
                threads == null
                        ? io.github.muon4j.infer.BatchDecoder.defaultThreads(
                                base, batches.stream().mapToInt(Integer::intValue).max().orElse(1))
                        : threads;
        if (nThreads < 1 || nThreads > 256) {
            throw new IllegalArgumentException("--threads: " + nThreads + " is outside [1, 256]");
        }
        Map<String, ModelConfig> all = InferenceBench.variants(base);
        if (only != null && !only.isEmpty()) {
            for (String v : only) {
                if (!all.containsKey(v)) {
                    throw new IllegalArgumentException(
                            "--variants: unknown variant '"
                                    + v
                                    + "' (mha-dense, mla-dense, mha-moe, mla-moe)");
                }
            }
            all.keySet().retainAll(only);
        }
        int[] ctx = new TreeSet<>(contexts).stream().mapToInt(Integer::intValue).toArray();
        int[] bs = new TreeSet<>(batches).stream().mapToInt(Integer::intValue).toArray();
        InferenceBench.Plan plan =
                new InferenceBench.Plan(ctx, bs, budget, maxBatch, newTokens, reps, nThreads);
        double loadBefore = InferenceBench.loadAverage();
        InferenceBench.Ceilings ceilings = new InferenceBench.Ceilings(nThreads);
        List<InferenceBench.Variant> results = new ArrayList<>();
        for (Map.Entry<String, ModelConfig> e : all.entrySet()) {
            results.add(
                    InferenceBench.run(
                            e.getKey(),
                            e.getValue(),
                            plan,
                            ceilings,
                            s -> System.err.println("bench inference: " + s)));
        }
        ceilings.release();
        Run run =
                new Run(
                        Kernels.get().name(),
                        nThreads,
                        budget,
                        InferenceBench.Ceilings.median(ceilings.bandwidth()),
                        InferenceBench.Ceilings.median(ceilings.flops()),
                        ceilings.bandwidth(),
                        ceilings.flops(),
                        loadBefore,
                        InferenceBench.loadAverage());
        String report = report(base, results, run);
        System.out.print(report);
        JsonObject o = toJson(results, run);
        if (out != null) {
            Files.createDirectories(out);
            writeCharts(results, run);
            Files.writeString(
                    out.resolve("results.json"),
                    new GsonBuilder().setPrettyPrinting().create().toJson(o));
            Files.writeString(
                    out.resolve("REPORT.md"),
                    "# Inference: MLA and MoE\n\n"
                            + report
                            + "\n![KV cache](kv_cache.png)\n\n![decode](decode.png)\n\n![prefill](prefill.png)\n");
            System.err.println("bench inference: wrote " + out.resolve("REPORT.md"));
        }
        if (json) {
            System.out.println(o);
        }
        return 0;
    }

    /** "512m", "2g", "1048576", "64k" -> bytes. */
    static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            mult = t.endsWith("k") ? 1L << 10 : t.endsWith("m") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t);
            if (!(v > 0) || v * mult > 1e15) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--kv-budget: '" + s + "' is not a positive size such as 512m or 2g");
        }
    }

    /** The point of variant v at (context, batch), or null. */
    static InferenceBench.Point at(InferenceBench.Variant v, int context, int batch) {
        for (InferenceBench.Point p : v.points()) {
            if (p.context() == context && p.batch() == batch) {
                return p;
            }
        }
        return null;
    }

    static JsonObject toJson(List<InferenceBench.Variant> results, Run run) {
        JsonObject variants = new JsonObject();
        for (InferenceBench.Variant v : results) {
            JsonObject j = new JsonObject();
            j.addProperty("total_params", v.totalParams());
            j.addProperty("active_params", v.activeParams());
            j.addProperty("kv_cache_bytes_per_token", v.kvCacheBytesPerTokenFormula());
            j.addProperty("kv_cache_bytes_per_token_measured", v.kvCacheBytesPerTokenMeasured());
            // decode_tokens_per_s.<context>: at the smallest batch measured there
            JsonObject dec = new JsonObject(), pre = new JsonObject(), mem = new JsonObject();
            JsonArray pts = new JsonArray();
            for (InferenceBench.Point p : v.points()) {
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
                q.addProperty("tokens_per_cpu_second", p.tokensPerCpuSecond());
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
        JsonObject c = new JsonObject();
        c.addProperty("kernels", run.kernels());
        c.addProperty("threads", run.threads());
        c.addProperty("bandwidth_bytes_per_s", run.bandwidth());
        c.add("bandwidth_samples", new GsonBuilder().create().toJsonTree(run.bandwidthSamples()));
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

    private static String spread(List<Double> v, double unit) {
        double lo = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN) / unit;
        double hi = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN) / unit;
        return String.format(
                "%.1f (%d samples, %.1f-%.1f)",
                InferenceBench.Ceilings.median(v) / unit, v.size(), lo, hi);
    }

    static String report(ModelConfig base, List<InferenceBench.Variant> rs, Run run) {
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
                        "Ceilings, sampled before every point: memory bandwidth %s GB/s (streaming sum of 128 MB); kernel FLOP rate %s GFLOP/s "
                                + "(cache-resident matrix product). Each point's roofline uses the samples taken just before it. "
                                + "Load average %.2f before, %.2f after.%n%n",
                        spread(run.bandwidthSamples(), 1e9),
                        spread(run.flopSamples(), 1e9),
                        run.loadBefore(),
                        run.loadAfter()));
        if (run.budget() > 0) {
            b.append(
                    String.format(
                            "Memory-budget mode: at each context, as many sequences as fit %,d bytes of fp32 KV cache.%n%n",
                            run.budget()));
        }
        InferenceBench.Variant ref = rs.get(0);
        b.append(
                "| variant | total params | active params | KV bytes/token (formula) | measured | vs "
                        + ref.name()
                        + " |\n|---|---|---|---|---|---|\n");
        for (InferenceBench.Variant v : rs) {
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
        for (InferenceBench.Variant v : rs) {
            for (InferenceBench.Point p : v.points()) {
                InferenceBench.Point r = at(ref, p.context(), p.batch());
                double roof = p.rooflineTokensPerSecond();
                b.append(
                        String.format(
                                "| %s | %d | %d | %.1f | %.2f | %.2f | %.1f | %.1f | %.1f | %.0f | %s | %.0f%% | %s | %.0f | %.0f | %.2f |%n",
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
                                p.tokensPerCpuSecond(),
                                p.load()));
            }
        }
        b.append(crossovers(rs));
        b.append(rooflineCrossovers(rs, run));
        return b.toString();
    }

    /**
     * MLA over MHA (dense and MoE) at each (context, batch) both measured, and where it crosses 1.
     */
    static String crossovers(List<InferenceBench.Variant> rs) {
        StringBuilder b = new StringBuilder();
        String[][] pairs = {
            {"mla-dense", "mha-dense"}, {"mla-moe", "mha-moe"}, {"mla-moe", "mha-dense"}
        };
        for (String[] pr : pairs) {
            InferenceBench.Variant a = find(rs, pr[0]), m = find(rs, pr[1]);
            if (a == null || m == null) {
                continue;
            }
            TreeSet<Integer> batchSet = new TreeSet<>();
            a.points().forEach(p -> batchSet.add(p.batch()));
            for (int batch : batchSet) {
                StringBuilder line = new StringBuilder();
                double prevCtx = -1, prevRatio = Double.NaN;
                String cross = null;
                for (InferenceBench.Point p : a.points()) {
                    InferenceBench.Point q = at(m, p.context(), batch);
                    if (p.batch() != batch || q == null) {
                        continue;
                    }
                    double ratio = p.decodeTokensPerSecond() / q.decodeTokensPerSecond();
                    line.append(String.format(" %d: %.2fx;", p.context(), ratio));
                    if (cross == null && prevCtx > 0 && (prevRatio - 1) * (ratio - 1) < 0) {
                        double f = (1 - prevRatio) / (ratio - prevRatio); // linear in log(context)
                        cross =
                                String.format(
                                        "%.0f",
                                        Math.exp(
                                                Math.log(prevCtx)
                                                        + f
                                                                * (Math.log(p.context())
                                                                        - Math.log(prevCtx))));
                    }
                    prevCtx = p.context();
                    prevRatio = ratio;
                }
                if (line.length() > 0) {
                    b.append(
                            String.format(
                                    "%n%s / %s, batch %d, by context:%s crossover (ratio 1): %s%n",
                                    pr[0],
                                    pr[1],
                                    batch,
                                    line,
                                    cross == null
                                            ? "none in the measured range"
                                            : "about " + cross + " positions"));
                }
            }
        }
        return b.length() == 0 ? "" : "\n" + b.toString().strip() + "\n";
    }

    /**
     * The same ratios from the roofline alone, at the run's median ceilings: per variant and batch,
     * bytes and FLOPs per token are linear in the context (fitted through the smallest and largest
     * context measured), so the roofline ratio of two variants can be followed to any context, and
     * the contexts where it reaches 1 and 1.5 found; unlike the measured ratios it does not move
     * with the machine's load.
     */
    static String rooflineCrossovers(List<InferenceBench.Variant> rs, Run run) {
        StringBuilder b = new StringBuilder();
        String[][] pairs = {
            {"mla-dense", "mha-dense"}, {"mla-moe", "mha-moe"}, {"mla-moe", "mha-dense"}
        };
        for (String[] pr : pairs) {
            InferenceBench.Variant a = find(rs, pr[0]), m = find(rs, pr[1]);
            if (a == null || m == null) {
                continue;
            }
            TreeSet<Integer> batchSet = new TreeSet<>();
            a.points().forEach(p -> batchSet.add(p.batch()));
            for (int batch : batchSet) {
                double[] fa = fit(a, batch), fm = fit(m, batch);
                if (fa == null || fm == null) {
                    continue;
                }
                StringBuilder line = new StringBuilder();
                for (int ctx : new int[] {512, 1024, 2048, 4096, 8192, 32768}) {
                    line.append(String.format(" %d: %.2fx;", ctx, rooflineRatio(fa, fm, ctx, run)));
                }
                b.append(
                        String.format(
                                "%nroofline %s / %s, batch %d (%.1f GB/s, %.1f GFLOP/s):%s reaches 1 at %s, 1.5 at %s%n",
                                pr[0],
                                pr[1],
                                batch,
                                run.bandwidth() / 1e9,
                                run.flopRate() / 1e9,
                                line,
                                reach(fa, fm, 1, run),
                                reach(fa, fm, 1.5, run)));
            }
        }
        return b.length() == 0 ? "" : "\n" + b.toString().strip() + "\n";
    }

    /** {bytes at 0, bytes per position, FLOPs at 0, FLOPs per position} per token, or null. */
    static double[] fit(InferenceBench.Variant v, int batch) {
        InferenceBench.Point lo = null, hi = null;
        for (InferenceBench.Point p : v.points()) {
            if (p.batch() != batch) {
                continue;
            }
            if (lo == null || p.context() < lo.context()) {
                lo = p;
            }
            if (hi == null || p.context() > hi.context()) {
                hi = p;
            }
        }
        if (lo == null || hi.context() == lo.context()) {
            return null;
        }
        double ds = hi.context() - lo.context();
        double bs = (hi.bytesPerToken() - lo.bytesPerToken()) / ds,
                fs = (hi.flopsPerToken() - lo.flopsPerToken()) / ds;
        return new double[] {
            lo.bytesPerToken() - bs * lo.context(), bs, lo.flopsPerToken() - fs * lo.context(), fs
        };
    }

    /** Roofline tokens/s of a over m at context s. */
    static double rooflineRatio(double[] a, double[] m, double s, Run run) {
        double ta =
                Math.max((a[0] + a[1] * s) / run.bandwidth(), (a[2] + a[3] * s) / run.flopRate());
        double tm =
                Math.max((m[0] + m[1] * s) / run.bandwidth(), (m[2] + m[3] * s) / run.flopRate());
        return tm / ta;
    }

    /** The first context (from 1 to 2^20, by 1% steps) where the roofline ratio reaches r. */
    static String reach(double[] a, double[] m, double r, Run run) {
        for (double s = 1; s <= 1 << 20; s *= 1.01) {
            if (rooflineRatio(a, m, s, run) >= r) {
                return s == 1 ? "every context" : String.format("about %.0f positions", s);
            }
        }
        return String.format("no context (limit %.2fx)", rooflineRatio(a, m, 1 << 20, run));
    }

    static InferenceBench.Variant find(List<InferenceBench.Variant> rs, String name) {
        for (InferenceBench.Variant v : rs) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        return null;
    }

    void writeCharts(List<InferenceBench.Variant> rs, Run run) throws Exception {
        BarChart kv = new BarChart("KV cache per token (fp32, all layers)", "bytes");
        for (InferenceBench.Variant v : rs) {
            kv.bar(v.name(), v.kvCacheBytesPerTokenFormula());
        }
        kv.write(out.resolve("kv_cache.png"));
        TreeSet<Integer> batchSet = new TreeSet<>();
        rs.forEach(v -> v.points().forEach(p -> batchSet.add(p.batch())));
        boolean budgetMode = run.budget() > 0;
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
        for (InferenceBench.Variant v : rs) {
            List<InferenceBench.Point> pts = new ArrayList<>();
            for (InferenceBench.Point p : v.points()) {
                if (budgetMode || p.batch() == batchSet.first()) {
                    pts.add(p);
                }
            }
            double[] x = pts.stream().mapToDouble(InferenceBench.Point::context).toArray();
            dec.line(
                    v.name(),
                    x,
                    pts.stream()
                            .mapToDouble(InferenceBench.Point::decodeTokensPerSecond)
                            .toArray());
            dec.dashed(
                    v.name() + " roofline",
                    x,
                    pts.stream()
                            .mapToDouble(InferenceBench.Point::rooflineTokensPerSecond)
                            .toArray());
            pre.line(
                    v.name(),
                    x,
                    pts.stream()
                            .mapToDouble(InferenceBench.Point::prefillTokensPerSecond)
                            .toArray());
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
                for (InferenceBench.Variant v : rs) {
                    List<InferenceBench.Point> pts =
                            v.points().stream().filter(q -> q.batch() == batch).toList();
                    double[] x = pts.stream().mapToDouble(InferenceBench.Point::context).toArray();
                    p.line(
                            v.name(),
                            x,
                            pts.stream()
                                    .mapToDouble(InferenceBench.Point::decodeTokensPerSecond)
                                    .toArray());
                    p.dashed(
                            v.name() + " roofline",
                            x,
                            pts.stream()
                                    .mapToDouble(InferenceBench.Point::rooflineTokensPerSecond)
                                    .toArray());
                }
                p.write(out.resolve("decode_batch" + batch + ".png"));
            }
        }
    }
}
