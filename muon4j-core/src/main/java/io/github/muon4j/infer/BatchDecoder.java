package io.github.muon4j.infer;

import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import java.util.Arrays;

/**
 * Decodes a batch of sequences one token per step in plain Java over a {@link DecoderWeights} copy:
 * a step's cost is the bytes it must read (every weight matrix once for the whole batch, each
 * sequence's cache once) and the FLOPs it must do; nothing is allocated, parsed or sent to a native
 * library per token. Logits equal those of {@link DecoderLM#forward} (to float rounding).
 *
 * <p>This class holds the step loop: per layer x += Attention(RMSNorm(x)), then x +=
 * FFN(RMSNorm(x)), and the LM head on the final RMSNorm. The components are {@link MhaAttention} or
 * {@link MlaAttention} (absorbed, over a latent cache), {@link DenseFfn} (SwiGLU) and {@link
 * MoeFfn} (routed and shared experts), with {@link Rope} and {@link RmsNorm}; each reports its own
 * {@link Work} per step and layer.
 *
 * <p>Each sequence has its own preallocated cache, written in place, and its own position, so
 * sequences of different lengths decode together. Cache layout per layer and sequence:
 *
 * <pre>
 * MHA: keys and values, each (n_heads, capacity, head_dim), after RoPE for the keys
 * MLA: one row per position [c | k_pe] (capacity, kv_lora_rank + qk_rope_head_dim), c after its
 *      RMSNorm and k_pe after RoPE (the same values as {@link KvCache})
 * </pre>
 *
 * <p>Work is split over a small team of threads by output rows (matrix products) and by (sequence,
 * head group) (attention). A prompt is prefilled through the DJL model ({@link #prefill}), whose
 * batched matrix products are faster for many tokens, and its cache copied in.
 */
public final class BatchDecoder implements AutoCloseable {

    /**
     * Work of the decode steps since the last {@link #resetWork()}: weight and cache bytes are the
     * bytes each step must read (every matrix used once per step, each sequence's cache entries for
     * the attended positions), FLOPs count 2 per multiply-add of matrix products and attention.
     */
    public record Work(
            long steps, long tokens, double flops, double weightBytes, double cacheBytes) {}

    /**
     * Below this many multiply-adds a section runs on the calling thread alone: 2^18 (a 512 x 512
     * product, ~30-50 us on one core) is several times the cost of handing work to another thread
     * on a shared machine, where that thread may not be scheduled at once.
     */
    private static final long PARALLEL_MIN = 1 << 18;

    /**
     * Below this many matrix multiply-adds per decode step (active matrix parameters x batch) one
     * thread decodes faster than several: the tiny preset (192 wide, ~1.8M) measured 4,339 tokens/s
     * on one thread and 525 on two on the 2-core machine.
     */
    static final long SINGLE_THREAD_STEP_MACS = 8L << 20;

    /**
     * The thread count for decoding {@code batch} sequences of {@code c}: 1 for small steps, else
     * all cores.
     */
    public static int defaultThreads(ModelConfig c, int batch) {
        int cores = Runtime.getRuntime().availableProcessors();
        return c.size().activeMatrixParams() * (long) batch < SINGLE_THREAD_STEP_MACS ? 1 : cores;
    }

    private final DecoderLM model;
    private final DecoderWeights w;
    private final ModelConfig c;
    private final Team team;
    private final int batch;
    private final int capacity;
    private final int d;
    private final int vocab;
    private final Attention attention;
    private final DenseFfn dense;
    private final MoeFfn moe; // null for a dense model
    private final WorkTally work = new WorkTally();
    private final int[] pos; // [batch]: next position of each sequence
    private final int[] identity; // [batch]: 0, 1, .., batch - 1 (row i is sequence i)
    private final StepRows rows; // the rows of the current step
    private final float[] x; // [batch, d]: the residual stream
    private final float[] xn; // [batch, d]: x after an RMSNorm
    private final float[] out; // [batch, d]: an attention or feed-forward output
    private final float[] logits; // [batch, vocab]

