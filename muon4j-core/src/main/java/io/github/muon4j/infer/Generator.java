package io.github.muon4j.infer;

import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Text generation on token ids (tokenizer-agnostic), for one prompt or a batch of prompts decoded
 * together: each prompt is prefilled into its sequence's cache, then every unfinished sequence gets
 * one token per {@link BatchDecoder} step, sampled from its logits row in Java. Sequence i of a
 * batch samples with seed {@code seed + i}, so a batch gives exactly what the same prompts give one
 * at a time.
 */
public final class Generator {

    /** Receives each new token of sequence {@code sequence} as soon as it is chosen. */
    public interface TokenSink {
        void accept(int sequence, int token);
    }

    /**
     * Figures of the last generation.
     *
     * @param sequences prompts decoded together
     * @param promptTokens prompt tokens fed, all sequences (after left truncation to the context)
     * @param generatedTokens tokens produced, all sequences
     * @param prefillSeconds time of the prompts' forward passes
     * @param decodeSeconds time of the single-token steps
     * @param cacheBytes bytes of all cache arrays (allocated)
     * @param cacheCapacity positions each sequence's cache holds
     * @param measuredBytesPerToken cacheBytes / cacheCapacity / sequences
     * @param formulaBytesPerToken kvCacheValuesPerToken() times 4 (fp32)
     */
    public record Stats(
            int sequences,
            int promptTokens,
            int generatedTokens,
            double prefillSeconds,
            double decodeSeconds,
            long cacheBytes,
            int cacheCapacity,
            double measuredBytesPerToken,
            double formulaBytesPerToken) {

        /** Decode speed: tokens produced by single-token steps (all sequences) per second. */
        public double decodeTokensPerSecond() {
            int steps = Math.max(0, generatedTokens - sequences);
            return decodeSeconds > 0 ? steps / decodeSeconds : 0;
        }
    }

    private final DecoderLM model;
    private final int threads;
    private DecoderWeights weights;
    private Stats last;

    /**
     * A generator whose thread count follows the work of a step ({@link
     * BatchDecoder#defaultThreads}).
     */
    public Generator(DecoderLM model) {
        this(model, 0);
    }

    /**
     * @param model an initialised model; its weights are copied at the first generation (a
     *     generator does not see later training: make a new one)
     * @param threads threads of each decode step; 0 chooses by the step's work ({@link
     *     BatchDecoder#defaultThreads})
     */
    public Generator(DecoderLM model, int threads) {
        if (model.manager() == null) {
            throw new IllegalArgumentException("model: initialise it before decoding");
        }
        this.model = model;
        this.threads = threads;
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
        return generate(
                new int[][] {prompt},
                maxTokens,
                s,
                onToken == null ? null : (seq, t) -> onToken.accept(t))[0];
    }

    /**
     * Generates up to {@code maxTokens} tokens after each prompt, decoding all prompts together.
     *
     * @param prompts one or more prompts of token ids (lengths may differ)
     * @param onToken called with (sequence, token) as soon as a token is chosen (may be null)
     * @return per prompt, the generated tokens; a sequence ends early after the stop token
     */
    public int[][] generate(int[][] prompts, int maxTokens, SamplingConfig s, TokenSink onToken) {
        ModelConfig c = model.config();
        if (prompts == null || prompts.length == 0) {
            throw new IllegalArgumentException("prompts: at least one is needed");
        }
        if (maxTokens < 1 || maxTokens >= c.contextLength()) {
            throw new IllegalArgumentException(
                    "max tokens: must be in [1, context_length="
                            + c.contextLength()
                            + "), got "
                            + maxTokens);
        }
        int b = prompts.length;
        int[][] p = new int[b][];
        int longest = 0, promptTokens = 0;
        for (int i = 0; i < b; i++) {
            int[] prompt = prompts[i];
            if (prompt == null || prompt.length == 0) {
                throw new IllegalArgumentException("prompt: at least one token is needed");
            }
            for (int t : prompt) {
                if (t < 0 || t >= c.vocabSize()) {
                    throw new IllegalArgumentException(
                            "prompt: token "
                                    + t
                                    + " is outside the vocabulary [0, "
                                    + c.vocabSize()
                                    + ")");
                }
            }
            int keep = Math.min(prompt.length, c.contextLength() - maxTokens);
            p[i] = Arrays.copyOfRange(prompt, prompt.length - keep, prompt.length);
            longest = Math.max(longest, keep);
            promptTokens += keep;
        }
        if (weights == null) {
            weights = new DecoderWeights(model);
        }
        int capacity = Math.max(1, longest + maxTokens - 1); // the last token is sampled, never fed
        int vocab = c.vocabSize();
        int[][] out = new int[b][maxTokens];
        int[] n = new int[b];
        Sampler[] samplers = new Sampler[b];
        float[][] first = new float[b][];
        int nThreads = threads > 0 ? threads : BatchDecoder.defaultThreads(c, b);
        try (BatchDecoder dec = new BatchDecoder(model, weights, b, capacity, nThreads)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < b; i++) {
                first[i] = dec.prefill(i, p[i]);
                samplers[i] =
                        new Sampler(
                                new SamplingConfig(
                                        s.temperature(),
                                        s.topK(),
                                        s.topP(),
                                        s.seed() + i,
                                        s.stopToken()));
            }
            long t1 = System.nanoTime();
            int[] seqs = new int[b], next = new int[b];
            float[] row = new float[vocab];
            float[] logits = null;
            int[] rows = new int[b]; // row of each sequence in the last step's logits
            int m = b;
            for (int i = 0; i < b; i++) {
                seqs[i] = i;
            }
            while (m > 0) {
                int active = 0;
                for (int j = 0; j < m; j++) {
                    int i = seqs[j];
                    float[] l = logits == null ? first[i] : copyRow(logits, rows[i], row, vocab);
                    int tok = samplers[i].sample(l);
                    out[i][n[i]++] = tok;
                    if (onToken != null) {
                        onToken.accept(i, tok);
                    }
                    if (tok != s.stopToken() && n[i] < maxTokens) {
                        rows[i] = active;
                        next[active] = tok;
                        seqs[active++] = i;
                    }
                }
                m = active;
                if (m > 0) {
                    logits = dec.step(next, seqs, m);
                }
            }
            long t2 = System.nanoTime();
            int generated = 0;
            for (int i = 0; i < b; i++) {
                out[i] = Arrays.copyOf(out[i], n[i]);
                generated += n[i];
            }
            last =
                    new Stats(
                            b,
                            promptTokens,
                            generated,
                            (t1 - t0) / 1e9,
                            (t2 - t1) / 1e9,
                            dec.cacheBytes(),
                            capacity,
                            dec.cacheBytesPerToken(),
                            4.0 * c.kvCacheValuesPerToken());
        }
        return out;
    }

    private static float[] copyRow(float[] logits, int r, float[] row, int vocab) {
        System.arraycopy(logits, r * vocab, row, 0, vocab);
        return row;
    }

    /** Figures of the last call to generate, or null before the first. */
    public Stats lastStats() {
        return last;
    }
}
