package io.github.muon4j.infer;

/**
 * Self-attention of one decode step over per-sequence caches ({@link MhaAttention} or {@link
 * MlaAttention}). Row i of a step belongs to sequence {@code seqs[i]} at position {@code
 * positions[i]}; its new cache entry is written at that position before it attends to positions
 * 0..positions[i].
 */
interface Attention {

    /** out (m, d) = attention output (after W_o) of the normalised rows xn (m, d) of layer l. */
    void forward(
            int layer,
            DecoderWeights.Layer y,
            float[] xn,
            int m,
            int[] seqs,
            int[] positions,
            float[] out);

    /** Adds one layer's work of a step of m rows at {@code positions} to {@code t}. */
    void work(int m, int[] positions, WorkTally t);

    /** Copies the first n positions of sequence {@code from}'s cache onto sequence {@code to}. */
    void copySequence(int from, int to, int n);

    /** Copies the first n positions of batch row 0 of a DJL decoder's cache into sequence seq. */
    void copyFrom(int seq, KvCache kv, int n);

    /** Bytes of all cache arrays as allocated. */
    long cacheBytes();
}
