package io.github.muon4j.optim;

/**
 * How Muon scales its orthogonalized update for a matrix of shape rows x cols (the last two dims of
 * the weight), before the learning rate.
 */
public enum AdjustLr {
    /** Keller Jordan's {@code sqrt(max(1, rows/cols))}: tall matrices get a larger step. */
    ORIGINAL,
    /**
     * Moonlight's {@code 0.2 * sqrt(max(rows, cols))}: makes the update RMS about 0.2, like
     * AdamW's, so AdamW's learning rate and weight decay can be reused.
     */
    MATCH_RMS_ADAMW,
    /** No scaling (factor 1). */
    NONE;

    /** The factor for a rows x cols matrix. */
    public double scale(long rows, long cols) {
        switch (this) {
            case ORIGINAL:
                return Math.sqrt(Math.max(1.0, (double) rows / cols));
            case MATCH_RMS_ADAMW:
                return 0.2 * Math.sqrt(Math.max(rows, cols));
            default:
                return 1.0;
        }
    }
}
