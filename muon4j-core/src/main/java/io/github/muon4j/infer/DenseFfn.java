package io.github.muon4j.infer;

import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;

/**
 * The SwiGLU feed-forward (Shazeer, 2020) of a dense layer: out = (silu(x W_1^T) * (x W_3^T)) W_2^T
 * with silu(g) = g / (1 + e^-g), W_1 and W_3 (hidden, d) stored stacked as w13 (2 hidden, d) so
 * that both are one matrix product, W_2 (d, hidden). {@link MoeFfn} runs its shared and routed
 * experts through {@link #apply}, so the scratch rows fit the widest of them.
 */
final class DenseFfn {

    private final Team team;
    private final int d;
    private final float[] hid13; // [batch, 2 * max_hidden]: rows [x W_1^T | x W_3^T]
    private final float[] hid; // [batch, max_hidden]: silu(x W_1^T) * (x W_3^T)

    DenseFfn(DecoderWeights w, Team team, int batch) {
        this.team = team;
        ModelConfig c = w.config;
        d = c.dModel();
        int maxHidden = 0;
        for (DecoderWeights.Layer y : w.layers) {
            maxHidden = Math.max(maxHidden, Math.max(y.hidden, y.sharedHidden));
        }
        if (c.ffn() == FfnKind.MOE) {
            maxHidden = Math.max(maxHidden, c.expertHidden());
        }
        hid13 = new float[batch * 2 * maxHidden];
        hid = new float[batch * maxHidden];
    }

    /** out (m, d) = SwiGLU of the rows xn (m, d) with a dense layer's weights. */
    void forward(DecoderWeights.Layer y, float[] xn, int m, float[] out) {
        apply(y.w13, 0, y.w2, 0, y.hidden, xn, m, out);
    }

    /** W_13 and W_2 once for m rows. */
    void work(DecoderWeights.Layer y, int m, WorkTally t) {
        work(y.hidden, m, t);
    }

    /** A SwiGLU of width {@code hidden} applied to m rows. */
    void work(int hidden, int m, WorkTally t) {
        t.matmul(2 * hidden, d, m);
        t.matmul(d, hidden, m);
    }

    /**
     * dst (m, d) = SwiGLU(xin (m, d)) with w13 (2 hidden, d) at {@code w13[o13]} and w2 (d, hidden)
     * at {@code w2[o2]}.
     */
    void apply(
            float[] w13, int o13, float[] w2, int o2, int hidden, float[] xin, int m, float[] dst) {
        team.matmul(w13, o13, 2 * hidden, d, xin, 0, d, m, hid13, 0, 2 * hidden);
        for (int i = 0; i < m; i++) { // hid = silu(g) * u from rows [g | u]
            int s = i * 2 * hidden, o = i * hidden;
            for (int j = 0; j < hidden; j++) {
                float g = hid13[s + j];
                hid[o + j] = g / (1 + (float) Math.exp(-g)) * hid13[s + hidden + j];
            }
        }
        team.matmul(w2, o2, d, hidden, hid, 0, hidden, m, dst, 0, d);
    }
}
