package io.github.muon4j.infer;

import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import java.util.Arrays;

/**
 * The DeepSeekMoE feed-forward as in DeepSeek-V3 (as {@code MoE} and {@code Gate}): E routed
 * experts and optional shared experts, each a small SwiGLU ({@link DenseFfn#apply}). Per row x,
 *
 * <pre>
 * s_e   = sigmoid(x . r_e)           (DeepSeek-V3; or softmax_e(x . r_e))
 * top-k = the k experts with the largest s_e + b_e   (the bias b only selects)
 * g_e   = s_e / sum_{top-k} s_e      (sigmoid; softmax: g_e = s_e)
 * out   = SwiGLU_shared(x) + sum_{e in top-k} g_e SwiGLU_e(x)
 * </pre>
 *
 * Rows are grouped by expert so that each chosen expert's weights are read once per step.
 */
final class MoeFfn {

    private final DenseFfn swiGlu;
    private final Team team;
    private final int d, experts, topK, expertHidden;
    private final boolean sigmoid;
    private final float[] logits; // [batch, n_experts]: x . r_e
    private final float[] score; // [batch, n_experts]: s_e
    private final float[] weight; // [batch, top_k]: g_e of the chosen experts
    private final int[] chosen; // [batch, top_k]: expert of assignment (row, slot)
    private final int[] counts; // [n_experts]: rows assigned to each expert in the last step
    private final int[] starts; // [n_experts + 1]: first index of each expert's run in order
    private final int[] order; // [batch * top_k]: assignments (row * top_k + slot) by expert
    private final float[] xg; // [batch, d]: the rows assigned to one expert, gathered
    private final float[] yg; // [batch, d]: that expert's outputs for them

    MoeFfn(ModelConfig c, DenseFfn swiGlu, Team team, int batch) {
        this.swiGlu = swiGlu;
        this.team = team;
        d = c.dModel();
        experts = c.nRoutedExperts();
        topK = c.topK();
        expertHidden = c.expertHidden();
        sigmoid = c.scoreFunction() == ScoreFunction.SIGMOID;
        logits = new float[batch * experts];
        score = new float[batch * experts];
        weight = new float[batch * topK];
        chosen = new int[batch * topK];
        counts = new int[experts];
        starts = new int[experts + 1];
        order = new int[batch * topK];
        xg = new float[batch * d];
        yg = new float[batch * d];
    }

    /** out (m, d) = the mixture of experts of the rows xn (m, d). */
    void forward(DecoderWeights.Layer y, float[] xn, int m, float[] out) {
        int e = experts, eh = expertHidden;
        team.matmul(y.router, 0, e, d, xn, 0, d, m, logits, 0, e);
        Arrays.fill(counts, 0);
        for (int i = 0; i < m; i++) {
            route(y.routerBias, i);
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
            swiGlu.apply(y.sharedW13, 0, y.sharedW2, 0, y.sharedHidden, xn, m, out);
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
            swiGlu.apply(y.expertW13, ex * 2 * eh * d, y.expertW2, ex * d * eh, eh, xg, cnt, yg);
            for (int r = 0; r < cnt; r++) {
                int a = order[starts[ex] + r];
                team.k.axpy(weight[a], yg, r * d, out, a / topK * d, d);
            }
        }
    }

    /**
     * The router once, the shared experts for all m rows, and each routed expert chosen in the last
     * {@link #forward} once for the rows assigned to it.
     */
    void work(DecoderWeights.Layer y, int m, WorkTally t) {
        t.matmul(experts, d, m);
        if (y.sharedW13 != null) {
            swiGlu.work(y.sharedHidden, m, t);
        }
        for (int ex = 0; ex < experts; ex++) {
            if (counts[ex] > 0) {
                swiGlu.work(expertHidden, counts[ex], t);
            }
        }
    }

    /** Router of row i: scores, top-k on scores + bias, combine weights. */
    private void route(float[] bias, int i) {
        int e = experts, o = i * e;
        if (!sigmoid) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < e; j++) {
                max = Math.max(max, logits[o + j]);
            }
            float sum = 0;
            for (int j = 0; j < e; j++) {
                score[o + j] = (float) Math.exp(logits[o + j] - max);
                sum += score[o + j];
            }
            for (int j = 0; j < e; j++) {
                score[o + j] /= sum;
            }
        } else {
            for (int j = 0; j < e; j++) {
                score[o + j] = 1 / (1 + (float) Math.exp(-logits[o + j]));
            }
        }
        float total = 0;
        for (int j = 0; j < topK; j++) {
            int best = -1;
            float bv = Float.NEGATIVE_INFINITY;
            for (int ex = 0; ex < e; ex++) {
                float v = score[o + ex] + bias[ex];
                if (v > bv && !taken(i, j, ex)) {
                    bv = v;
                    best = ex;
                }
            }
            chosen[i * topK + j] = best;
            weight[i * topK + j] = score[o + best];
            total += score[o + best];
            counts[best]++;
        }
        if (sigmoid) {
            for (int j = 0; j < topK; j++) {
                weight[i * topK + j] /= total;
            }
        }
    }

    /** Whether row i chose expert ex in one of its first j slots. */
    private boolean taken(int i, int j, int ex) {
        for (int a = 0; a < j; a++) {
            if (chosen[i * topK + a] == ex) {
                return true;
            }
        }
        return false;
    }
}
