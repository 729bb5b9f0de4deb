package io.github.muon4j.experiment;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.muon4j.Backend;
import io.github.muon4j.infer.IncrementalDecoder;
import io.github.muon4j.model.Attention;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Ffn;
import io.github.muon4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MLA and MoE at inference: the four variants (MHA/MLA x dense/MoE) at the same depth and width,
 * each decoding with its KV cache (MLA in the absorbed form) after a prefill of {@code context}
 * tokens. Weights are random (seeded): speed and memory do not depend on training.
 */
public final class InferenceBench {

    /** One variant at one context length. */
    public record Point(int context, double prefillTokensPerSecond, double decodeTokensPerSecond, long cacheBytes) {}

    /** One variant. */
    public record Variant(
            String name,
            long totalParams,
            long activeParams,
            long kvCacheBytesPerTokenFormula,
            double kvCacheBytesPerTokenMeasured,
            List<Point> points) {}

    private InferenceBench() {}

    /** The four variants of a preset, in the order MHA dense, MLA dense, MHA MoE, MLA MoE. */
    public static Map<String, ModelConfig> variants(ModelConfig base) {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("mha-dense", base.withAttention(Attention.MHA).withFfn(Ffn.DENSE));
        m.put("mla-dense", base.withAttention(Attention.MLA).withFfn(Ffn.DENSE));
        m.put("mha-moe", base.withAttention(Attention.MHA).withFfn(Ffn.MOE));
        m.put("mla-moe", base.withAttention(Attention.MLA).withFfn(Ffn.MOE));
        return m;
    }

    /**
     * @param contexts prompt lengths to prefill before decoding
     * @param newTokens tokens decoded (timed) after each prefill
     * @param reps repetitions; the best (least disturbed) is kept
     */
    public static Variant run(String name, ModelConfig c, int[] contexts, int newTokens, int reps) {
        Backend backend = Backend.get();
        try (NDManager manager = backend.newManager()) {
            DecoderLM model = new DecoderLM(c);
            model.initialize(manager, DataType.FLOAT32);
            SplittableRandom rnd = new SplittableRandom(7);
            List<Point> points = new ArrayList<>();
            double measuredPerToken = Double.NaN;
            for (int ctx : contexts) {
                if (ctx + newTokens > c.contextLength()) {
                    throw new IllegalArgumentException(
                            "context " + ctx + " + " + newTokens + " new tokens exceeds the model's context length " + c.contextLength());
                }
                int[] prompt = rnd.ints(ctx, 0, c.vocabSize()).toArray();
                double bestPrefill = 0, bestDecode = 0;
                long cacheBytes = 0;
                for (int r = 0; r < Math.max(1, reps); r++) {
                    try (IncrementalDecoder dec = new IncrementalDecoder(model, 1, ctx + newTokens, true)) {
                        long t0 = System.nanoTime();
                        float[] logits = dec.next(prompt);
                        long t1 = System.nanoTime();
                        for (int i = 0; i < newTokens; i++) {
                            logits = dec.next(new int[] {argmax(logits)});
                        }
                        long t2 = System.nanoTime();
                        bestPrefill = Math.max(bestPrefill, ctx / ((t1 - t0) / 1e9));
                        bestDecode = Math.max(bestDecode, newTokens / ((t2 - t1) / 1e9));
                        cacheBytes = dec.cache().bytes();
                        measuredPerToken = dec.cache().bytesPerToken();
                    }
                }
                points.add(new Point(ctx, bestPrefill, bestDecode, cacheBytes));
            }
            return new Variant(name, c.totalParams(), c.activeParams(), c.kvCacheValuesPerToken() * 4, measuredPerToken, points);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
