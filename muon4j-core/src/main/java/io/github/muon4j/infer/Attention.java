package io.github.muon4j.infer;

/**
 * Self-attention of one decode step over per-sequence caches ({@link MhaAttention} or {@link
 * MlaAttention}). Each row of the step ({@link StepRows}) writes its new cache entry at its
 * position before it attends to positions 0..position.
 */
interface Attention {

    /** out (m, d) = attention output (after W_o) of the normalised rows xn (m, d) of layer l. */
    void forward(int layer, DecoderWeights.Layer y, float[] xn, StepRows rows, float[] out);

    /** Adds one layer's work of the step {@code rows} to {@code t}. */
    void work(StepRows rows, WorkTally t);

    /** Copies the first n positions of sequence {@code from}'s cache onto sequence {@code to}. */
    void copySequence(int from, int to, int n);

    /** Copies the first n positions of batch row 0 of a DJL decoder's cache into sequence seq. */
    void copyFrom(int seq, KvCache kv, int n);

    /** Bytes of all cache arrays as allocated. */
    long cacheBytes();
}
