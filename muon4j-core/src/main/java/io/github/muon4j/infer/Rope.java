package io.github.muon4j.infer;

/**
 * Rotary position embedding (RoPE; Su et al., RoFormer, 2021) in the half-split layout of {@code
 * RotaryEmbedding}: at position p the pair (v_i, v_{i + dim/2}) is rotated by the angle p
 * base^(-2i/dim), i &lt; dim/2, so that the dot product of a rotated query and key depends only on
 * the distance of their positions. The angles' cosines and sines are tabulated for every position
 * of the cache (which may exceed the training context).
 */
final class Rope {

    private final int half;
    private final float[] cos; // [capacity, dim / 2]
    private final float[] sin; // [capacity, dim / 2]

    Rope(int dim, double base, int capacity) {
        half = dim / 2;
        cos = new float[capacity * half];
        sin = new float[capacity * half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, -2.0 * i / dim); // as RotaryEmbedding
            for (int p = 0; p < capacity; p++) {
                cos[p * half + i] = (float) Math.cos(p * freq);
                sin[p * half + i] = (float) Math.sin(p * freq);
            }
        }
    }

    /** Rotates the pairs (i, i + dim/2) of v[o .. o + dim) in place by the angles of position p. */
    void rotate(float[] v, int o, int p) {
        int t = p * half;
        for (int i = 0; i < half; i++) {
            float x1 = v[o + i], x2 = v[o + half + i];
            float cs = cos[t + i], sn = sin[t + i];
            v[o + i] = x1 * cs - x2 * sn;
            v[o + half + i] = x2 * cs + x1 * sn;
        }
    }
}
