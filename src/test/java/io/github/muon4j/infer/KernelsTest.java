package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Both kernel sets against float64 references, at sizes with and without vector tails. */
class KernelsTest {

    private static float[] rnd(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static double dot64(float[] a, int ao, float[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[ao + i] * b[bo + i];
        }
        return s;
    }

    @Test
    void kernelsMatchFloat64References() {
        Kernels simd = Kernels.simd();
        assertNotNull(simd);
        assertTrue(Kernels.get().name().startsWith("SIMD"), Kernels.get().name());
        Random r = new Random(1);
        for (Kernels k : new Kernels[] {simd, Kernels.plain()}) {
            for (int n : new int[] {1, 7, 16, 33, 64, 192, 257}) {
                float[] a = rnd(r, n + 5), b = rnd(r, n + 3);
                assertEquals(dot64(a, 5, b, 3, n), k.dot(a, 5, b, 3, n), 1e-4 * Math.sqrt(n), k.name());
                float[] y = rnd(r, n + 2), y0 = y.clone();
                k.axpy(0.7f, a, 5, y, 2, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(y0[i + 2] + 0.7 * a[i + 5], y[i + 2], 1e-5);
                }
                assertEquals(y0[0], y[0]);
                float[] e = rnd(r, n), e0 = e.clone();
                float sum = k.expShift(e, 0, n, 2f, 0.5f);
                double want = 0;
                for (int i = 0; i < n; i++) {
                    double x = Math.exp((e0[i] - 2.0) * 0.5);
                    want += x;
                    assertEquals(x, e[i], 1e-5 * x + 1e-7);
                }
                assertEquals(want, sum, 1e-5 * want);
                double s = 0;
                for (int i = 3; i < n + 3; i++) {
                    s += b[i - 3];
                }
                assertEquals(s, k.sum(b, 0, n), 1e-4 * Math.sqrt(n));
            }
            // matmul: 11 rows (4-row blocks and a tail), 3 input rows with strides, rows 2..11
            int rows = 11, n = 37, m = 3, xs = 40, ys = 13;
            float[] w = rnd(r, 5 + rows * n), x = rnd(r, 1 + m * xs), y = new float[2 + m * ys];
            k.matmul(w, 5, n, x, 1, xs, m, y, 2, ys, 2, rows);
            for (int b = 0; b < m; b++) {
                for (int row = 0; row < rows; row++) {
                    double want = row < 2 ? 0 : dot64(w, 5 + row * n, x, 1 + b * xs, n);
                    assertEquals(want, y[2 + b * ys + row], 1e-4, k.name() + " row " + row);
                }
            }
            // dotMany: one vector against 6 at stride 50, outputs at stride 3
            float[] q = rnd(r, 2 + 6 * 50), out = new float[1 + 6 * 3];
            k.dotMany(x, 1, q, 2, 50, 6, n, out, 1, 3);
            for (int j = 0; j < 6; j++) {
                assertEquals(dot64(x, 1, q, 2 + j * 50, n), out[1 + j * 3], 1e-4);
            }
        }
    }

    @Test
    void parallelCoversEveryItemOnce() {
        try (Parallel p = new Parallel(3)) {
            for (int n : new int[] {1, 2, 5, 100}) {
                int[] hits = new int[n];
                p.forRange(n, 1, 1, (chunk, from, to) -> {
                    for (int i = from; i < to; i++) {
                        hits[i]++;
                    }
                });
                for (int h : hits) {
                    assertEquals(1, h);
                }
            }
            assertThrows(IllegalStateException.class, () -> p.forRange(10, 1, 1, (chunk, from, to) -> {
                if (chunk == 2) {
                    throw new ArithmeticException("boom");
                }
            }));
        }
    }
}
