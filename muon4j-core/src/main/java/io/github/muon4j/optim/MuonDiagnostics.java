package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;

/**
 * What one Muon update did to one parameter, computed only when asked for (see {@link
 * Muon#diagnoseNextStep}).
 *
 * @param parameter the parameter's name
 * @param learningRate the learning rate used
 * @param scale the {@link AdjustLr} factor used
 * @param updateRms RMS of the applied update {@code lr*scale*X} (weight decay not included)
 * @param orthogonalityError {@code ||X X^T - I||_F / sqrt(min(rows, cols))} of the Newton-Schulz
 *     output X (the largest over a stack of matrices); NaN unless this parameter was chosen
 * @param spectralNorm spectral norm of the applied update, {@code lr*scale*sigma_max(X)}: the
 *     theory's bound, independent of the gradient's size; NaN unless this parameter was chosen
 */
public record MuonDiagnostics(
        String parameter,
        double learningRate,
        double scale,
        double updateRms,
        double orthogonalityError,
        double spectralNorm) {

    /**
     * Measures one update from the Newton-Schulz output X [k, m, n] (m &lt;= n) before it is
     * scaled; X is not changed. Temporaries live in {@code scope}.
     *
     * @param spectral whether to compute the orthogonality error and the spectral norm (a Gram
     *     product and a power iteration); otherwise they are NaN
     */
    static MuonDiagnostics measure(
            String parameter,
            double lr,
            double scale,
            NDArray x,
            boolean spectral,
            NDManager scope) {
        double rms;
        try (NDArray sq = Muon.inScope(x.square(), scope);
                NDArray mean = sq.mean()) {
            rms = Math.sqrt(mean.getFloat());
        }
        double ortho = Double.NaN;
        double sigma = Double.NaN;
        if (spectral) {
            ortho = orthogonalityError(x, scope);
            sigma = maxSingularValue(x, scope);
        }
        return new MuonDiagnostics(
                parameter, lr, scale, lr * scale * rms, ortho, lr * scale * sigma);
    }

    /** max over the stack of ||X X^T - I||_F / sqrt(m) for X of [k, m, n], m &lt;= n. */
    static double orthogonalityError(NDArray x, NDManager scope) {
        long m = x.getShape().get(1);
        try (NDManager s = scope.newSubManager()) {
            NDArray xt = Muon.inScope(x.swapAxes(1, 2), s);
            NDArray gram = Muon.inScope(x.matMul(xt), s); // [k, m, m]
            gram.subi(s.eye((int) m));
            float[] norms = gram.square().sum(new int[] {1, 2}).sqrt().toFloatArray();
            double max = 0;
            for (float f : norms) {
                max = Math.max(max, f);
            }
            return max / Math.sqrt(m);
        }
    }

    /**
     * max over the stack of the largest singular value of X [k, m, n]: the square root of the top
     * eigenvalue of X X^T, by power iteration in double precision (300 iterations, Rayleigh
     * quotient; a lower bound that is tight to about 1e-3 even with the clustered spectrum
     * Newton-Schulz leaves).
     */
    static double maxSingularValue(NDArray x, NDManager scope) {
        int k = (int) x.getShape().get(0);
        int m = (int) x.getShape().get(1);
        float[] g;
        try (NDManager s = scope.newSubManager()) {
            NDArray xt = Muon.inScope(x.swapAxes(1, 2), s);
            g = Muon.inScope(x.matMul(xt), s).toFloatArray(); // [k, m, m]
        }
        double best = 0;
        for (int b = 0; b < k; b++) {
            best = Math.max(best, Math.sqrt(topEigenvalue(g, b * m * m, m)));
        }
        return best;
    }

    /** Top eigenvalue of the symmetric m x m matrix at {@code g[off..]} by power iteration. */
    private static double topEigenvalue(float[] g, int off, int m) {
        double[] v = new double[m];
        Arrays.fill(v, 1.0 / Math.sqrt(m));
        double lambda = 0;
        for (int iter = 0; iter < 300; iter++) {
            double[] w = new double[m];
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int j = 0; j < m; j++) {
                    acc += g[off + i * m + j] * v[j];
                }
                w[i] = acc;
            }
            double norm = 0;
            double rayleigh = 0;
            for (int i = 0; i < m; i++) {
                norm += w[i] * w[i];
                rayleigh += w[i] * v[i];
            }
            norm = Math.sqrt(norm);
            if (norm == 0) {
                break;
            }
            lambda = rayleigh;
            for (int i = 0; i < m; i++) {
                v[i] = w[i] / norm;
            }
        }
        return lambda;
    }
}
