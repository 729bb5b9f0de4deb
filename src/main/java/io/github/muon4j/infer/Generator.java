package io.github.muon4j.infer;

import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Text generation on token ids (tokenizer-agnostic): prefill the prompt into a KV cache, then
 * decode one token at a time, sampling each from the last logits row in Java.
 */
public final class Generator {

    /**
     * Figures of the last generation.
     *
     * @param promptTokens prompt tokens fed (after left truncation to the context)
     * @param generatedTokens tokens produced
     * @param prefillSeconds time of the prompt's forward pass
     * @param decodeSeconds time of the single-token steps
     * @param cacheBytes bytes of all cache arrays (allocated)
     * @param cacheCapacity positions the cache holds
     * @param measuredBytesPerToken cacheBytes / cacheCapacity
     * @param formulaBytesPerToken kvCacheValuesPerToken() times the element size
     */
    public record Stats(int promptTokens, int generatedTokens, double prefillSeconds,
            double decodeSeconds, long cacheBytes, int cacheCapacity, double measuredBytesPerToken,
            double formulaBytesPerToken) {

        /** Decode speed: tokens produced by single-token steps per second. */
        public double decodeTokensPerSecond() {
            int steps = Math.max(0, generatedTokens - 1);
            return decodeSeconds > 0 ? steps / decodeSeconds : 0;
        }
    }

    private final DecoderLM model;
    private final boolean absorb;
    private Stats last;

    /** A generator with MLA in the absorbed form. */
    public Generator(DecoderLM model) {
        this(model, true);
    }

    /**
     * @param model an initialised model
     * @param absorb MLA attention in the absorbed (true) or plain (false) form
     */
    public Generator(DecoderLM model, boolean absorb) {
        this.model = model;
        this.absorb = absorb;
    }

    /**
     * Generates up to {@code maxTokens} tokens after {@code prompt}. A prompt longer than the
     * context minus maxTokens is truncated from the left.
     *
     * @param prompt token ids, at least one
     * @param onToken called with each new token as soon as it is chosen (may be null)
     * @return the generated tokens (without the prompt); ends early after the stop token
     */
    public int[] generate(int[] prompt, int maxTokens, SamplingConfig s, IntConsumer onToken) {
        ModelConfig c = model.config();
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("prompt: at least one token is needed");
        }
        if (maxTokens < 1 || maxTokens >= c.contextLength()) {
            throw new IllegalArgumentException("max tokens: must be in [1, context_length="
                    + c.contextLength() + "), got " + maxTokens);
        }
        for (int t : prompt) {
            if (t < 0 || t >= c.vocabSize()) {
                throw new IllegalArgumentException(
                        "prompt: token " + t + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
        }
        int keep = Math.min(prompt.length, c.contextLength() - maxTokens);
        int[] p = Arrays.copyOfRange(prompt, prompt.length - keep, prompt.length);
        int capacity = p.length + maxTokens - 1; // the last token is sampled, never fed
        Sampler sampler = new Sampler(s);
        int[] out = new int[maxTokens];
        int n = 0;
        try (IncrementalDecoder dec = new IncrementalDecoder(model, 1, Math.max(1, capacity), absorb)) {
            long t0 = System.nanoTime();
            float[] logits = dec.next(p);
            long t1 = System.nanoTime();
            while (true) {
                int tok = sampler.sample(logits);
                out[n++] = tok;
                if (onToken != null) {
                    onToken.accept(tok);
                }
                if (tok == s.stopToken() || n == maxTokens) {
                    break;
                }
                logits = dec.next(new int[] {tok});
            }
            long t2 = System.nanoTime();
            KvCache kv = dec.cache();
            int elementBytes = model.getParameters().get("embedding").getArray().getDataType()
                    .getNumOfBytes();
            last = new Stats(p.length, n, (t1 - t0) / 1e9, (t2 - t1) / 1e9, kv.bytes(),
                    kv.capacity(), kv.bytesPerToken(),
                    (double) c.kvCacheValuesPerToken() * elementBytes);
        }
        return Arrays.copyOf(out, n);
    }

    /** Figures of the last call to generate, or null before the first. */
    public Stats lastStats() {
        return last;
    }
}
