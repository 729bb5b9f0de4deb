package io.github.muon4j.bench;

import io.github.muon4j.corpus.Europarl;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Data speed: tokenization MB/s of each tokenizer on the built-in corpus (one thread, and the
 * pipeline's parallel tokenize-and-cache), and batch assembly rate from a cached dataset.
 */
public final class DataBench {

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

    private DataBench() {}

    public static List<Tokenize> tokenize(List<String> names) throws Exception {
        List<String> docs = Europarl.documents();
        long bytes = 0;
        for (String d : docs) {
            bytes += d.getBytes(StandardCharsets.UTF_8).length;
        }
        List<Tokenize> out = new ArrayList<>();
        for (String name : names) {
            Tokenizer t = Tokenizers.byName(name);
            t.encode(docs.get(0)); // load the vocabulary outside the timing
            long t0 = System.nanoTime(), tokens = 0;
            for (String d : docs) {
                tokens += t.encode(d).length;
            }
            double single = bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
            Path cache = Files.createTempDirectory("muon4j-bench");
            long p0 = System.nanoTime();
            DataSets.tokens(null, t, cache, null, "text");
            double pipeline = bytes / 1e6 / ((System.nanoTime() - p0) / 1e9);
            try (var s = Files.walk(cache)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            out.add(new Tokenize(name, docs.size(), bytes, tokens, single, pipeline));
        }
        return out;
    }

    public static Assembly assemble(TokenDataset data, int b, int t, int prefetch, int batches) {
        try (BatchLoader l = new BatchLoader(data, b, t, 1, BatchLoader.Order.RANDOM, prefetch)) {
            for (int i = 0; i < 20; i++) {
                l.next();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                l.next();
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            return new Assembly(b, t, prefetch, batches / sec, (double) batches * b * t / sec);
        }
    }

    /** Measures tokenization and batch assembly and prints them as Markdown tables. */
    public static void report(java.io.PrintStream out) throws Exception {
        out.println(
                "| tokenizer | documents | MB | tokens | bytes/token | MB/s (1 thread) | MB/s end to end (read corpus, filter, tokenize in parallel, write cache) |");
        out.println("|---|---|---|---|---|---|---|");
        for (Tokenize r : tokenize(List.of("byte", "gpt2", "cl100k"))) {
            out.printf(
                    "| %s | %,d | %.2f | %,d | %.2f | %.1f | %.1f |%n",
                    r.tokenizer(),
                    r.documents(),
                    r.bytes() / 1e6,
                    r.tokens(),
                    (double) r.bytes() / r.tokens(),
                    r.mbPerSecond(),
                    r.pipelineMbPerSecond());
        }
        Path cache = Files.createTempDirectory("muon4j-bench");
        TokenDataset d = DataSets.tokens(null, Tokenizers.byName("gpt2"), cache, null, "text");
        out.println();
        out.println("| B x T | prefetch | batches/s | tokens/s |");
        out.println("|---|---|---|---|");
        for (int prefetch : new int[] {0, 4}) {
            Assembly a = assemble(d, 8, 512, prefetch, 2000);
            out.printf(
                    "| %dx%d | %d | %.0f | %.3g |%n",
                    a.batch(), a.seqLen(), a.prefetch(), a.batchesPerSecond(), a.tokensPerSecond());
        }
    }
}
