package io.github.muon4j.infer;

/**
 * The rows of one decode step: row i (i &lt; m) belongs to sequence {@code seqs[i]} at position
 * {@code positions[i]}, and attends to positions 0..positions[i] of that sequence's cache. {@link
 * BatchDecoder} refills it every step; the attention layers read it.
 */
final class StepRows {

    int m;
    int[] seqs; // [m]: sequence of each row
    final int[] positions; // [batch]: position of each row

    StepRows(int batch) {
        positions = new int[batch];
    }

    /** max_i (positions[i] + 1): the most positions one row attends to. */
    int maxLen() {
        int n = 0;
        for (int i = 0; i < m; i++) {
            n = Math.max(n, positions[i] + 1);
        }
        return n;
    }

    /** sum_i (positions[i] + 1): the cached positions all rows attend to together. */
    long attended() {
        long n = 0;
        for (int i = 0; i < m; i++) {
            n += positions[i] + 1;
        }
        return n;
    }
}
