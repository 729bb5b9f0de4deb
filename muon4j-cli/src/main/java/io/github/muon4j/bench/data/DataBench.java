package io.github.muon4j.bench.data;

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

    private DataBench() {}

    public static List<DataBenchResult.Tokenize> tokenize(List<String> names) throws Exception {
        List<String> docs = Europarl.documents();
        long bytes = 0;
        for (String d : docs) {
            bytes += d.getBytes(StandardCharsets.UTF_8).length;
        }
        List<DataBenchResult.Tokenize> out = new ArrayList<>();
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
            out.add(
                    new DataBenchResult.Tokenize(
                            name, docs.size(), bytes, tokens, single, pipeline));
        }
        return out;
    }

    public static DataBenchResult.Assembly assemble(
            TokenDataset data, int b, int t, int prefetch, int batches) {
        try (BatchLoader l = new BatchLoader(data, b, t, 1, BatchLoader.Order.RANDOM, prefetch)) {
            for (int i = 0; i < 20; i++) {
                l.next();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                l.next();
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            return new DataBenchResult.Assembly(
                    b, t, prefetch, batches / sec, (double) batches * b * t / sec);
        }
    }

    /**
     * The figures of {@code bench data}: the byte, gpt2 and cl100k tokenizers on the built-in
     * corpus, then batch assembly of 8 x 512 windows from its gpt2 cache without and with prefetch.
     */
    public static DataBenchResult run() throws Exception {
        List<DataBenchResult.Tokenize> tokenize = tokenize(List.of("byte", "gpt2", "cl100k"));
        Path cache = Files.createTempDirectory("muon4j-bench");
        TokenDataset d = DataSets.tokens(null, Tokenizers.byName("gpt2"), cache, null, "text");
        List<DataBenchResult.Assembly> assembly = new ArrayList<>();
        for (int prefetch : new int[] {0, 4}) {
            assembly.add(assemble(d, 8, 512, prefetch, 2000));
        }
        return new DataBenchResult(tokenize, assembly);
    }
}
