package io.github.muon4j.infer;

import io.github.muon4j.model.ModelConfig;
import java.util.Arrays;

/**
 * Standard multi-head attention (Vaswani et al., 2017) with RoPE and a KV cache, one decode step.
 * For a row x at position p: [q | k | v] = x W_qkv^T, split into H heads of head_dim; q_h and k_h
 * are rotated by {@link Rope} at p and k_h, v_h appended to the sequence's cache; then
 *
 * <pre>
 * s_h,t = q_h . k_h,t / sqrt(head_dim)             t = 0..p
 * o_h   = sum_t softmax(s_h)_t v_h,t               (head_dim)
 * out   = [o_1 | .. | o_H] W_o^T                   (d)
 * </pre>
 *
 * The cache holds, per layer and sequence, keys (after RoPE) and values of every position, 2 H
 * head_dim floats per token. One work item is a (row, head) pair.
 */
final class MhaAttention implements Attention {

    private final Team team;
    private final Rope rope;
    private final int d, heads, headDim, inner, capacity;
    private final float scale;
    private final float[][][] keys; // [layer][seq] -> [heads, capacity, head_dim], after RoPE
    private final float[][][] values; // [layer][seq] -> [heads, capacity, head_dim]
    private final float[] proj; // [batch, 3 * heads * head_dim]: rows [q | k | v]
    private final float[] att; // [batch, heads * head_dim]: [o_1 | .. | o_H], the input of W_o
    private final float[][]
            scores; // [threads][capacity]: a (row, head)'s scores, then exp(s - max)
    private final Task task = new Task();

    MhaAttention(ModelConfig c, Team team, int batch, int capacity) {
        this.team = team;
        this.capacity = capacity;
        d = c.dModel();
        heads = c.nHeads();
        headDim = c.headDim();
        inner = heads * headDim;
        scale = (float) (1.0 / Math.sqrt(headDim));
        rope = new Rope(headDim, c.ropeBase(), capacity);
        keys = new float[c.nLayers()][batch][capacity * inner];
        values = new float[c.nLayers()][batch][capacity * inner];
        proj = new float[batch * 3 * inner];
        att = new float[batch * inner];
        scores = new float[team.threads()][capacity];
    }

    @Override
    public void forward(int layer, DecoderWeights.Layer y, float[] xn, StepRows rows, float[] out) {
        int m = rows.m, pw = 3 * inner;
        team.matmul(y.wqkv, 0, pw, d, xn, 0, d, m, proj, 0, pw);
        for (int i = 0; i < m; i++) {
            int seq = rows.seqs[i], p = rows.positions[i];
            int b = i * pw;
            for (int h = 0; h < heads; h++) {
                rope.rotate(proj, b + h * headDim, p);
                rope.rotate(proj, b + inner + h * headDim, p);
                int o = h * capacity * headDim + p * headDim;
                System.arraycopy(proj, b + inner + h * headDim, keys[layer][seq], o, headDim);
                System.arraycopy(proj, b + 2 * inner + h * headDim, values[layer][seq], o, headDim);
            }
        }
        task.set(layer, rows);
        team.forRange(m * heads, 2L * rows.maxLen() * headDim, task);
        team.matmul(y.wo, 0, d, inner, att, 0, inner, m, out, 0, d);
    }

    /**
     * W_qkv and W_o once; per row, its p + 1 cached keys and values read and 2 (p + 1) H head_dim
     * multiply-adds for the scores and the weighted sum.
     */
    @Override
    public void work(StepRows rows, WorkTally t) {
        t.matmul(3 * inner, d, rows.m);
        t.matmul(d, inner, rows.m);
        long n = rows.attended();
        t.cacheBytes += 4.0 * n * 2 * inner;
        t.flops += 4.0 * n * inner;
    }

    /** Attention of one (row, head) over its sequence's cache: scores, softmax, weighted values. */
    private final class Task implements Parallel.Body {
        private int layer;
        private StepRows rows;

        void set(int layer, StepRows rows) {
            this.layer = layer;
            this.rows = rows;
        }

        @Override
        public void run(int chunk, int from, int to) {
            Kernels k = team.k;
            float[] sc = scores[chunk];
            for (int item = from; item < to; item++) {
                int i = item / heads, h = item % heads;
                int seq = rows.seqs[i], n = rows.positions[i] + 1;
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

    @Override
    public void copySequence(int from, int to, int n) {
        for (int l = 0; l < keys.length; l++) {
            for (int h = 0; h < heads; h++) {
                int o = h * capacity * headDim;
                System.arraycopy(keys[l][from], o, keys[l][to], o, n * headDim);
                System.arraycopy(values[l][from], o, values[l][to], o, n * headDim);
            }
        }
    }

    /** From the DJL layout: keys and values (B, heads, n, head_dim) each, batch row 0. */
    @Override
    public void copyFrom(int seq, KvCache kv, int n) {
        for (int l = 0; l < keys.length; l++) {
            float[][] a = kv.copyOut(l, n);
            for (int h = 0; h < heads; h++) {
                int src = h * n * headDim, dst = h * capacity * headDim;
                System.arraycopy(a[0], src, keys[l][seq], dst, n * headDim);
                System.arraycopy(a[1], src, values[l][seq], dst, n * headDim);
            }
        }
    }

    @Override
    public long cacheBytes() {
        long n = 0;
        for (int l = 0; l < keys.length; l++) {
            for (int b = 0; b < keys[l].length; b++) {
                n += keys[l][b].length + values[l][b].length;
            }
        }
        return 4 * n;
    }
}
