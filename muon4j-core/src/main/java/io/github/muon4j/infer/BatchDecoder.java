package io.github.muon4j.infer;

import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import java.util.Arrays;

/**
 * Decodes a batch of sequences one token per step in plain Java over a {@link DecoderWeights} copy:
 * a step's cost is the bytes it must read (every weight matrix once for the whole batch, each
 * sequence's cache once) and the FLOPs it must do; nothing is allocated, parsed or sent to a native
 * library per token. Logits equal those of {@link DecoderLM#forward} (to float rounding).
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
 * <p>MLA attends in the absorbed form (see {@link IncrementalDecoder}) with an online softmax over
 * blocks of positions, so that each cached row is read once per step for all heads:
 *
 * <pre>
 * q_lat_h = q_nope_h W_uk_h                           (kv_lora_rank)
 * s_h,t   = ([q_lat_h | q_pe_h] . [c_t | k_pe_t]) / sqrt(nope + rope)
 * o_h     = W_uv_h (sum_t softmax(s_h)_t c_t)         (v_head_dim) -> W_o
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

    /** Positions per block of MLA's online softmax (a block of rows stays in cache). */
    private static final int BLOCK = 32;

    private final DecoderLM model;
    private final DecoderWeights w;
    private final ModelConfig c;
    private final Kernels k;
    private long parallelMin = PARALLEL_MIN;
    private final Parallel par;
    private final int batch;
    private final int capacity;
    private final int d;
    private final int vocab;
    private final boolean mla;
    private final int heads;
    private final int headDim; // MHA
    private final int inner; // MHA: heads * head_dim
    private final int nope, ropeDim, vDim, kvRank, qk, row, qPart, inWidth; // MLA
    private final float scale;
    private final int half;
    private final float[] cos, sin; // (capacity, rope dim / 2)
    private final int[] pos;
    private final float[][][] keys; // [layer][seq]
    private final float[][][] values; // [layer][seq], MHA only

    // scratch, rows = batch
    private final float[] x, xn, proj, qa, q, att, out, qcat, olat, logits;
    private final float[] hid13, hid, xg, yg, glog, gsc, cw;
    private final int[] chosen, counts, starts, order, identity;
    private final float[][] scores; // per thread
    private final float[][] stats; // per thread: running max, sum per head

    private final MatmulTask mmTask = new MatmulTask();
    private final MhaTask mhaTask = new MhaTask();
    private final MlaTask mlaTask = new MlaTask();

    private long steps, tokens;
    private double flops, weightBytes, cacheBytes;

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
        this.k = kernels;
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
        this.par = new Parallel(threads);
        d = c.dModel();
        vocab = c.vocabSize();
        heads = c.nHeads();
        mla = c.attention() == io.github.muon4j.model.AttentionKind.MLA;
        headDim = c.headDim();
        inner = heads * headDim;
        nope = c.qkNopeHeadDim();
        vDim = c.vHeadDim();
        kvRank = c.kvLoraRank();
        qk = nope + c.qkRopeHeadDim();
        row = kvRank + c.qkRopeHeadDim();
        qPart = c.qLoraRank() > 0 ? c.qLoraRank() : heads * qk;
        inWidth = qPart + row;
        ropeDim = mla ? c.qkRopeHeadDim() : headDim;
        scale = (float) (1.0 / Math.sqrt(mla ? qk : headDim));
        half = ropeDim / 2;
        cos = new float[capacity * half];
        sin = new float[capacity * half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(c.ropeBase(), -2.0 * i / ropeDim); // as RotaryEmbedding
            for (int p = 0; p < capacity; p++) {
                cos[p * half + i] = (float) Math.cos(p * freq);
                sin[p * half + i] = (float) Math.sin(p * freq);
            }
        }
        pos = new int[batch];
        int nl = c.nLayers();
        keys = new float[nl][batch][];
        values = mla ? null : new float[nl][batch][];
        for (int l = 0; l < nl; l++) {
            for (int b = 0; b < batch; b++) {
                keys[l][b] = new float[capacity * (mla ? row : inner)];
                if (!mla) {
                    values[l][b] = new float[capacity * inner];
                }
            }
        }
        x = new float[batch * d];
        xn = new float[batch * d];
        out = new float[batch * d];
        proj = new float[batch * (mla ? inWidth : 3 * inner)];
        qa = new float[mla && c.qLoraRank() > 0 ? batch * c.qLoraRank() : 0];
        q = new float[mla ? batch * heads * qk : 0];
        att = new float[batch * heads * (mla ? vDim : headDim)];
        qcat = new float[mla ? batch * heads * row : 0];
        olat = new float[mla ? batch * heads * kvRank : 0];
        logits = new float[batch * vocab];
        int maxHidden = 0;
        for (DecoderWeights.Layer y : w.layers) {
            maxHidden = Math.max(maxHidden, Math.max(y.hidden, y.sharedHidden));
        }
        if (c.ffn() == io.github.muon4j.model.FfnKind.MOE) {
            maxHidden = Math.max(maxHidden, c.expertHidden());
        }
        hid13 = new float[batch * 2 * maxHidden];
        hid = new float[batch * maxHidden];
        xg = new float[batch * d];
        yg = new float[batch * d];
        int e = c.ffn() == io.github.muon4j.model.FfnKind.MOE ? c.nRoutedExperts() : 0;
        int kk = e > 0 ? c.topK() : 0;
        glog = new float[batch * e];
        gsc = new float[batch * e];
        cw = new float[batch * kk];
        chosen = new int[batch * kk];
        counts = new int[e];
        starts = new int[e + 1];
        order = new int[batch * kk];
        identity = new int[batch];
        for (int b = 0; b < batch; b++) {
            identity[b] = b;
        }
        scores = new float[par.threads()][heads * (mla ? BLOCK : capacity)];
        stats = new float[par.threads()][2 * heads];
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
        int n = pos[from];
        for (int l = 0; l < keys.length; l++) {
            if (mla) {
                System.arraycopy(keys[l][from], 0, keys[l][to], 0, n * row);
            } else {
                for (int h = 0; h < heads; h++) {
                    int o = h * capacity * headDim;
                    System.arraycopy(keys[l][from], o, keys[l][to], o, n * headDim);
                    System.arraycopy(values[l][from], o, values[l][to], o, n * headDim);
                }
            }
        }
        pos[to] = n;
    }

    /** Sections of fewer multiply-adds run on one thread (tests lower it to 1). */
    void parallelMin(long macs) {
        parallelMin = macs;
    }

    /** The kernels in use. */
    public Kernels kernels() {
        return k;
    }

    public int threads() {
        return par.threads();
    }

    /** Bytes of all cache arrays as allocated. */
    public long cacheBytes() {
        long n = 0;
        for (int l = 0; l < keys.length; l++) {
            for (int b = 0; b < batch; b++) {
                n += keys[l][b].length + (mla ? 0 : values[l][b].length);
            }
        }
        return 4 * n;
    }

    /** {@link #cacheBytes()} per position of one sequence. */
    public double cacheBytesPerToken() {
        return cacheBytes() / (double) capacity / batch;
    }

    public Work work() {
        return new Work(steps, tokens, flops, weightBytes, cacheBytes);
    }

    public void resetWork() {
        steps = 0;
        tokens = 0;
        flops = 0;
        weightBytes = 0;
        cacheBytes = 0;
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
        KvCache kv = dec.cache();
        for (int l = 0; l < keys.length; l++) {
            float[][] a = kv.copyOut(l, n);
            float[] a0 = a[0], a1 = a[1];
            if (mla) { // c (B, n, kv_rank), k_pe (B, n, rope): batch row 0 -> rows [c | k_pe]
                for (int t = 0; t < n; t++) {
                    System.arraycopy(a0, t * kvRank, keys[l][seq], t * row, kvRank);
                    System.arraycopy(a1, t * ropeDim, keys[l][seq], t * row + kvRank, ropeDim);
                }
            } else { // (B, h, n, head_dim) each, batch row 0
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(
                            a0, h * n * headDim, keys[l][seq], h * capacity * headDim, n * headDim);
                    System.arraycopy(
                            a1,
                            h * n * headDim,
                            values[l][seq],
                            h * capacity * headDim,
                            n * headDim);
                }
            }
        }
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
            System.arraycopy(w.embedding, tokens[i] * d, x, i * d, d);
        }
        for (int l = 0; l < w.layers.length; l++) {
            DecoderWeights.Layer y = w.layers[l];
            rmsNorm(x, xn, m, d, y.attnGain);
            if (mla) {
                mlaAttention(l, y, seqs, m);
            } else {
                mhaAttention(l, y, seqs, m);
            }
            add(x, out, m * d);
            rmsNorm(x, xn, m, d, y.ffnGain);
            if (y.isMoe()) {
                moe(y, m);
            } else {
                swiGlu(y.w13, y.w2, y.hidden, xn, m, out, false);
            }
            add(x, out, m * d);
        }
        rmsNorm(x, xn, m, d, w.finalGain);
        mm(w.head, 0, vocab, d, xn, 0, d, m, logits, 0, vocab);
        for (int i = 0; i < m; i++) {
            pos[seqs[i]]++;
        }
        steps++;
        this.tokens += m;
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

    // ------------------------------------------------------------------ attention

    private void mhaAttention(int l, DecoderWeights.Layer y, int[] seqs, int m) {
        int pw = 3 * inner;
        mm(y.wqkv, 0, pw, d, xn, 0, d, m, proj, 0, pw);
        int maxLen = 0;
        for (int i = 0; i < m; i++) {
            int seq = seqs[i], p = pos[seq];
            int b = i * pw;
            for (int h = 0; h < heads; h++) {
                rope(proj, b + h * headDim, p);
                rope(proj, b + inner + h * headDim, p);
                int o = h * capacity * headDim + p * headDim;
                System.arraycopy(proj, b + inner + h * headDim, keys[l][seq], o, headDim);
                System.arraycopy(proj, b + 2 * inner + h * headDim, values[l][seq], o, headDim);
            }
            cacheBytes += 4.0 * (p + 1) * 2 * inner;
            flops += 4.0 * (p + 1) * inner;
            maxLen = Math.max(maxLen, p + 1);
        }
        mhaTask.set(l, seqs);
        par.forRange(m * heads, 2L * maxLen * headDim, parallelMin, mhaTask);
        mm(y.wo, 0, d, inner, att, 0, inner, m, out, 0, d);
    }

    /** Attention of one (row, head) over its sequence's cache: scores, softmax, weighted values. */
    private final class MhaTask implements Parallel.Body {
        private int layer;
        private int[] seqs;

        void set(int layer, int[] seqs) {
            this.layer = layer;
            this.seqs = seqs;
        }

        @Override
        public void run(int chunk, int from, int to) {
            float[] sc = scores[chunk];
            for (int item = from; item < to; item++) {
                int i = item / heads, h = item % heads;
                int seq = seqs[i], n = pos[seq] + 1;
                float[] kc = keys[layer][seq], vc = values[layer][seq];
                int qo = i * 3 * inner + h * headDim;
                int base = h * capacity * headDim;
                k.matmul(kc, base, headDim, proj, qo, 0, 1, sc, 0, 0, 0, n); // s = K q
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < n; t++) {
                    max = Math.max(max, sc[t]);
                }
                float inv = 1 / k.expShift(sc, 0, n, max, scale);
                int ao = i * inner + h * headDim;
                Arrays.fill(att, ao, ao + headDim, 0f);
                k.weightedSum(sc, 0, n, vc, base, headDim, att, ao, headDim);
                for (int j = ao; j < ao + headDim; j++) {
                    att[j] *= inv;
                }
            }
        }
    }

    private void mlaAttention(int l, DecoderWeights.Layer y, int[] seqs, int m) {
        mm(y.win, 0, inWidth, d, xn, 0, d, m, proj, 0, inWidth);
        int hq = heads * qk;
        if (y.wqb != null) {
            int r = c.qLoraRank();
            for (int i = 0; i < m; i++) {
                rmsNormRow(proj, i * inWidth, qa, i * r, r, y.qNormGain);
            }
            mm(y.wqb, 0, hq, r, qa, 0, r, m, q, 0, hq);
        } else {
            for (int i = 0; i < m; i++) {
                System.arraycopy(proj, i * inWidth, q, i * hq, hq);
            }
        }
        int maxLen = 0;
        for (int i = 0; i < m; i++) {
            int seq = seqs[i], p = pos[seq];
            float[] cache = keys[l][seq];
            int src = i * inWidth + qPart;
            rmsNormRow(proj, src, cache, p * row, kvRank, y.kvNormGain);
            System.arraycopy(proj, src + kvRank, cache, p * row + kvRank, ropeDim);
            rope(cache, p * row + kvRank, p);
            for (int h = 0; h < heads; h++) {
                int qo = i * hq + h * qk;
                rope(q, qo + nope, p);
                int qc = (i * heads + h) * row;
                Arrays.fill(qcat, qc, qc + kvRank, 0f);
                for (int j = 0; j < nope; j++) { // q_lat = q_nope W_uk
                    k.axpy(q[qo + j], y.wkvb, (h * (nope + vDim) + j) * kvRank, qcat, qc, kvRank);
                }
                System.arraycopy(q, qo + nope, qcat, qc + kvRank, ropeDim);
            }
            flops += 2.0 * heads * nope * kvRank + 2.0 * heads * (p + 1) * (row + kvRank);
            cacheBytes += 4.0 * (p + 1) * row;
            maxLen = Math.max(maxLen, p + 1);
        }
        weightBytes += 4.0 * heads * nope * kvRank;
        int groups = m >= par.threads() ? 1 : Math.min(heads, par.threads());
        mlaTask.set(l, seqs, groups);
        par.forRange(
                m * groups, (long) maxLen * heads / groups * (row + kvRank), parallelMin, mlaTask);
        for (int h = 0; h < heads; h++) { // o_h = W_uv_h o_lat_h
            mm(
                    y.wkvb,
                    (h * (nope + vDim) + nope) * kvRank,
                    vDim,
                    kvRank,
                    olat,
                    h * kvRank,
                    heads * kvRank,
                    m,
                    att,
                    h * vDim,
                    heads * vDim);
        }
        mm(y.wo, 0, d, heads * vDim, att, 0, heads * vDim, m, out, 0, d);
    }

    /**
     * Absorbed attention of one row over its sequence's latent cache, for a group of heads, in
     * blocks of positions with a running max and sum (each cached row read once for the group).
     */
    private final class MlaTask implements Parallel.Body {
        private int layer;
        private int[] seqs;
        private int groups;

        void set(int layer, int[] seqs, int groups) {
            this.layer = layer;
            this.seqs = seqs;
            this.groups = groups;
        }

        @Override
        public void run(int chunk, int from, int to) {
            float[] sc = scores[chunk];
            float[] st = stats[chunk]; // [0, heads): running max; [heads, 2 heads): running sum
            for (int item = from; item < to; item++) {
                int i = item / groups, g = item % groups;
                int h0 = heads * g / groups, h1 = heads * (g + 1) / groups, hg = h1 - h0;
                int seq = seqs[i], n = pos[seq] + 1;
                float[] cache = keys[layer][seq];
                int qb = (i * heads + h0) * row;
                int ob = (i * heads + h0) * kvRank;
                Arrays.fill(olat, ob, ob + hg * kvRank, 0f);
                Arrays.fill(st, 0, hg, Float.NEGATIVE_INFINITY);
                Arrays.fill(st, heads, heads + hg, 0f);
                for (int t0 = 0; t0 < n; t0 += BLOCK) {
                    int len = Math.min(BLOCK, n - t0);
                    // s (hg, len) = q (hg, row) . cache rows t0..t0+len (len, row)
                    k.matmul(cache, t0 * row, row, qcat, qb, row, hg, sc, 0, BLOCK, 0, len);
                    for (int j = 0; j < hg; j++) {
                        float bm = Float.NEGATIVE_INFINITY;
                        for (int t = 0; t < len; t++) {
                            bm = Math.max(bm, sc[j * BLOCK + t]);
                        }
                        float old = st[j];
                        if (bm > old) {
                            if (old != Float.NEGATIVE_INFINITY) {
                                float f = (float) Math.exp((old - bm) * scale);
                                st[heads + j] *= f;
                                int o = ob + j * kvRank;
                                for (int r = 0; r < kvRank; r++) {
                                    olat[o + r] *= f;
                                }
                            }
                            st[j] = bm;
                        }
                        st[heads + j] += k.expShift(sc, j * BLOCK, len, st[j], scale);
                    }
                    k.weightedSums(
                            sc, 0, BLOCK, hg, len, cache, t0 * row, row, olat, ob, kvRank, kvRank);
                }
                for (int j = 0; j < hg; j++) {
                    float inv = 1 / st[heads + j];
                    int o = ob + j * kvRank;
                    for (int r = 0; r < kvRank; r++) {
                        olat[o + r] *= inv;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ feed-forward

    /**
     * out (m, d) = SwiGLU(xin) with w13 [W1; W3] (2 hidden, d) and w2 (d, hidden); adds if asked.
     */
    private void swiGlu(
            float[] w13,
            float[] w2,
            int hidden,
            float[] xin,
            int m,
            float[] dst,
            boolean accumulate) {
        mm(w13, 0, 2 * hidden, d, xin, 0, d, m, hid13, 0, 2 * hidden);
        silu(m, hidden);
        if (!accumulate) {
            mm(w2, 0, d, hidden, hid, 0, hidden, m, dst, 0, d);
        } else {
            mm(w2, 0, d, hidden, hid, 0, hidden, m, yg, 0, d);
            add(dst, yg, m * d);
        }
    }

    /** hid (m, hidden) = silu(g) * u from hid13 rows [g | u]. */
    private void silu(int m, int hidden) {
        for (int i = 0; i < m; i++) {
            int s = i * 2 * hidden, o = i * hidden;
            for (int j = 0; j < hidden; j++) {
                float g = hid13[s + j];
                hid[o + j] = g / (1 + (float) Math.exp(-g)) * hid13[s + hidden + j];
            }
        }
    }

    private void moe(DecoderWeights.Layer y, int m) {
        int e = c.nRoutedExperts(), topK = c.topK(), eh = c.expertHidden();
        mm(y.router, 0, e, d, xn, 0, d, m, glog, 0, e);
        Arrays.fill(counts, 0);
        for (int i = 0; i < m; i++) {
            route(y.routerBias, i, e, topK);
        }
        starts[0] = 0;
        for (int j = 0; j < e; j++) {
            starts[j + 1] = starts[j] + counts[j];
        }
        Arrays.fill(counts, 0);
        for (int a = 0; a < m * topK; a++) { // assignments grouped by expert
            int ex = chosen[a];
            order[starts[ex] + counts[ex]++] = a;
        }
        if (y.sharedW13 != null) {
            swiGlu(y.sharedW13, y.sharedW2, y.sharedHidden, xn, m, out, false);
        } else {
            Arrays.fill(out, 0, m * d, 0f);
        }
        for (int ex = 0; ex < e; ex++) {
            int cnt = counts[ex];
            if (cnt == 0) {
                continue;
            }
            for (int r = 0; r < cnt; r++) {
                System.arraycopy(xn, order[starts[ex] + r] / topK * d, xg, r * d, d);
            }
            mm(y.expertW13, ex * 2 * eh * d, 2 * eh, d, xg, 0, d, cnt, hid13, 0, 2 * eh);
            silu(cnt, eh);
            mm(y.expertW2, ex * d * eh, d, eh, hid, 0, eh, cnt, yg, 0, d);
            for (int r = 0; r < cnt; r++) {
                int a = order[starts[ex] + r];
                k.axpy(cw[a], yg, r * d, out, a / topK * d, d);
            }
        }
    }

    /** Router of row i: scores, top-k on scores + bias, combine weights (as {@code Gate}). */
    private void route(float[] bias, int i, int e, int topK) {
        int o = i * e;
        if (c.scoreFunction() == ScoreFunction.SOFTMAX) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < e; j++) {
                max = Math.max(max, glog[o + j]);
            }
            float sum = 0;
            for (int j = 0; j < e; j++) {
                gsc[o + j] = (float) Math.exp(glog[o + j] - max);
                sum += gsc[o + j];
            }
            for (int j = 0; j < e; j++) {
                gsc[o + j] /= sum;
            }
        } else {
            for (int j = 0; j < e; j++) {
                gsc[o + j] = 1 / (1 + (float) Math.exp(-glog[o + j]));
            }
        }
        float total = 0;
        for (int j = 0; j < topK; j++) {
            int best = -1;
            float bv = Float.NEGATIVE_INFINITY;
            for (int ex = 0; ex < e; ex++) {
                float v = gsc[o + ex] + bias[ex];
                if (v > bv && !taken(i, j, ex, topK)) {
                    bv = v;
                    best = ex;
                }
            }
            chosen[i * topK + j] = best;
            cw[i * topK + j] = gsc[o + best];
            total += gsc[o + best];
            counts[best]++;
        }
        if (c.scoreFunction() == ScoreFunction.SIGMOID) {
            for (int j = 0; j < topK; j++) {
                cw[i * topK + j] /= total;
            }
        }
    }

    private boolean taken(int i, int j, int ex, int topK) {
        for (int a = 0; a < j; a++) {
            if (chosen[i * topK + a] == ex) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ small pieces

    /** y (m, rows) = x (m, n) W^T on the team, counting the weight bytes and FLOPs. */
    private void mm(
            float[] wt,
            int wo,
            int rows,
            int n,
            float[] xin,
            int xo,
            int xs,
            int m,
            float[] y,
            int yo,
            int ys) {
        weightBytes += 4.0 * rows * n;
        flops += 2.0 * rows * n * m;
        mmTask.set(wt, wo, n, xin, xo, xs, m, y, yo, ys);
        par.forRange(rows, (long) n * m, parallelMin, mmTask);
    }

    private final class MatmulTask implements Parallel.Body {
        private float[] wt, xin, y;
        private int wo, n, xo, xs, m, yo, ys;

        void set(
                float[] wt,
                int wo,
                int n,
                float[] xin,
                int xo,
                int xs,
                int m,
                float[] y,
                int yo,
                int ys) {
            this.wt = wt;
            this.wo = wo;
            this.n = n;
            this.xin = xin;
            this.xo = xo;
            this.xs = xs;
            this.m = m;
            this.y = y;
            this.yo = yo;
            this.ys = ys;
        }

        @Override
        public void run(int chunk, int from, int to) {
            k.matmul(wt, wo, n, xin, xo, xs, m, y, yo, ys, from, to);
        }
    }

    /** Rotates the pairs (i, i + dim/2) of v[o .. o + dim) by the angles of position p. */
    private void rope(float[] v, int o, int p) {
        int t = p * half;
        for (int i = 0; i < half; i++) {
            float x1 = v[o + i], x2 = v[o + half + i];
            float cs = cos[t + i], sn = sin[t + i];
            v[o + i] = x1 * cs - x2 * sn;
            v[o + half + i] = x2 * cs + x1 * sn;
        }
    }

    private void rmsNorm(float[] src, float[] dst, int m, int n, float[] gain) {
        for (int i = 0; i < m; i++) {
            rmsNormRow(src, i * n, dst, i * n, n, gain);
        }
    }

    private void rmsNormRow(float[] src, int so, float[] dst, int dO, int n, float[] gain) {
        double ss = 0;
        for (int j = 0; j < n; j++) {
            ss += (double) src[so + j] * src[so + j];
        }
        float r = (float) (1 / Math.sqrt(ss / n + c.normEps()));
        for (int j = 0; j < n; j++) {
            dst[dO + j] = src[so + j] * r * gain[j];
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
        par.close();
    }
}
