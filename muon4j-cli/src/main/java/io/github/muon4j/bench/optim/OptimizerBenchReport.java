package io.github.muon4j.bench.optim;

import java.util.Locale;

/**
 * {@code bench optim}'s output: the figures of an {@link OptimizerBenchResult} as a Markdown table.
 */
public final class OptimizerBenchReport {

    private OptimizerBenchReport() {}

    /** A Markdown table of the figures. */
    public static String markdown(OptimizerBenchResult r) {
        StringBuilder b = new StringBuilder();
        b.append(
                String.format(
                        Locale.ROOT,
                        "%d layers, d_model %d, ffn %d: %d hidden matrices, %d threads,"
                                + " medians of %d interleaved rounds%n%n",
                        r.layers(),
                        r.dModel(),
                        r.ffn(),
                        r.parameters(),
                        r.threads(),
                        r.rounds()));
        b.append("| measure | value |\n|---|---|\n");
        row(
                b,
                "fp32 matmul rate, Backend.matmulGflops(d_model)",
                "%.1f GFLOP/s (min %.1f, max %.1f over %d rounds)",
                r.matmulGflops(),
                r.matmulGflopsMin(),
                r.matmulGflopsMax(),
                r.rounds());
        row(b, "load average (1 min) during the rounds", "%.2f-%.2f", r.loadMin(), r.loadMax());
        row(b, "fp32 matmul rate, outputs freed each call", "%.1f GFLOP/s", r.steadyMatmulGflops());
        row(b, "Newton-Schulz FLOPs per step (5 iterations)", "%.2f GFLOP", r.nsFlops() / 1e9);
        row(b, "Newton-Schulz, same-shape stacks batched", "%.1f ms", r.nsBatchedMs());
        row(
                b,
                "Newton-Schulz rate, batched",
                "%.1f GFLOP/s (%.0f%% / %.0f%% of matmul)",
                r.nsGflops(),
                100 * r.nsGflops() / r.matmulGflops(),
                100 * r.nsGflops() / r.steadyMatmulGflops());
        row(b, "Newton-Schulz, one matrix per call", "%.1f ms", r.nsOneByOneMs());
        row(
                b,
                "Newton-Schulz rate, one by one",
                "%.1f GFLOP/s (%.0f%% / %.0f%% of matmul)",
                r.nsOneByOneGflops(),
                100 * r.nsOneByOneGflops() / r.matmulGflops(),
                100 * r.nsOneByOneGflops() / r.steadyMatmulGflops());
        row(
                b,
                "Muon step, Muon.step default (on CPU: parameters side by side, one per thread)",
                "%.1f ms",
                r.muonStepMs());
        row(b, "Muon step, Muon.step stacking same shapes", "%.1f ms", r.muonStackedMs());
        row(b, "Muon step, one by one (Muon.update)", "%.1f ms", r.muonOneByOneMs());
        row(b, "our AdamW step", "%.1f ms", r.adamWStepMs());
        row(b, "DJL AdamW step (Optimizer.adamW())", "%.1f ms", r.djlAdamWStepMs());
        row(
                b,
                "Muon budget: NS FLOPs at matmul rate + AdamW step",
                "%.1f ms (Muon at %.2fx)",
                r.muonBudgetMs(),
                r.muonStepMs() / r.muonBudgetMs());
        double steadyBudget = r.nsFlops() / (r.steadyMatmulGflops() * 1e6) + r.adamWStepMs();
        row(
                b,
                "same, at the freed-outputs matmul rate",
                "%.1f ms (Muon at %.2fx)",
                steadyBudget,
                r.muonStepMs() / steadyBudget);
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String fmt, Object... v) {
        b.append("| ")
                .append(name)
                .append(" | ")
                .append(String.format(Locale.ROOT, fmt, v))
                .append(" |\n");
    }
}
