package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

/** Test helpers: seeded Gaussian arrays and a float64 symmetric eigen solver for SVDs. */
final class OptimTestSupport {

    private OptimTestSupport() {}

    /** Standard normal float32 array from java.util.Random(seed), times {@code std}. */
    static NDArray gaussian(NDManager m, long seed, double std, long... shape) {
        Random r = new Random(seed);
        float[] v = new float[(int) new Shape(shape).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (std * r.nextGaussian());
        }
        return m.create(v, new Shape(shape));
    }

    /**
     * Singular values (descending) of a rows x cols row-major matrix, in float64: square roots of
     * the eigenvalues of the smaller Gram matrix, found by cyclic Jacobi rotations.
     */
    static double[] singularValues(float[] x, int rows, int cols) {
        int m = Math.min(rows, cols);
        double[][] gram = new double[m][m];
        for (int i = 0; i < m; i++) {
            for (int j = i; j < m; j++) {
                double s = 0;
                if (rows <= cols) {
                    for (int k = 0; k < cols; k++) {
                        s += (double) x[i * cols + k] * x[j * cols + k];
                    }
                } else {
                    for (int k = 0; k < rows; k++) {
                        s += (double) x[k * cols + i] * x[k * cols + j];
                    }
                }
                gram[i][j] = s;
                gram[j][i] = s;
            }
        }
        double[] ev = symmetricEigenvalues(gram);
        double[] sv = new double[m];
        for (int i = 0; i < m; i++) {
            sv[i] = Math.sqrt(Math.max(0, ev[m - 1 - i]));
        }
        return sv;
    }

    /** Eigenvalues (ascending) of a symmetric matrix by cyclic Jacobi rotations; a is destroyed. */
    static double[] symmetricEigenvalues(double[][] a) {
        int n = a.length;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double total = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    total += a[i][j] * a[i][j];
                    if (i != j) {
                        off += a[i][j] * a[i][j];
                    }
                }
            }
            if (off <= 1e-30 * total) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    // rotation that zeroes a[p][q]
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t =
                            theta == 0
                                    ? 1
                                    : Math.signum(theta) / (Math.abs(theta) + Math.hypot(theta, 1));
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) {
            ev[i] = a[i][i];
        }
        Arrays.sort(ev);
        return ev;
    }

    /** Largest |a - b| over two equal-length arrays. */
    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - b[i]));
        }
        return d;
    }

    /** Largest |a|. */
    static double maxAbs(float[] a) {
        double d = 0;
        for (float v : a) {
            d = Math.max(d, Math.abs(v));
        }
        return d;
    }

    /** The bytes {@code saveState} writes. */
    interface Saver {
        void save(ByteArrayOutputStream out) throws IOException;
    }

    static byte[] bytes(Saver saver) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        saver.save(out);
        return out.toByteArray();
    }
}
