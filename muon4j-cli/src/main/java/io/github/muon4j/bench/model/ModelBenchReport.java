package io.github.muon4j.bench.model;

import java.util.Locale;

/** {@code bench model}'s output: a {@link ModelBenchResult} as Markdown tables. */
public final class ModelBenchReport {

    private ModelBenchReport() {}

    /** The results as markdown tables. */
    public static String markdown(ModelBenchResult r) {
        StringBuilder b = new StringBuilder();
        ModelBench.Options o = r.options();
        b.append(
                String.format(
                        Locale.ROOT,
                        "preset %s, seq %d, batch %d, %d timed reps after 1 warm-up, %d intra-op threads;"
                                + " fp32 matmul ceiling %.1f GFLOP/s (1024^3, same run)%n%n",
                        o.preset(),
                        o.seq(),
                        o.batch(),
                        o.reps(),
                        r.threads(),
                        r.matmulGflops()));
        b.append(
                "Forward+backward (cross-entropy), GFLOP/s = flopsPerToken(seq) x tokens / time\n\n");
        b.append(
                "| attention | ffn | total params | active params | s/step | us/token |"
                        + " GFLOP/s | of matmul ceiling |\n|---|---|---|---|---|---|---|---|\n");
        for (ModelBenchResult.Train t : r.train()) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %,d | %,d | %.2f | %.0f | %.1f | %.0f%% |%n",
                            t.attention().name(),
                            t.ffn().name(),
                            t.totalParams(),
                            t.activeParams(),
                            t.secondsPerStep(),
                            t.microsPerToken(),
                            t.gflops(),
                            100 * t.mfu()));
        }
        b.append(
                String.format(
                        Locale.ROOT,
                        "%nMoE layer vs dense SwiGLU of the same active size, forward+backward on %d"
                                + " tokens: MoE %.1f ms, dense %.1f ms, ratio %.2fx%n%n",
                        r.layer().tokens(),
                        r.layer().moeMillis(),
                        r.layer().denseMillis(),
                        r.layer().ratio()));
        b.append(
                String.format(
                        Locale.ROOT,
                        "Decode, batch 1, greedy, median of %d single-token"
                                + " steps after a prefill of `context` tokens%n%n",
                        o.decodeTokens()));
        b.append(
                "| attention | ffn | context | decode tokens/s | KV cache bytes/token (measured) |"
                        + "\n|---|---|---|---|---|\n");
        for (ModelBenchResult.Decode d : r.decode()) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %.1f | %,.0f |%n",
                            d.attention().name(),
                            d.ffn().name(),
                            d.context(),
                            d.tokensPerSecond(),
                            d.cacheBytesPerToken()));
        }
        return b.toString();
    }
}
