package io.github.muon4j.bench.data;

import java.util.List;

/**
 * What {@code bench data} measured.
 *
 * @param tokenize one row per tokenizer
 * @param assembly one row per prefetch setting
 */
public record DataBenchResult(List<Tokenize> tokenize, List<Assembly> assembly) {

    /** One tokenizer's figures on the built-in corpus. */
    public record Tokenize(
            String tokenizer,
            long documents,
            long bytes,
            long tokens,
            double mbPerSecond,
            double pipelineMbPerSecond) {}

    /** Batch assembly: batches/s and tokens/s for B x T windows. */
    public record Assembly(
            int batch, int seqLen, int prefetch, double batchesPerSecond, double tokensPerSecond) {}
}
