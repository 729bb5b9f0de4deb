package io.github.muon4j.infer;

import io.github.muon4j.model.ModelConfig;
import java.util.Arrays;

/**
 * Multi-head latent attention (MLA; DeepSeek-V2, 2024, and DeepSeek-V3) in the absorbed form, one
 * decode step. A row x at position p is projected by W_in to [c_Q | c_KV | k_pe] (without query
 * compression c_Q is the query itself); the cache keeps, per position, only the compressed latent
 * c_KV (kv_rank, after its RMSNorm) and the RoPE key k_pe shared by all heads (rope). Each head's
 * query [q_nope_h | q_pe_h] = RMSNorm(c_Q) W_qb^T (q_pe_h after RoPE) is never expanded into keys:
 * W_kvb's key block W_uk_h is absorbed into the query and its value block W_uv_h applied after the
 * softmax,
 *
 * <pre>
 * q_lat_h = q_nope_h W_uk_h                                          (kv_rank)
 * s_h,t   = ([q_lat_h | q_pe_h] . [c_KV,t | k_pe,t]) / sqrt(nope + rope)   t = 0..p
 * o_h     = W_uv_h (sum_t softmax(s_h)_t c_KV,t)                     (v_head_dim)
 * out     = [o_1 | .. | o_H] W_o^T                                   (d)
 * </pre>
 *
 * so a step reads kv_rank + rope floats per cached position for all heads together. The softmax is
 * online (running max and sum) over blocks of {@link #BLOCK} positions, so each cached row is read
 * once per step for a group of heads; a block's scores come from {@link Kernels#latentScores} (the
 * SIMD kernels put the heads of a group in the vector lanes, so that a position's scores are an
 * axpy over the latent dimension). One work item is a (row, head group) pair; heads are split into
 * groups only when there are fewer rows than threads.
 */
final class MlaAttention implements Attention {

    /**
     * Positions per block of the online softmax: a block's rows are read from memory once, for its
     * scores, and again from cache for its weighted sums (at 6L-512d, 128 rows of 288 floats are
     * 147 KB, within a core's L2). 128 decoded 8 x 4,096 MLA about 6% faster than 32 (6 of 6
     * rounds, the two alternating; 64 and 256 were slower than 128).
     */
    static final int BLOCK = 128;

    private final Team team;
    private final Rope rope;
    private final int d, heads, nope, ropeDim, vDim, kvRank, qLora, qk, row, qPart, inWidth;
    private final double eps;
    private final float scale;
    private final float[][][] cache; // [layer][seq] -> [capacity, kv_rank + rope]: [c_KV | k_pe]
    private final float[] proj; // [batch, q_part + kv_rank + rope]: rows [c_Q or q | c_KV | k_pe]
    private final float[] qa; // [batch, q_lora_rank]: RMSNorm(c_Q); empty without q compression
    private final float[] q; // [batch, heads, nope + rope]: [q_nope | q_pe], q_pe after RoPE
    private final float[] qcat; // [batch, heads, kv_rank + rope]: [q_lat | q_pe]
    private final float[] olat; // [batch, heads, kv_rank]: sum_t softmax(s_h)_t c_KV,t
    private final float[] att; // [batch, heads * v_head_dim]: [o_1 | .. | o_H], the input of W_o
    private final float[][] scores; // [threads][heads, BLOCK]: a block's scores, then exp(s - max)
    private final float[][] stats; // [threads][2 * heads]: running max per head, then running sum
    // [threads][latentWorkspace(heads, kv_rank + rope)]: a head group's [q_lat | q_pe] in the
    // kernels' layout (e.g. transposed, [kv_rank + rope, heads]), and their scratch
    private final float[][] queries;
    private final Task task = new Task();

    MlaAttention(ModelConfig c, Team team, int batch, int capacity) {
        this.team = team;
        d = c.dModel();
        heads = c.nHeads();
        nope = c.qkNopeHeadDim();
        ropeDim = c.qkRopeHeadDim();
        vDim = c.vHeadDim();
        kvRank = c.kvLoraRank();
        qLora = c.qLoraRank();
        qk = nope + ropeDim;
        row = kvRank + ropeDim;
        qPart = qLora > 0 ? qLora : heads * qk;
        inWidth = qPart + row;
        eps = c.normEps();
        scale = (float) (1.0 / Math.sqrt(qk));
        rope = new Rope(ropeDim, c.ropeBase(), capacity);
        cache = new float[c.nLayers()][batch][capacity * row];
        proj = new float[batch * inWidth];
        qa = new float[batch * qLora];
        q = new float[batch * heads * qk];
        qcat = new float[batch * heads * row];
        olat = new float[batch * heads * kvRank];
        att = new float[batch * heads * vDim];
        scores = new float[team.threads()][heads * BLOCK];
        stats = new float[team.threads()][2 * heads];
        int ws = 0;
        for (int h = 1; h <= heads; h++) {
            ws = Math.max(ws, team.k.latentWorkspace(h, row));
        }
        queries = new float[team.threads()][ws];
    }

