package io.github.muon4j.bench.data;

/** {@code bench data}'s output: a {@link DataBenchResult} as two Markdown tables. */
public final class DataBenchReport {

    private DataBenchReport() {}

    public static String markdown(DataBenchResult r) {
        StringBuilder b = new StringBuilder();
        b.append(
                "| tokenizer | documents | MB | tokens | bytes/token | MB/s (1 thread) | MB/s end to end (read corpus, filter, tokenize in parallel, write cache) |\n");
        b.append("|---|---|---|---|---|---|---|\n");
        for (DataBenchResult.Tokenize t : r.tokenize()) {
            b.append(
                    String.format(
                            "| %s | %,d | %.2f | %,d | %.2f | %.1f | %.1f |%n",
                            t.tokenizer(),
                            t.documents(),
                            t.bytes() / 1e6,
                            t.tokens(),
                            (double) t.bytes() / t.tokens(),
                            t.mbPerSecond(),
                            t.pipelineMbPerSecond()));
        }
        b.append("\n| B x T | prefetch | batches/s | tokens/s |\n|---|---|---|---|\n");
        for (DataBenchResult.Assembly a : r.assembly()) {
            b.append(
                    String.format(
                            "| %dx%d | %d | %.0f | %.3g |%n",
                            a.batch(),
                            a.seqLen(),
                            a.prefetch(),
                            a.batchesPerSecond(),
                            a.tokensPerSecond()));
        }
        return b.toString();
    }
}
