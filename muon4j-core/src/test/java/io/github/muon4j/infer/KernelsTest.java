package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.reflect.Method;
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
                assertEquals(
                        dot64(a, 5, b, 3, n), k.dot(a, 5, b, 3, n), 1e-4 * Math.sqrt(n), k.name());
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
            // matmul: 11 rows (4-row blocks and a tail), 3 or 7 input rows with strides (7: a block
            // of 4 input rows, a pair and a single one; and 1 input row, the batch-1 path), rows
            // 2..11; widths with and without whole vector blocks
            // (n 1024: the SIMD product reads W ahead in chunks of 32 rows, so 70 rows cross two
            // chunk boundaries and end in a partial block)
            for (int m : new int[] {1, 3, 7}) {
                for (int n : new int[] {37, 133, 1024}) {
                    int rows = n == 1024 ? 70 : 11, xs = n + 3, ys = rows + 2;
                    float[] w = rnd(r, 5 + rows * n),
                            x = rnd(r, 1 + m * xs),
                            y = new float[2 + m * ys];
                    k.matmul(w, 5, n, x, 1, xs, m, y, 2, ys, 2, rows);
                    for (int b = 0; b < m; b++) {
                        for (int row = 0; row < rows; row++) {
                            double want = row < 2 ? 0 : dot64(w, 5 + row * n, x, 1 + b * xs, n);
                            assertEquals(
                                    want,
                                    y[2 + b * ys + row],
                                    1e-4 * Math.sqrt(n),
                                    k.name() + " m " + m + " n " + n + " row " + row);
                        }
                    }
                }
            }
            // weightedSum: 5 rows of stride 41, 70 columns (vector blocks and a tail)
            float[] pw = rnd(r, 6),
                    vv = rnd(r, 3 + 5 * 41 + 70),
                    acc = rnd(r, 72),
                    acc0 = acc.clone();
            k.weightedSum(pw, 1, 5, vv, 3, 41, acc, 2, 37);
            for (int i = 0; i < 37; i++) {
                double want = acc0[2 + i];
                for (int t = 0; t < 5; t++) {
                    want += (double) pw[1 + t] * vv[3 + t * 41 + i];
                }
                assertEquals(want, acc[2 + i], 1e-5, k.name() + " weightedSum " + i);
            }
            assertEquals(acc0[39], acc[39]);
            float[] wide = new float[200];
            k.weightedSum(pw, 0, 1, vv, 0, 0, wide, 0, 200); // 4-vector blocks too
            for (int i = 0; i < 200; i++) {
                assertEquals(pw[0] * vv[i], wide[i], 1e-6);
            }
            // weightedSums: 6 weight rows (a block of 4 and a tail) over 3 rows of 40 or 110
            // columns
            // (110 with 16 lanes: a block of 4 vectors, one of 2, and a tail)
            for (int len : new int[] {40, 110}) {
                int vs = len + 5, ys = len + 1;
                float[] ph = rnd(r, 6 * 5),
                        vh = rnd(r, 2 + 3 * vs),
                        yh = rnd(r, 6 * ys),
                        yh0 = yh.clone();
                k.weightedSums(ph, 1, 5, 6, 3, vh, 2, vs, yh, 0, ys, len);
                for (int j = 0; j < 6; j++) {
                    for (int i = 0; i < ys; i++) {
                        double want = yh0[j * ys + i];
                        for (int t = 0; i < len && t < 3; t++) {
                            want += (double) ph[1 + j * 5 + t] * vh[2 + t * vs + i];
                        }
                        assertEquals(
                                want,
                                yh[j * ys + i],
                                1e-5,
                                k.name() + " weightedSums " + len + ": " + j + "," + i);
                    }
                }
            }
            // exp over the whole softmax range, down to where it underflows
            float[] big = new float[300];
            for (int i = 0; i < big.length; i++) {
                big[i] = -i * 0.3f;
            }
            float[] big0 = big.clone();
            k.expShift(big, 0, big.length, 0f, 1f);
            for (int i = 0; i < big.length; i++) {
                double ex = Math.exp(big0[i]);
                assertEquals(ex, big[i], 2e-7 * ex + 1e-37, k.name() + " exp(" + big0[i] + ")");
            }
        }
    }

    /**
     * MLA's absorbed scores (q_j . c_t over a block of cached rows), the SIMD kernel (heads in the
     * lanes from more than half a vector of heads on, dot products below) against the plain
     * reference, over head counts on both sides of that switch and across several vectors, odd row
     * widths (vector tails) and position counts with and without whole 8-position tiles and a tail.
     *
     * <p>Tolerance: a float32 dot product of n terms summed in any order, with or without fused
     * multiply-adds, is within gamma_n sum_i |q_i c_i| of the exact value, gamma_n = n u / (1 - n
     * u) with u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1); each kernel
     * is held to that bound against a float64 sum, and the two to twice it between them.
     */
    @Test
    void latentScoresMatchThePlainReference() {
        Kernels simd = Kernels.simd(), plain = Kernels.plain();
        assertNotNull(simd);
        assertTrue(
                simd.latentWorkspace(100, 24) > 100 * 24,
                "many heads take the heads-in-lanes path (transposed queries and a tile)");
        Random r = new Random(7);
        double u = Math.ulp(1f) / 2;
        for (int h : new int[] {1, 3, 4, 7, 8, 9, 12, 16, 17, 33}) {
            for (int n : new int[] {1, 2, 7, 24, 80, 289}) {
                for (int count : new int[] {1, 3, 8, 11, 32}) {
                    int qo = 3, co = 5, so = 2, ss = count + 3;
                    float[] q = rnd(r, qo + h * n), c = rnd(r, co + count * n);
                    float[] ws = new float[simd.latentWorkspace(h, n)];
                    float[] ps = new float[plain.latentWorkspace(h, n)];
                    float[] got = new float[so + h * ss], want = new float[so + h * ss];
                    java.util.Arrays.fill(got, 99f);
                    java.util.Arrays.fill(want, 99f);
                    simd.prepareQueries(q, qo, h, n, ws);
                    simd.latentScores(ws, h, n, c, co, count, got, so, ss);
                    plain.prepareQueries(q, qo, h, n, ps);
                    plain.latentScores(ps, h, n, c, co, count, want, so, ss);
                    double gamma = n * u / (1 - n * u);
                    for (int j = 0; j < h; j++) {
                        for (int t = 0; t < ss; t++) {
                            int o = so + j * ss + t;
                            String at =
                                    "h " + h + " n " + n + " count " + count + " (" + j + ", " + t
                                            + ")";
                            if (t >= count) {
                                assertEquals(99f, got[o], "untouched " + at);
                                continue;
                            }
                            double exact = 0, abs = 0;
                            for (int i = 0; i < n; i++) {
                                double p = (double) q[qo + j * n + i] * c[co + t * n + i];
                                exact += p;
                                abs += Math.abs(p);
                            }
                            double bound = gamma * abs;
                            assertEquals(exact, got[o], bound, "simd vs float64 " + at);
                            assertEquals(exact, want[o], bound, "plain vs float64 " + at);
                            assertEquals(want[o], got[o], 2 * bound, "simd vs plain " + at);
                        }
                    }
                    assertEquals(99f, got[0]);
                    assertEquals(99f, got[1]);
                }
            }
        }
    }

    /**
     * Sections back to back whose block counts alternate (2 items, then 100): a worker that read a
     * finished section's claim counter must not take it for a block of the next section, which has
     * more blocks (it ran the next body, or none, on a stale block, and the caller could return
     * before the section was done).
     */
    @Test
    void parallelSectionsOfDifferentSizesBackToBack() {
        try (Parallel p = new Parallel(4)) {
            int[] hits = new int[100];
            for (int s = 0; s < 200_000; s++) {
                int n = s % 2 == 0 ? 2 : 100;
                java.util.Arrays.fill(hits, 0);
                p.forRange(
                        n,
                        1,
                        1,
                        (thread, from, to) -> {
                            for (int i = from; i < to; i++) {
                                hits[i]++;
                            }
                        });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits[i], "section " + s + " item " + i);
                }
            }
        }
    }

    @Test
    void parallelCoversEveryItemOnce() {
        try (Parallel p = new Parallel(3)) {
            for (int n : new int[] {1, 2, 5, 100, 1000, 7, 3}) {
                int[] hits = new int[n];
                p.forRange(
                        n,
                        1,
                        1,
                        (thread, from, to) -> {
                            assertTrue(thread >= 0 && thread < 3);
                            for (int i = from; i < to; i++) {
                                hits[i]++;
                            }
                        });
                for (int h : hits) {
                    assertEquals(1, h);
                }
            }
            assertThrows(
                    IllegalStateException.class,
                    () ->
                            p.forRange(
                                    10,
                                    1,
                                    1,
                                    (thread, from, to) -> {
                                        if (from <= 7 && 7 < to) {
                                            throw new ArithmeticException("boom");
                                        }
                                    }));
        }
    }

    /**
     * No method of the SIMD kernels takes or returns a vector. C2 may compile such a helper on its
     * own, without the vector's exact class, and then run its operations through the Vector API's
     * Java fallback: a softmax exp written that way made MLA/MHA decoding at 8 x 4,096 1.5-1.8x
     * slower in about a third of the runs (BENCHMARKS.md, 2026-12-05).
     */
    @Test
    void noKernelHelperPassesAVector() {
        for (Method m : VectorKernels.class.getDeclaredMethods()) {
            assertFalse(
                    isVector(m.getReturnType()),
                    m.getName() + " returns " + m.getReturnType().getName());
            for (Class<?> p : m.getParameterTypes()) {
                assertFalse(isVector(p), m.getName() + " takes a " + p.getName());
            }
        }
    }

    private static boolean isVector(Class<?> c) {
        return c.getName().startsWith("jdk.incubator.vector.")
                && !c.getSimpleName().equals("VectorSpecies");
    }
}