    @Override
    public void forward(int layer, DecoderWeights.Layer y, float[] xn, StepRows rows, float[] out) {
        Kernels k = team.k;
        int m = rows.m;
        team.matmul(y.win, 0, inWidth, d, xn, 0, d, m, proj, 0, inWidth);
        int hq = heads * qk;
        if (y.wqb != null) {
            for (int i = 0; i < m; i++) {
                RmsNorm.row(proj, i * inWidth, qa, i * qLora, qLora, y.qNormGain, eps);
            }
            team.matmul(y.wqb, 0, hq, qLora, qa, 0, qLora, m, q, 0, hq);
        } else {
            for (int i = 0; i < m; i++) {
                System.arraycopy(proj, i * inWidth, q, i * hq, hq);
            }
        }
        for (int i = 0; i < m; i++) {
            int p = rows.positions[i];
            float[] c = cache[layer][rows.seqs[i]];
            int src = i * inWidth + qPart;
            RmsNorm.row(proj, src, c, p * row, kvRank, y.kvNormGain, eps);
            System.arraycopy(proj, src + kvRank, c, p * row + kvRank, ropeDim);
            rope.rotate(c, p * row + kvRank, p);
            for (int h = 0; h < heads; h++) {
                int qo = i * hq + h * qk;
                rope.rotate(q, qo + nope, p);
                int qc = (i * heads + h) * row;
                Arrays.fill(qcat, qc, qc + kvRank, 0f);
                for (int j = 0; j < nope; j++) { // q_lat = q_nope W_uk
                    k.axpy(q[qo + j], y.wkvb, (h * (nope + vDim) + j) * kvRank, qcat, qc, kvRank);
                }
                System.arraycopy(q, qo + nope, qcat, qc + kvRank, ropeDim);
            }
        }
        int groups = m >= team.threads() ? 1 : Math.min(heads, team.threads());
        task.set(layer, rows, groups);
        team.forRange(m * groups, (long) rows.maxLen() * heads / groups * (row + kvRank), task);
        for (int h = 0; h < heads; h++) { // o_h = W_uv_h o_lat_h
            team.matmul(
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
        team.matmul(y.wo, 0, d, heads * vDim, att, 0, heads * vDim, m, out, 0, d);
    }

    /**
     * W_in, W_qb (with query compression), W_uk (absorbed into the queries), W_uv per head and W_o
     * once; per row, its p + 1 cached latent rows read, and per head and position (kv_rank + rope)
     * multiply-adds for the score and kv_rank for the weighted sum.
     */
    @Override
    public void work(StepRows rows, WorkTally t) {
        int m = rows.m;
        t.matmul(inWidth, d, m);
        if (qLora > 0) {
            t.matmul(heads * qk, qLora, m);
        }
        t.matmul((long) heads * nope, kvRank, m);
        for (int h = 0; h < heads; h++) {
            t.matmul(vDim, kvRank, m);
        }
        t.matmul(d, heads * vDim, m);
        long n = rows.attended();
        t.flops += 2.0 * heads * n * (row + kvRank);
        t.cacheBytes += 4.0 * n * row;
    }

    /**
     * Absorbed attention of one row over its sequence's latent cache, for a group of heads, in
     * blocks of positions with a running max and sum (each cached row read once for the group).
     */
    private final class Task implements Parallel.Body {
        private int layer;
        private StepRows rows;
        private int groups;

        void set(int layer, StepRows rows, int groups) {
            this.layer = layer;
            this.rows = rows;
            this.groups = groups;
        }

        @Override
        public void run(int chunk, int from, int to) {
            Kernels k = team.k;
            float[] sc = scores[chunk];
            float[] st = stats[chunk]; // [0, heads): running max; [heads, 2 heads): running sum
            float[] qs = queries[chunk];
            for (int item = from; item < to; item++) {
                int i = item / groups, g = item % groups;
                int h0 = heads * g / groups, h1 = heads * (g + 1) / groups, hg = h1 - h0;
                int n = rows.positions[i] + 1;
                float[] c = cache[layer][rows.seqs[i]];
                int qb = (i * heads + h0) * row;
                int ob = (i * heads + h0) * kvRank;
                Arrays.fill(olat, ob, ob + hg * kvRank, 0f);
                Arrays.fill(st, 0, hg, Float.NEGATIVE_INFINITY);
                Arrays.fill(st, heads, heads + hg, 0f);
                k.prepareQueries(qcat, qb, hg, row, qs);
                for (int t0 = 0; t0 < n; t0 += BLOCK) {
                    int len = Math.min(BLOCK, n - t0);
                    // s (hg, len) = q (hg, row) . cache rows t0..t0+len (len, row)
                    k.latentScores(qs, hg, row, c, t0 * row, len, sc, 0, BLOCK);
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
                            sc, 0, BLOCK, hg, len, c, t0 * row, row, olat, ob, kvRank, kvRank);
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

    @Override
    public void copySequence(int from, int to, int n) {
        for (float[][] layer : cache) {
            System.arraycopy(layer[from], 0, layer[to], 0, n * row);
        }
    }

    /** From the DJL layout: c (B, n, kv_rank) and k_pe (B, n, rope), batch row 0. */
    @Override
    public void copyFrom(int seq, KvCache kv, int n) {
        for (int l = 0; l < cache.length; l++) {
            float[][] a = kv.copyOut(l, n);
            for (int t = 0; t < n; t++) {
                System.arraycopy(a[0], t * kvRank, cache[l][seq], t * row, kvRank);
                System.arraycopy(a[1], t * ropeDim, cache[l][seq], t * row + kvRank, ropeDim);
            }
        }
    }

    @Override
    public long cacheBytes() {
        long n = 0;
        for (float[][] layer : cache) {
            for (float[] c : layer) {
                n += c.length;
            }
        }
        return 4 * n;
    }
}