    /**
     * @param model an initialised model (its weights are copied)
     * @param batch sequences decoded together
     * @param capacity positions each sequence's cache holds (may exceed the training context: RoPE
     *     positions are computed)
     * @param threads threads taking part in each step (1 = the caller only)
     */
    public BatchDecoder(DecoderLM model, int batch, int capacity, int threads) {
        this(model, new DecoderWeights(model), batch, capacity, threads);
    }

    /** As above, sharing a weight copy already taken from {@code model}. */
    public BatchDecoder(
            DecoderLM model, DecoderWeights weights, int batch, int capacity, int threads) {
        this(model, weights, batch, capacity, threads, Kernels.get());
    }

    /** With the given kernels (tests compare the SIMD and plain ones). */
    BatchDecoder(
            DecoderLM model,
            DecoderWeights weights,
            int batch,
            int capacity,
            int threads,
            Kernels kernels) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch: must be at least 1, got " + batch);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException(
                    "kv cache capacity: must be positive, got " + capacity);
        }
        this.model = model;
        this.w = weights;
        this.c = weights.config;
        this.batch = batch;
        this.capacity = capacity;
        this.team = new Team(kernels, threads, PARALLEL_MIN);
        d = c.dModel();
        vocab = c.vocabSize();
        attention =
                c.attention() == AttentionKind.MLA
                        ? new MlaAttention(c, team, batch, capacity)
                        : new MhaAttention(c, team, batch, capacity);
        dense = new DenseFfn(weights, team, batch);
        moe = c.ffn() == FfnKind.MOE ? new MoeFfn(c, dense, team, batch) : null;
        pos = new int[batch];
        rows = new StepRows(batch);
        identity = new int[batch];
        for (int b = 0; b < batch; b++) {
            identity[b] = b;
        }
        x = new float[batch * d];
        xn = new float[batch * d];
        out = new float[batch * d];
        logits = new float[batch * vocab];
    }

    public int batch() {
        return batch;
    }

    public int capacity() {
        return capacity;
    }

    /** Absolute position of the next token of sequence {@code seq}. */
    public int position(int seq) {
        return pos[seq];
    }

    /** Forgets positions from {@code p} on (p at most the current position): they are rewritten. */
    public void rewind(int seq, int p) {
        if (p < 0 || p > pos[seq]) {
            throw new IllegalArgumentException(
                    "rewind: position " + p + " outside [0, " + pos[seq] + "]");
        }
        pos[seq] = p;
    }

    /** Copies sequence {@code from}'s cache and position onto sequence {@code to}. */
    public void copySequence(int from, int to) {
        attention.copySequence(from, to, pos[from]);
        pos[to] = pos[from];
    }

    /** Sections of fewer multiply-adds run on one thread (tests lower it to 1). */
    void parallelMin(long macs) {
        team.parallelMin(macs);
    }

    /** The kernels in use. */
    public Kernels kernels() {
        return team.k;
    }

    public int threads() {
        return team.threads();
    }

    /** Bytes of all cache arrays as allocated. */
    public long cacheBytes() {
        return attention.cacheBytes();
    }

    /** {@link #cacheBytes()} per position of one sequence. */
    public double cacheBytesPerToken() {
        return cacheBytes() / (double) capacity / batch;
    }

    public Work work() {
        return work.snapshot();
    }

    public void resetWork() {
        work.reset();
    }

    /** Tokens per forward pass of {@link #prefill} (bounds the (T, S) score arrays). */
    static final int PREFILL_CHUNK = 512;

    /**
     * Prefills sequence {@code seq} from position 0 with {@code prompt} through the DJL model
     * (batched forward passes of up to 512 tokens, the LM head on the last position only) and
     * copies its cache in.
     *
     * @return the logits (vocab) after the last prompt token
     */
    public float[] prefill(int seq, int[] prompt) {
        if (prompt.length < 1 || prompt.length > capacity) {
            throw new IllegalArgumentException(
                    "prefill: "
                            + prompt.length
                            + " tokens do not fit a cache of "
                            + capacity
                            + " positions");
        }
        checkTokens(prompt, prompt.length);
        try (IncrementalDecoder dec = new IncrementalDecoder(model, 1, prompt.length, true)) {
            float[] last = null;
            for (int t = 0; t < prompt.length; t += PREFILL_CHUNK) {
                last =
                        dec.next(
                                Arrays.copyOfRange(
                                        prompt, t, Math.min(prompt.length, t + PREFILL_CHUNK)));
            }
            copyFrom(seq, dec, prompt.length);
            return last;
        }
    }

    /**
     * Copies the first {@code n} positions of a batch-1 DJL decoder's cache (same model) into
     * sequence {@code seq}, and sets its position to n.
     */
    public void copyFrom(int seq, IncrementalDecoder dec, int n) {
        if (n > dec.position() || n > capacity) {
            throw new IllegalArgumentException(
                    "copyFrom: "
                            + n
                            + " positions, the source has "
                            + dec.position()
                            + " and this cache holds "
                            + capacity);
        }
        attention.copyFrom(seq, dec.cache(), n);
        pos[seq] = n;
    }

    /** One token for every sequence of the batch; see {@link #step(int[], int[], int)}. */
    public float[] step(int[] tokens) {
        if (tokens.length != batch) {
            throw new IllegalArgumentException(
                    "step: expected " + batch + " tokens, got " + tokens.length);
        }
        return step(tokens, identity, batch);
    }

    /**
     * Feeds {@code tokens[i]} to sequence {@code seqs[i]} at its position, for i &lt; m (distinct
     * sequences), and advances those sequences by one.
     *
     * @return logits (m, vocab) row-major, row i for seqs[i]; the buffer is reused by the next step
     */
    public float[] step(int[] tokens, int[] seqs, int m) {
        if (m < 1 || m > batch) {
            throw new IllegalArgumentException("step: 1 to " + batch + " sequences, got " + m);
        }
        checkTokens(tokens, m);
        for (int i = 0; i < m; i++) {
            if (pos[seqs[i]] >= capacity) {
                throw new IllegalStateException(
                        "kv cache full: capacity "
                                + capacity
                                + " positions, sequence "
                                + seqs[i]
                                + " needs "
                                + (pos[seqs[i]] + 1));
            }
            rows.positions[i] = pos[seqs[i]];
            System.arraycopy(w.embedding, tokens[i] * d, x, i * d, d);
        }
        rows.m = m;
        rows.seqs = seqs;
        double eps = c.normEps();
        for (int l = 0; l < w.layers.length; l++) {
            DecoderWeights.Layer y = w.layers[l];
            RmsNorm.rows(x, xn, m, d, y.attnGain, eps);
            attention.forward(l, y, xn, rows, out);
            attention.work(rows, work);
            add(x, out, m * d);
            RmsNorm.rows(x, xn, m, d, y.ffnGain, eps);
            if (y.isMoe()) {
                moe.forward(y, xn, m, out);
                moe.work(y, m, work);
            } else {
                dense.forward(y, xn, m, out);
                dense.work(y, m, work);
            }
            add(x, out, m * d);
        }
        RmsNorm.rows(x, xn, m, d, w.finalGain, eps);
        team.matmul(w.head, 0, vocab, d, xn, 0, d, m, logits, 0, vocab);
        work.matmul(vocab, d, m);
        for (int i = 0; i < m; i++) {
            pos[seqs[i]]++;
        }
        work.steps++;
        work.tokens += m;
        return logits;
    }

    private void checkTokens(int[] t, int m) {
        for (int i = 0; i < m; i++) {
            if (t[i] < 0 || t[i] >= vocab) {
                throw new IllegalArgumentException(
                        "token " + t[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    private static void add(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] += b[i];
        }
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        team.close();
    }
}
