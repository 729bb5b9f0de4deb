package io.github.muon4j.bench.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench train}'s output: one Markdown table row per {@link TrainBenchResult} (the header
 * first, so that rows can be printed as they are measured), the external BLAS used for the best
 * ceiling, the per-phase profiles, and the JSON line.
 */
public final class TrainBenchReport {

    private TrainBenchReport() {}

    /** The table's header and separator lines. */
    public static String header() {
        return "| model | optimizer | precision | B x T | head chunk | tokens/s | s/step mean / median | optimizer share | GFLOP/token model / +optimizer | libtorch 1024^3 GFLOP/s median (min-max, n) | libtorch at model shapes | best sgemm (libtorch 2048^3 / external 2048^3 / libtorch bf16 2048^3) | load avg | MFU / HFU of best | MFU / HFU of libtorch 1024^3 | sys share of CPU | minor faults/step | step s early/late | RSS MB early/late | live arrays early/late |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    }

    /** One table row, with its line end. */
    public static String row(TrainBenchResult r) {
        return String.format(
                Locale.ROOT,
                "| %s | %s | %s | %dx%d | %s | %.0f | %.3f / %.3f | %.1f%% | %.3f / %.3f | %.1f (%.1f-%.1f, %d) | %.1f | %.1f (%.1f / %.1f / %.1f) | %.2f-%.2f | %.1f%% / %.1f%% | %.1f%% / %.1f%% | %.1f%% | %,.0f | %.3f / %.3f | %.0f / %.0f | %d / %d |%n",
                r.model(),
                r.optimizer(),
                r.precision(),
                r.batch(),
                r.seqLen(),
                r.headChunk() == 0 ? "plain" : Integer.toString(r.headChunk()),
                r.tokensPerSecond(),
                r.stepSeconds(),
                r.medianStepSeconds(),
                100 * r.optimizerShare(),
                r.flopsPerToken() / 1e9,
                r.hardwareFlopsPerToken() / 1e9,
                r.matmulGflops(),
                r.matmulGflopsMin(),
                r.matmulGflopsMax(),
                r.ceilingSamples(),
                r.modelShapesGflops(),
                r.bestGflops(),
                r.libtorch2048Gflops(),
                r.externalGflops(),
                r.libtorch2048Bf16Gflops(),
                r.loadMin(),
                r.loadMax(),
                100 * r.mfuBest(),
                100 * r.hfuBest(),
                100 * r.mfu(),
                100 * r.hfu(),
                100 * r.sysShare(),
                r.minorFaultsPerStep(),
                r.earlyStepSeconds(),
                r.lateStepSeconds(),
                r.earlyRssMb(),
                r.lateRssMb(),
                r.earlyLiveArrays(),
                r.lateLiveArrays());
    }

    /**
     * What follows the table: the external BLAS of the best ceiling (from the last result), then
     * each result's profile when it has one; empty when there are no results.
     */
    public static String footer(List<TrainBenchResult> results) {
        StringBuilder s = new StringBuilder();
        if (!results.isEmpty()) {
            s.append(
                    String.format(
                            "%nExternal BLAS: %s. Best sgemm = the largest 2048^3 rate (libtorch, external; in bf16 also libtorch's bf16), sampled before and after the steps.%n",
                            results.get(results.size() - 1).externalSource()));
            s.append(
                    "Before the timed steps: untimed warm-up steps (more than --warmup while the heap still grew), then a heap reserve (MB written and freed, so later heap growth finds resident pages):");
            for (TrainBenchResult r : results) {
                s.append(
                        String.format(
                                Locale.ROOT,
                                " %s %s %d steps, %d MB;",
                                r.optimizer(),
                                r.precision(),
                                r.warmupSteps(),
                                r.heapReserveMb()));
            }
            s.setLength(s.length() - 1);
            s.append(String.format(".%n"));
        }
        for (TrainBenchResult r : results) {
            if (r.profile() != null) {
                s.append(String.format("%n")).append(profile(r));
            }
        }
        for (TrainBenchResult r : results) {
            if (r.ops() != null) {
                s.append(String.format("%n")).append(ops(r));
            }
        }
        return s.toString();
    }

    /**
     * The operator breakdown of a result: self time per kind, the largest other operators, and the
     * utilisation the step would reach with every product at the best sgemm.
     */
    public static String ops(TrainBenchResult r) {
        OpBreakdown o = r.ops();
        StringBuilder s = new StringBuilder();
        s.append(variant(r))
                .append(
                        String.format(
                                Locale.ROOT,
                                ": of %d steps under libtorch's profiler, the one of median operator time: %.3f s (the timed steps' median %.3f), operators running %.3f s of it%n%n",
                                TrainBench.PROFILED_STEPS,
                                o.stepSeconds(),
                                r.medianStepSeconds(),
                                o.opsSeconds()));
        s.append("| operators | self s (all threads) | share |\n|---|---|---|\n");
        for (OpBreakdown.Kind k : o.kinds()) {
            s.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %.3f | %.1f%% |%n",
                            k.kind(),
                            k.seconds(),
                            100 * k.share()));
        }
        s.append(
                String.format(
                        Locale.ROOT,
                        "%nMatrix products: %.1f GFLOP in %.3f s of wall time = %.1f GFLOP/s (%.1f%% of the best sgemm, %.1f); by shape:%n%n",
                        o.productFlops() / 1e9,
                        o.productSeconds(),
                        o.productGflops(),
                        100 * o.productGflops() / r.bestGflops(),
                        r.bestGflops()));
        s.append(
                "| product (m x k @ k x n) | operator | calls | self s | GFLOP/s | of the best |\n|---|---|---|---|---|---|\n");
        for (OpBreakdown.Product p : o.products()) {
            s.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %.3f | %.1f | %.1f%% |%n",
                            p.shape(),
                            p.operator(),
                            p.calls(),
                            p.seconds(),
                            p.gflops(),
                            100 * p.gflops() / r.bestGflops()));
        }
        s.append(String.format("%nOther operators, by self time:"));
        for (OpBreakdown.Op op : o.others()) {
            s.append(
                    String.format(
                            Locale.ROOT,
                            " %s %.3f s (%d calls);",
                            op.name(),
                            op.seconds(),
                            op.calls()));
        }
        s.setLength(s.length() - 1);
        if (r.optimizer().equals("muon")) {
            s.append(
                    String.format(
                            ".%nNo bound for Muon: on a CPU its Newton-Schulz runs on several threads, and libtorch's profiler records the calling thread's operators only (the figures above miss the other threads' share of it).%n"));
            return s.toString();
        }
        double tokens = (double) r.batch() * r.seqLen();
        s.append(
                String.format(
                        Locale.ROOT,
                        ".%nWith every product at the best sgemm and the %.3f s of other operators as measured (time outside libtorch's operators left out), this step would reach MFU %.1f%% of the best (measured: %.1f%%).%n",
                        o.otherSeconds(),
                        100 * o.boundAt(r.flopsPerToken() * tokens, r.bestGflops()),
                        100 * r.mfuBest()));
        return s.toString();
    }

    /** The profile of a result as a Markdown table. */
    public static String profile(TrainBenchResult r) {
        StringBuilder s = new StringBuilder();
        s.append(variant(r)).append(String.format(": per step%n%n"));
        s.append(
                "| phase | wall s | share | user CPU s | sys CPU s | minor faults |\n|---|---|---|---|---|---|\n");
        double w = 0, u = 0, y = 0, f = 0;
        for (TrainBenchResult.Phase p : r.profile()) {
            s.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %.3f | %.1f%% | %.2f | %.2f | %,.0f |%n",
                            p.phase(),
                            p.seconds(),
                            100 * p.share(),
                            p.userSeconds(),
                            p.sysSeconds(),
                            p.minorFaults()));
            w += p.seconds();
            u += p.userSeconds();
            y += p.sysSeconds();
            f += p.minorFaults();
        }
        s.append(
                String.format(
                        Locale.ROOT,
                        "| **step** | %.3f | 100%% | %.2f | %.2f (%.0f%% of CPU) | %,.0f |%n",
                        w,
                        u,
                        y,
                        100 * y / Math.max(1e-9, u + y),
                        f));
        return s.toString();
    }

    /** "model, optimizer, precision, B x T, head chunk": which variant a section is about. */
    private static String variant(TrainBenchResult r) {
        return String.format(
                Locale.ROOT,
                "%s, %s, %s, %dx%d, head chunk %s",
                r.model(),
                r.optimizer(),
                r.precision(),
                r.batch(),
                r.seqLen(),
                r.headChunk() == 0 ? "0 (plain full logits)" : Integer.toString(r.headChunk()));
    }

    /** {"results": [...]}, one object per result with the record's component names. */
    public static JsonObject json(List<TrainBenchResult> results) {
        JsonObject o = new JsonObject();
        o.add(
                "results",
                new GsonBuilder()
                        .serializeSpecialFloatingPointValues()
                        .create()
                        .toJsonTree(results));
        return o;
    }
}
