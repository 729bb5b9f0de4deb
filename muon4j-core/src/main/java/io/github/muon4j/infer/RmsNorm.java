package io.github.muon4j.infer;

/**
 * RMSNorm (Zhang and Sennrich, 2019) as {@code RMSNorm}: y = x / sqrt(mean_j x_j^2 + eps) * g, with
 * the mean of squares summed in float64.
 */
final class RmsNorm {

    private RmsNorm() {}

    /** dst (m, n) = RMSNorm of the rows of src (m, n), both row-major from index 0. */
    static void rows(float[] src, float[] dst, int m, int n, float[] gain, double eps) {
        for (int i = 0; i < m; i++) {
            row(src, i * n, dst, i * n, n, gain, eps);
        }
    }

    /** dst[dO .. dO + n) = RMSNorm of src[so .. so + n) with gain (n). */
    static void row(float[] src, int so, float[] dst, int dO, int n, float[] gain, double eps) {
        double ss = 0;
        for (int j = 0; j < n; j++) {
            ss += (double) src[so + j] * src[so + j];
        }
        float r = (float) (1 / Math.sqrt(ss / n + eps));
        for (int j = 0; j < n; j++) {
            dst[dO + j] = src[so + j] * r * gain[j];
        }
    }
}
