package io.github.muon4j.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Muon-vs-AdamW study: the comparison protocol ({@link Compare}) at three model sizes, the
 * batch-size frontier, a stability grid and the architecture grid (MHA/MLA x dense/MoE x
 * Muon/AdamW). Every run goes through a {@link RunCache}, so the study can be stopped at any point
 * and resumed, and its report can be regenerated from the stored summaries alone.
 */
public final class Study {

    /**
     * The study's sizes and budgets.
     *
     * @param seqLen, batchSize, steps, evalEvery, evalWindows the size comparisons' runs (and the
     *     architecture grid's); evaluation windows divide every batch size so that every run is scored
     *     on the same held-out tokens
     * @param frontierTokens tokens per frontier run (the same for every batch size)
     * @param stabilityExponents learning rates k x the size-S optimum, k = 2^e for each e
     */
    public record Settings(
            String name, int seqLen, int batchSize, int steps, int evalEvery, int evalWindows, List<Long> seeds,
            List<Integer> frontierBatches, long frontierTokens, List<Long> frontierSeeds, int frontierCap,
            int stabilitySteps, List<Integer> stabilityExponents, List<Long> stabilitySeeds,
            int archSteps, List<Long> archSeeds, double factor, int cap, double delta) {}

    public static Settings full() {
        return new Settings("full", 128, 16, 300, 20, 128, List.of(1L, 2L, 3L), List.of(4, 8, 16, 32), 300L * 16 * 128, List.of(1L, 2L), 5,
                100, List.of(-3, -2, -1, 0, 1, 2, 3), List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), 300, List.of(1L, 2L, 3L), 2, 7, 0.01);
    }

    public static Settings quick() {
        return new Settings("quick", 64, 8, 60, 10, 64, List.of(1L, 2L), List.of(2, 4, 8, 16), 60L * 8 * 64, List.of(1L, 2L), 4,
                30, List.of(-2, -1, 0, 1, 2), List.of(1L, 2L), 60, List.of(1L, 2L), 2, 6, 0.01);
    }

    /** A model size: overrides of the tiny preset (byte tokens). */
    public record Size(String name, String model) {}

    public static final List<Size> SIZES = List.of(
            new Size("S", "{\"n_layers\": 2, \"d_model\": 128, \"n_heads\": 4}"),
            new Size("M", null),
            new Size("L", "{\"n_layers\": 6, \"d_model\": 256, \"n_heads\": 8}"));

    public static final List<String> ARCHS = List.of("mha-dense", "mla-dense", "mha-moe", "mla-moe");

    /** One batch size x optimizer of the frontier. */
    public record FrontierCell(int batch, String optimizer, LrSearch.Result search, List<RunSummary> runs) {}

    /** One architecture x optimizer of the grid. */
    public record ArchCell(String arch, String optimizer, double lr, List<RunSummary> runs) {}

    public record Result(
            Settings settings, TrainConfig base, Map<String, Compare.Result> sizes, Map<String, Long> nonEmbedding, List<FrontierCell> frontier,
            List<RunSummary> stability, Map<String, Double> stabilityCenters, List<ArchCell> arch, List<String> incomplete) {}

    private Study() {}

    /** The base configuration of every study run (before size, optimizer, rate, seed). */
    public static TrainConfig base(TrainConfig user, Settings s) {
        return user.overlay(String.format(Locale.ROOT,
                "{\"preset\": \"tiny\", \"attention\": \"mha\", \"ffn\": \"dense\", \"tokenizer\": \"byte\", \"seq_len\": %d, \"batch_size\": %d, "
                        + "\"steps\": %d, \"warmup\": %d, \"eval_every\": %d, \"eval_batches\": %d, \"schedule\": \"cosine\", \"grad_accum\": 1}",
                s.seqLen(), s.batchSize(), s.steps(), s.steps() / 10, s.evalEvery(), s.evalWindows() / s.batchSize()), "study").validate();
    }

    static TrainConfig sized(TrainConfig base, Size size) {
        return size.model() == null ? base : base.overlay("{\"model\": " + size.model() + "}", "study size " + size.name());
    }

    /** Batch size b with the same tokens per run, evaluation windows and warm-up fraction. */
    static TrainConfig batch(TrainConfig c, Settings s, int b, long tokens, int evals) {
        int steps = (int) Math.max(1, tokens / ((long) b * c.seqLen()));
        return c.overlay(String.format(Locale.ROOT, "{\"batch_size\": %d, \"steps\": %d, \"warmup\": %d, \"eval_every\": %d, \"eval_batches\": %d}",
                b, steps, steps / 10, Math.max(1, steps / evals), Math.max(1, s.evalWindows() / b)), "study frontier").validate();
    }

    /** The parts of the study, in the order they run. */
    public static final List<String> PARTS = List.of("sizeS", "sizeM", "stability", "frontier", "sizeL", "arch");

    /**
     * How {@code --jobs 2} shares the parts: the first job trains size S and what starts from its
     * rates (stability, frontier), then the grid (which needs size M's rates, ready long before);
     * the second trains sizes M and L. Each job's parts keep {@link #PARTS}' order.
     */
    public static final List<List<String>> JOBS = List.of(List.of("sizeS", "stability", "frontier", "arch"), List.of("sizeM", "sizeL"));

    /** The selected parts as one set per job (1 or 2 jobs; a job left without parts is dropped). */
    public static List<java.util.Set<String>> split(java.util.Set<String> parts, int jobs) {
        if (jobs == 1) {
            return List.of(parts);
        }
        List<java.util.Set<String>> out = new ArrayList<>();
        for (List<String> job : JOBS) {
            java.util.Set<String> mine = new java.util.LinkedHashSet<>();
            PARTS.stream().filter(p -> job.contains(p) && parts.contains(p)).forEach(mine::add);
            if (!mine.isEmpty()) {
                out.add(mine);
            }
        }
        return out;
    }

    public static Result run(TrainConfig user, Settings s, RunCache cache, PrintStream log) throws IOException {
        return run(user, s, cache, log, java.util.Set.copyOf(PARTS), false);
    }

    /**
     * Runs the selected {@code parts} (the others only read what the cache holds, so that several
     * processes can share the work: one per part, all writing to the same summaries).
     */
    public static Result run(TrainConfig user, Settings s, RunCache cache, PrintStream log, java.util.Set<String> parts, boolean reportOnly)
            throws IOException {
        TrainConfig base = base(user, s);
        List<String> incomplete = new ArrayList<>();
        Compare.Protocol p = new Compare.Protocol(List.of(0.01, 0.02, 0.04), List.of(1e-3, 2e-3, 4e-3), s.factor(), s.cap(), s.delta());
        Map<String, Compare.Result> sizes = new LinkedHashMap<>();
        Map<String, Long> nonEmb = new LinkedHashMap<>();
        List<FrontierCell> frontier = new ArrayList<>();
        List<RunSummary> stability = new ArrayList<>();
        Map<String, Double> centers = new LinkedHashMap<>();
        List<ArchCell> arch = new ArrayList<>();
        // the order favours what the others need: size S (frontier and stability start from its rates), M (the grid's rates)
        for (Size size : List.of(SIZES.get(0), SIZES.get(1))) {
            cache.offline(reportOnly || !parts.contains("size" + size.name()));
            sizeRun(base, size, s, p, cache, log, sizes, nonEmb, incomplete);
        }
        Compare.Result small = sizes.get("S");
        if (small != null) {
            cache.offline(reportOnly || !parts.contains("stability"));
            stability(sized(base, SIZES.get(0)), s, small, cache, log, stability, centers, incomplete);
            cache.offline(reportOnly || !parts.contains("frontier"));
            frontier(sized(base, SIZES.get(0)), s, small, cache, log, frontier, incomplete);
        } else {
            incomplete.add("stability and frontier: wait for size S's tuning");
        }
        cache.offline(reportOnly || !parts.contains("sizeL"));
        sizeRun(base, SIZES.get(2), s, p, cache, log, sizes, nonEmb, incomplete);
        Compare.Result mid = sizes.get("M");
        if (mid == null && !reportOnly) { // another process (study --jobs 2) may have finished size M meanwhile
            cache.offline(true);
            List<String> still = new ArrayList<>();
            sizeRun(base, SIZES.get(1), s, p, cache, log, sizes, nonEmb, still);
            mid = sizes.get("M");
            if (mid != null) {
                incomplete.removeIf(x -> x.startsWith("size M"));
            }
        }
        if (mid != null) {
            cache.offline(reportOnly || !parts.contains("arch"));
            archGrid(base, s, mid, cache, log, arch, incomplete);
        } else {
            incomplete.add("architecture grid: waits for size M's tuning");
        }
        for (Size size : SIZES) {
            nonEmb.putIfAbsent(size.name(), Cost.of(sized(base, size)).nonEmbeddingParams());
        }
        return new Result(s, base, sizes, nonEmb, frontier, stability, centers, arch, incomplete);
    }

    private static void sizeRun(TrainConfig base, Size size, Settings s, Compare.Protocol p, RunCache cache, PrintStream log,
            Map<String, Compare.Result> sizes, Map<String, Long> nonEmb, List<String> incomplete) throws IOException {
        TrainConfig c = sized(base, size);
        nonEmb.put(size.name(), Cost.of(c).nonEmbeddingParams());
        log.printf("study: size %s (%,d non-embedding parameters)%n", size.name(), nonEmb.get(size.name()));
        try {
            sizes.put(size.name(), Compare.run(c, p, s.seeds(), "size" + size.name() + "-", cache, log));
        } catch (RunCache.NotCached e) {
            incomplete.add("size " + size.name() + ": not finished (next run: " + e.getMessage() + ")");
        }
    }

    private static void stability(TrainConfig c, Settings s, Compare.Result small, RunCache cache, PrintStream log, List<RunSummary> out,
            Map<String, Double> centers, List<String> incomplete) throws IOException {
        TrainConfig sc = c.overlay(String.format(Locale.ROOT, "{\"steps\": %d, \"warmup\": %d, \"eval_every\": %d}", s.stabilitySteps(),
                s.stabilitySteps() / 10, Math.max(1, s.stabilitySteps() / 5)), "study stability").validate();
        int missing = 0;
        log.println("study: stability grid");
        for (String opt : new String[] {"muon", "adamw"}) {
            double center = opt.equals("muon") ? small.muonSearch().best() : small.adamwSearch().best();
            centers.put(opt, center);
            for (int e : s.stabilityExponents()) {
                double lr = center * Math.pow(2, e);
                for (long seed : s.stabilitySeeds()) {
                    try {
                        out.add(cache.get(Compare.label("stab-", opt, lr, seed), Compare.arm(sc, opt, lr, seed)));
                    } catch (RunCache.NotCached x) {
                        missing++;
                    }
                }
            }
        }
        if (missing > 0) {
            incomplete.add("stability: " + missing + " of " + (out.size() + missing) + " runs not yet trained");
        }
    }

    private static void frontier(TrainConfig c, Settings s, Compare.Result small, RunCache cache, PrintStream log, List<FrontierCell> out,
            List<String> incomplete) throws IOException {
        log.println("study: batch-size frontier");
        int evals = Math.max(2, s.steps() / s.evalEvery());
        for (int b : s.frontierBatches()) {
            TrainConfig bc = batch(c, s, b, s.frontierTokens(), evals);
            for (String opt : new String[] {"muon", "adamw"}) {
                double center = opt.equals("muon") ? small.muonSearch().best() : small.adamwSearch().best();
                Compare.Protocol p = new Compare.Protocol(List.of(center / 2, center, center * 2), List.of(center / 2, center, center * 2), s.factor(),
                        s.frontierCap(), s.delta());
                try {
                    LrSearch.Result r = Compare.tune(bc, opt, opt.equals("muon") ? p.muonGrid() : p.adamwGrid(), p, s.frontierSeeds().get(0),
                            "bs" + b + "-", cache, new ArrayList<>());
                    List<RunSummary> runs = new ArrayList<>();
                    for (long seed : s.frontierSeeds()) {
                        runs.add(cache.get(Compare.label("bs" + b + "-", opt, r.best(), seed), Compare.arm(bc, opt, r.best(), seed)));
                    }
                    out.add(new FrontierCell(b, opt, r, runs));
                } catch (RunCache.NotCached x) {
                    incomplete.add("frontier: batch " + b + " " + opt + " not finished");
                }
            }
        }
    }

    private static void archGrid(TrainConfig base, Settings s, Compare.Result mid, RunCache cache, PrintStream log, List<ArchCell> out,
            List<String> incomplete) throws IOException {
        log.println("study: architecture grid");
        TrainConfig c = base.overlay(String.format(Locale.ROOT, "{\"steps\": %d, \"warmup\": %d}", s.archSteps(), s.archSteps() / 10), "study arch")
                .validate();
        int missing = 0;
        for (String a : ARCHS) {
            String[] af = a.split("-");
            TrainConfig ac = c.overlay("{\"attention\": \"" + af[0] + "\", \"ffn\": \"" + af[1] + "\"}", "study arch");
            for (String opt : new String[] {"muon", "adamw"}) {
                double lr = opt.equals("muon") ? mid.muonSearch().best() : mid.adamwSearch().best();
                List<RunSummary> runs = new ArrayList<>();
                for (long seed : s.archSeeds()) {
                    try {
                        runs.add(cache.get(Compare.label("arch-" + a + "-", opt, lr, seed), Compare.arm(ac, opt, lr, seed)));
                    } catch (RunCache.NotCached x) {
                        missing++;
                    }
                }
                out.add(new ArchCell(a, opt, lr, runs));
            }
        }
        if (missing > 0) {
            incomplete.add("architecture grid: " + missing + " runs not yet trained");
        }
    }

    /** The model overrides of a size as a JSON object (null for the preset itself). */
    static JsonObject model(Size s) {
        return s.model() == null ? null : JsonParser.parseString(s.model()).getAsJsonObject();
    }
}
