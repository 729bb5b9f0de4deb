package io.github.muon4j.infer;

import static jdk.incubator.vector.VectorOperators.ADD;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} with the JDK vector API at the CPU's preferred width (16 floats with AVX-512):
 * fused multiply-adds into vector accumulators, one lane reduction per dot product. Loaded by
 * reflection only when the JVM has {@code jdk.incubator.vector}.
 */
final class VectorKernels extends Kernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    public String name() {
        return "SIMD " + S.vectorBitSize() + "-bit (" + L + " floats, jdk.incubator.vector)";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) { // four FMA chains in flight
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
            s1 =
                    FloatVector.fromArray(S, a, ao + i + L)
                            .fma(FloatVector.fromArray(S, b, bo + i + L), s1);
            s2 =
                    FloatVector.fromArray(S, a, ao + i + 2 * L)
                            .fma(FloatVector.fromArray(S, b, bo + i + 2 * L), s2);
            s3 =
                    FloatVector.fromArray(S, a, ao + i + 3 * L)
                            .fma(FloatVector.fromArray(S, b, bo + i + 3 * L), s3);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), s0);
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xo + i)
                    .fma(av, FloatVector.fromArray(S, y, yo + i))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    @Override
    public void matmul(
            float[] w,
            int wo,
            int n,
            float[] x,
            int xo,
            int xs,
            int m,
            float[] y,
            int yo,
            int ys,
            int r0,
            int r1) {
        if (m == 1) { // one input row: each weight row read start to end, as a streaming sum does
            for (int r = r0; r < r1; r++) {
                y[yo + r] = dot(w, wo + r * n, x, xo, n);
            }
            return;
        }
        // several input rows: the rows of W in chunks of ~128 KB, each read start to end first (the
        // register blocks below read four rows interleaved, which the hardware prefetcher does not
        // follow from memory; the chunk then stays in L2)
        int chunk = Math.max(4, (READ_AHEAD_FLOATS / n) & ~3);
        int bound = n - n % L;
        double touched = 0;
        for (int from = r0; from < r1; from += chunk) {
            int to = Math.min(r1, from + chunk);
            touched += sum(w, wo + from * n, wo + to * n);
            int r = from;
            for (; r + 3 < to; r += 4) {
                int f0 = wo + r * n, f1 = f0 + n, f2 = f1 + n, f3 = f2 + n;
                int b = 0;
                for (; b + 3 < m; b += 4) {
                    block4x4(w, f0, n, bound, x, xo + b * xs, xs, y, yo + b * ys + r, ys);
                }
                for (; b + 1 < m; b += 2) { // 4 weight rows x 2 input rows: 6 loads per 8 FMAs
                    int xb = xo + b * xs, xc = xb + xs;
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                    FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0;
                    int i = 0;
                    for (; i < bound; i += L) {
                        FloatVector xv = FloatVector.fromArray(S, x, xb + i);
                        FloatVector xw = FloatVector.fromArray(S, x, xc + i);
                        FloatVector w0 = FloatVector.fromArray(S, w, f0 + i);
                        FloatVector w1 = FloatVector.fromArray(S, w, f1 + i);
                        FloatVector w2 = FloatVector.fromArray(S, w, f2 + i);
                        FloatVector w3 = FloatVector.fromArray(S, w, f3 + i);
                        a0 = w0.fma(xv, a0);
                        a1 = w1.fma(xv, a1);
                        a2 = w2.fma(xv, a2);
                        a3 = w3.fma(xv, a3);
                        c0 = w0.fma(xw, c0);
                        c1 = w1.fma(xw, c1);
                        c2 = w2.fma(xw, c2);
                        c3 = w3.fma(xw, c3);
                    }
                    int yb = yo + b * ys + r, yc = yb + ys;
                    y[yb] = finish(a0.reduceLanes(ADD), w, f0, x, xb, i, n);
                    y[yb + 1] = finish(a1.reduceLanes(ADD), w, f1, x, xb, i, n);
                    y[yb + 2] = finish(a2.reduceLanes(ADD), w, f2, x, xb, i, n);
                    y[yb + 3] = finish(a3.reduceLanes(ADD), w, f3, x, xb, i, n);
                    y[yc] = finish(c0.reduceLanes(ADD), w, f0, x, xc, i, n);
                    y[yc + 1] = finish(c1.reduceLanes(ADD), w, f1, x, xc, i, n);
                    y[yc + 2] = finish(c2.reduceLanes(ADD), w, f2, x, xc, i, n);
                    y[yc + 3] = finish(c3.reduceLanes(ADD), w, f3, x, xc, i, n);
                }
                for (; b < m; b++) {
                    int xb = xo + b * xs;
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                    int i = 0;
                    for (; i < bound; i += L) {
                        FloatVector xv = FloatVector.fromArray(S, x, xb + i);
                        a0 = FloatVector.fromArray(S, w, f0 + i).fma(xv, a0);
                        a1 = FloatVector.fromArray(S, w, f1 + i).fma(xv, a1);
                        a2 = FloatVector.fromArray(S, w, f2 + i).fma(xv, a2);
                        a3 = FloatVector.fromArray(S, w, f3 + i).fma(xv, a3);
                    }
                    int yb = yo + b * ys + r;
                    y[yb] = finish(a0.reduceLanes(ADD), w, f0, x, xb, i, n);
                    y[yb + 1] = finish(a1.reduceLanes(ADD), w, f1, x, xb, i, n);
                    y[yb + 2] = finish(a2.reduceLanes(ADD), w, f2, x, xb, i, n);
                    y[yb + 3] = finish(a3.reduceLanes(ADD), w, f3, x, xb, i, n);
                }
            }
            for (; r < to; r++) {
                for (int b = 0; b < m; b++) {
                    y[yo + b * ys + r] = dot(w, wo + r * n, x, xo + b * xs, n);
                }
            }
        }
        readAhead = touched;
    }

    /**
     * y[b, r..r+3] for 4 input rows b from 4 weight rows r..r+3 (W's rows from {@code f0}, {@code
     * n} apart): 8 loads per 16 FMAs in 16 accumulators, where the 4 x 2 block takes 6 per 8.
     * Measured on one thread, 8 input rows by 20-200 cached weight rows of 160-1408: 68-84 GFLOP/s
     * against the 4 x 2 block's 41-60.
     *
     * @param xb offset of the first input row in x; rows {@code xs} apart
     * @param yb offset of y[first input row, first weight row]; input rows {@code ys} apart
     */
    private static void block4x4(
            float[] w,
            int f0,
            int n,
            int bound,
            float[] x,
            int xb,
            int xs,
            float[] y,
            int yb,
            int ys) {
        int f1 = f0 + n, f2 = f1 + n, f3 = f2 + n;
        int x0 = xb, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00; // a<input><weight row>
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector w0 = FloatVector.fromArray(S, w, f0 + i);
            FloatVector w1 = FloatVector.fromArray(S, w, f1 + i);
            FloatVector w2 = FloatVector.fromArray(S, w, f2 + i);
            FloatVector w3 = FloatVector.fromArray(S, w, f3 + i);
            FloatVector v = FloatVector.fromArray(S, x, x0 + i);
            a00 = w0.fma(v, a00);
            a01 = w1.fma(v, a01);
            a02 = w2.fma(v, a02);
            a03 = w3.fma(v, a03);
            v = FloatVector.fromArray(S, x, x1 + i);
            a10 = w0.fma(v, a10);
            a11 = w1.fma(v, a11);
            a12 = w2.fma(v, a12);
            a13 = w3.fma(v, a13);
            v = FloatVector.fromArray(S, x, x2 + i);
            a20 = w0.fma(v, a20);
            a21 = w1.fma(v, a21);
            a22 = w2.fma(v, a22);
            a23 = w3.fma(v, a23);
            v = FloatVector.fromArray(S, x, x3 + i);
            a30 = w0.fma(v, a30);
            a31 = w1.fma(v, a31);
            a32 = w2.fma(v, a32);
            a33 = w3.fma(v, a33);
        }
        int y0 = yb, y1 = y0 + ys, y2 = y1 + ys, y3 = y2 + ys;
        y[y0] = finish(a00.reduceLanes(ADD), w, f0, x, x0, i, n);
        y[y0 + 1] = finish(a01.reduceLanes(ADD), w, f1, x, x0, i, n);
        y[y0 + 2] = finish(a02.reduceLanes(ADD), w, f2, x, x0, i, n);
        y[y0 + 3] = finish(a03.reduceLanes(ADD), w, f3, x, x0, i, n);
        y[y1] = finish(a10.reduceLanes(ADD), w, f0, x, x1, i, n);
        y[y1 + 1] = finish(a11.reduceLanes(ADD), w, f1, x, x1, i, n);
        y[y1 + 2] = finish(a12.reduceLanes(ADD), w, f2, x, x1, i, n);
        y[y1 + 3] = finish(a13.reduceLanes(ADD), w, f3, x, x1, i, n);
        y[y2] = finish(a20.reduceLanes(ADD), w, f0, x, x2, i, n);
        y[y2 + 1] = finish(a21.reduceLanes(ADD), w, f1, x, x2, i, n);
        y[y2 + 2] = finish(a22.reduceLanes(ADD), w, f2, x, x2, i, n);
        y[y2 + 3] = finish(a23.reduceLanes(ADD), w, f3, x, x2, i, n);
        y[y3] = finish(a30.reduceLanes(ADD), w, f0, x, x3, i, n);
        y[y3 + 1] = finish(a31.reduceLanes(ADD), w, f1, x, x3, i, n);
        y[y3 + 2] = finish(a32.reduceLanes(ADD), w, f2, x, x3, i, n);
        y[y3 + 3] = finish(a33.reduceLanes(ADD), w, f3, x, x3, i, n);
    }

    /**
     * A dot product: its lanes' sum {@code s} plus the scalar tail w[wr + j] * x[xr + j] for j in
     * [i, n). The lanes are summed by the caller: a helper taking a vector may be compiled on its
     * own and then run the Vector API's Java fallback (see {@link #expShift}).
     */
    private static float finish(float s, float[] w, int wr, float[] x, int xr, int i, int n) {
        for (int j = i; j < n; j++) {
            s += w[wr + j] * x[xr + j];
        }
        return s;
    }

    /** Floats of W read ahead by {@link #matmul} with several input rows (128 KB). */
    private static final int READ_AHEAD_FLOATS = 32 * 1024;

    /** The sum of the last read-ahead, kept so that the reads are not dropped as dead code. */
    @SuppressWarnings("unused")
    private double readAhead;

    /**
     * a[o..o+n) = exp((a - max) * scale), returning their sum. exp(x) for x <= 0 (softmax after the
     * max shift) by Cephes' single-precision method: x = n ln2 + r with |r| <= ln2/2, exp(r) by a
     * degree-7 polynomial, 2^n built in the exponent bits; relative error about 1e-7. Below -87 the
     * result is flushed towards exp(-87).
     *
     * <p>n is rounded with the 1.5 x 2^23 trick (adding it leaves n in the low mantissa bits), not
     * with a float-to-int {@code convert}: HotSpot 17 does not compile that conversion at 512 bits
     * and falls back to a per-lane loop, which made this 14x slower (12 against 0.9 ns per value).
     *
     * <p>exp is written out in the loop rather than in a helper taking a {@code FloatVector}: C2
     * sometimes compiled such a helper on its own (depending on the order of background
     * compilations), without the vector's exact class, and then ran its operations through the
     * Vector API's Java fallback; MHA's decode at 8 x 4,096 took 1.5-1.8x as long in about a third
     * of the runs (BENCHMARKS.md, 2026-12-05).
     */
    @Override
    public float expShift(float[] a, int o, int n, float max, float scale) {
        FloatVector mv = FloatVector.broadcast(S, max);
        FloatVector sv = FloatVector.broadcast(S, scale);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, o + i).sub(mv).mul(sv).max(-87f);
            FloatVector t = x.mul(1.44269504088896341f).add(ROUND);
            FloatVector fn = t.sub(ROUND); // n = round(x / ln2), as a float
            FloatVector r = x.sub(fn.mul(0.693359375f)).sub(fn.mul(-2.12194440e-4f));
            FloatVector p =
                    FloatVector.broadcast(S, 1.9875691500e-4f)
                            .fma(r, FloatVector.broadcast(S, 1.3981999507e-3f))
                            .fma(r, FloatVector.broadcast(S, 8.3334519073e-3f))
                            .fma(r, FloatVector.broadcast(S, 4.1665795894e-2f))
                            .fma(r, FloatVector.broadcast(S, 1.6666665459e-1f))
                            .fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
            // t's bits are ROUND's bits + n: 2^n = (n + 127) << 23
            IntVector bits =
                    ((IntVector) t.reinterpretAsInts())
                            .sub(Float.floatToRawIntBits(ROUND) - 127)
                            .lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(r).mul(r).add(r).add(1f).mul(bits.reinterpretAsFloats());
            e.intoArray(a, o + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp((a[o + i] - max) * scale);
            a[o + i] = e;
            sum += e;
        }
        return sum;
    }

    /** 1.5 x 2^23: adding it to a float of magnitude below 2^22 rounds it to an integer. */
    private static final float ROUND = 12582912f;

    @Override
    public void weightedSum(
            float[] p, int po, int n, float[] v, int vo, int vs, float[] y, int yo, int len) {
        int i = 0;
        for (; i + 4 * L <= len; i += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(S, y, yo + i);
            FloatVector a1 = FloatVector.fromArray(S, y, yo + i + L);
            FloatVector a2 = FloatVector.fromArray(S, y, yo + i + 2 * L);
            FloatVector a3 = FloatVector.fromArray(S, y, yo + i + 3 * L);
            for (int t = 0; t < n; t++) {
                FloatVector pt = FloatVector.broadcast(S, p[po + t]);
                int b = vo + t * vs + i;
                a0 = FloatVector.fromArray(S, v, b).fma(pt, a0);
                a1 = FloatVector.fromArray(S, v, b + L).fma(pt, a1);
                a2 = FloatVector.fromArray(S, v, b + 2 * L).fma(pt, a2);
                a3 = FloatVector.fromArray(S, v, b + 3 * L).fma(pt, a3);
            }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + L);
            a2.intoArray(y, yo + i + 2 * L);
            a3.intoArray(y, yo + i + 3 * L);
        }
        for (; i + L <= len; i += L) {
            FloatVector a0 = FloatVector.fromArray(S, y, yo + i);
            for (int t = 0; t < n; t++) {
                a0 =
                        FloatVector.fromArray(S, v, vo + t * vs + i)
                                .fma(FloatVector.broadcast(S, p[po + t]), a0);
            }
            a0.intoArray(y, yo + i);
        }
        for (; i < len; i++) {
            float s = y[yo + i];
            for (int t = 0; t < n; t++) {
                s += p[po + t] * v[vo + t * vs + i];
            }
            y[yo + i] = s;
        }
    }

    @Override
    public void weightedSums(
            float[] p,
            int po,
            int ps,
            int h,
            int n,
            float[] v,
            int vo,
            int vs,
            float[] y,
            int yo,
            int ys,
            int len) {
        int j = 0;
        int cols4 = len - len % (4 * L);
        int cols = len - len % (2 * L);
        for (; j + 3 < h; j += 4) {
            int p0 = po + j * ps, p1 = p0 + ps, p2 = p1 + ps, p3 = p2 + ps;
            int y0 = yo + j * ys, y1 = y0 + ys, y2 = y1 + ys, y3 = y2 + ys;
            for (int i = 0; i < cols4; i += 4 * L) {
                weightedSums4x4(p, p0, ps, n, v, vo + i, vs, y, y0 + i, ys);
            }
            for (int i = cols4; i < cols; i += 2 * L) { // 4 rows x 2 vectors: 6 loads per 8 FMAs
                FloatVector a0 = FloatVector.fromArray(S, y, y0 + i),
                        b0 = FloatVector.fromArray(S, y, y0 + i + L);
                FloatVector a1 = FloatVector.fromArray(S, y, y1 + i),
                        b1 = FloatVector.fromArray(S, y, y1 + i + L);
                FloatVector a2 = FloatVector.fromArray(S, y, y2 + i),
                        b2 = FloatVector.fromArray(S, y, y2 + i + L);
                FloatVector a3 = FloatVector.fromArray(S, y, y3 + i),
                        b3 = FloatVector.fromArray(S, y, y3 + i + L);
                for (int t = 0; t < n; t++) {
                    int b = vo + t * vs + i;
                    FloatVector v0 = FloatVector.fromArray(S, v, b),
                            v1 = FloatVector.fromArray(S, v, b + L);
                    FloatVector q0 = FloatVector.broadcast(S, p[p0 + t]);
                    FloatVector q1 = FloatVector.broadcast(S, p[p1 + t]);
                    FloatVector q2 = FloatVector.broadcast(S, p[p2 + t]);
                    FloatVector q3 = FloatVector.broadcast(S, p[p3 + t]);
                    a0 = v0.fma(q0, a0);
                    b0 = v1.fma(q0, b0);
                    a1 = v0.fma(q1, a1);
                    b1 = v1.fma(q1, b1);
                    a2 = v0.fma(q2, a2);
                    b2 = v1.fma(q2, b2);
                    a3 = v0.fma(q3, a3);
                    b3 = v1.fma(q3, b3);
                }
                a0.intoArray(y, y0 + i);
                b0.intoArray(y, y0 + i + L);
                a1.intoArray(y, y1 + i);
                b1.intoArray(y, y1 + i + L);
                a2.intoArray(y, y2 + i);
                b2.intoArray(y, y2 + i + L);
                a3.intoArray(y, y3 + i);
                b3.intoArray(y, y3 + i + L);
            }
            if (cols < len) {
                for (int jj = j; jj < j + 4; jj++) {
                    weightedSum(
                            p,
                            po + jj * ps,
                            n,
                            v,
                            vo + cols,
                            vs,
                            y,
                            yo + jj * ys + cols,
                            len - cols);
                }
            }
        }
        for (; j < h; j++) {
            weightedSum(p, po + j * ps, n, v, vo, vs, y, yo + j * ys, len);
        }
    }

    /**
     * 4 rows of weights p (from {@code p0}, {@code ps} apart) x 4 column vectors of v (from {@code
     * v0}, rows {@code vs} apart) added into 4 rows of y (from {@code y0}, {@code ys} apart): 8
     * loads per 16 FMAs in 16 accumulators, where the 4 x 2 block takes 6 per 8.
     */
    private static void weightedSums4x4(
            float[] p,
            int p0,
            int ps,
            int n,
            float[] v,
            int v0,
            int vs,
            float[] y,
            int y0,
            int ys) {
        int p1 = p0 + ps, p2 = p1 + ps, p3 = p2 + ps;
        int y1 = y0 + ys, y2 = y1 + ys, y3 = y2 + ys;
        FloatVector a00 = FloatVector.fromArray(S, y, y0),
                a01 = FloatVector.fromArray(S, y, y0 + L);
        FloatVector a02 = FloatVector.fromArray(S, y, y0 + 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, y, y0 + 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, y, y1),
                a11 = FloatVector.fromArray(S, y, y1 + L);
        FloatVector a12 = FloatVector.fromArray(S, y, y1 + 2 * L);
        FloatVector a13 = FloatVector.fromArray(S, y, y1 + 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, y, y2),
                a21 = FloatVector.fromArray(S, y, y2 + L);
        FloatVector a22 = FloatVector.fromArray(S, y, y2 + 2 * L);
        FloatVector a23 = FloatVector.fromArray(S, y, y2 + 3 * L);
        FloatVector a30 = FloatVector.fromArray(S, y, y3),
                a31 = FloatVector.fromArray(S, y, y3 + L);
        FloatVector a32 = FloatVector.fromArray(S, y, y3 + 2 * L);
        FloatVector a33 = FloatVector.fromArray(S, y, y3 + 3 * L); // a<row><column vector>
        for (int t = 0; t < n; t++) {
            int b = v0 + t * vs;
            FloatVector v0v = FloatVector.fromArray(S, v, b);
            FloatVector v1v = FloatVector.fromArray(S, v, b + L);
            FloatVector v2v = FloatVector.fromArray(S, v, b + 2 * L);
            FloatVector v3v = FloatVector.fromArray(S, v, b + 3 * L);
            FloatVector q = FloatVector.broadcast(S, p[p0 + t]);
            a00 = v0v.fma(q, a00);
            a01 = v1v.fma(q, a01);
            a02 = v2v.fma(q, a02);
            a03 = v3v.fma(q, a03);
            q = FloatVector.broadcast(S, p[p1 + t]);
            a10 = v0v.fma(q, a10);
            a11 = v1v.fma(q, a11);
            a12 = v2v.fma(q, a12);
            a13 = v3v.fma(q, a13);
            q = FloatVector.broadcast(S, p[p2 + t]);
            a20 = v0v.fma(q, a20);
            a21 = v1v.fma(q, a21);
            a22 = v2v.fma(q, a22);
            a23 = v3v.fma(q, a23);
            q = FloatVector.broadcast(S, p[p3 + t]);
            a30 = v0v.fma(q, a30);
            a31 = v1v.fma(q, a31);
            a32 = v2v.fma(q, a32);
            a33 = v3v.fma(q, a33);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a02.intoArray(y, y0 + 2 * L);
        a03.intoArray(y, y0 + 3 * L);
        a10.intoArray(y, y1);
        a11.intoArray(y, y1 + L);
        a12.intoArray(y, y1 + 2 * L);
        a13.intoArray(y, y1 + 3 * L);
        a20.intoArray(y, y2);
        a21.intoArray(y, y2 + L);
        a22.intoArray(y, y2 + 2 * L);
        a23.intoArray(y, y2 + 3 * L);
        a30.intoArray(y, y3);
        a31.intoArray(y, y3 + L);
        a32.intoArray(y, y3 + 2 * L);
        a33.intoArray(y, y3 + 3 * L);
    }

    // ------------------------------------------------------------------ MLA scores, heads in lanes

    /**
     * Whether {@link #latentScores} puts heads in the lanes: from more than half a vector of heads
     * on. At half a vector the idle lanes cost as much as the lane reductions of {@link #matmul}'s
     * dot products save, and fewer heads would leave most lanes idle.
     */
    private static boolean headLanes(int h) {
        return 2 * h > L;
    }

    /** h rounded up to whole vectors. */
    private static int lanesFor(int h) {
        return (h + L - 1) / L * L;
    }

    /** Positions per tile of {@link #latentScores} with heads in the lanes. */
    private static final int TILE = 8;

    /**
     * With heads in the lanes (w = h rounded up to whole vectors): the transposed queries [n, w] at
     * 0, the queries row-major and zero-padded to w rows [w, n] at n w (the transpose's source), a
     * tile [TILE, L] of scores at 2 n w.
     */
    @Override
    public int latentWorkspace(int h, int n) {
        return headLanes(h) ? 2 * lanesFor(h) * n + TILE * L : super.latentWorkspace(h, n);
    }

    /**
     * The lane offsets {0, n, .., (L-1) n} of a gather down a column of L rows of width n, kept for
     * the last n (decoding asks for the same width every time).
     */
    private volatile int[] columnOffsets = new int[L];

    private int[] columnOffsets(int n) {
        int[] o = columnOffsets;
        if (o[L - 1] == (L - 1) * n) {
            return o;
        }
        o = new int[L];
        for (int j = 0; j < L; j++) {
            o[j] = j * n;
        }
        columnOffsets = o;
        return o;
    }

    /**
     * With heads in the lanes: ws[i*w + j] = q[qo + j*n + i] (heads j &gt;= h zero), one gather per
     * latent index and vector of heads from a zero-padded copy of the rows.
     */
    @Override
    public void prepareQueries(float[] q, int qo, int h, int n, float[] ws) {
        if (!headLanes(h)) {
            super.prepareQueries(q, qo, h, n, ws);
            return;
        }
        int w = lanesFor(h), rows = w * n;
        System.arraycopy(q, qo, ws, rows, h * n);
        Arrays.fill(ws, rows + h * n, 2 * rows, 0f);
        int[] column = columnOffsets(n);
        for (int jv = 0; jv < w; jv += L) {
            for (int i = 0; i < n; i++) {
                FloatVector.fromArray(S, ws, rows + jv * n + i, column, 0)
                        .intoArray(ws, i * w + jv);
            }
        }
    }

    /**
     * With heads in the lanes the scores of one position are an axpy over the latent dimension,
     * {@code s_t[heads] += c_t[i] * qT[i][heads]} for i &lt; n, with no lane reduction at all
     * ({@link #matmul}'s dot products end in one per position and head, on JDK 17 a serial chain of
     * L scalar adds). Eight positions at a time ({@link #headTile}); a finished tile (8 positions x
     * L heads) goes through the workspace into the heads-major rows of s, a copy of 1/n of the
     * multiply-adds. Per position and head: n / L FMAs when h fills the vectors, 2n / L at half a
     * vector.
     */
    @Override
    public void latentScores(
            float[] ws, int h, int n, float[] c, int co, int count, float[] s, int so, int ss) {
        if (!headLanes(h)) {
            super.latentScores(ws, h, n, c, co, count, s, so, ss);
            return;
        }
        int w = lanesFor(h), tile = 2 * w * n;
        for (int jv = 0; jv < w; jv += L) {
            int hv = Math.min(L, h - jv); // heads of this vector
            int t = 0;
            for (; t + TILE <= count; t += TILE) {
                headTile(ws, w, jv, n, c, co + t * n, tile);
                for (int j = 0; j < hv; j++) {
                    int o = so + (jv + j) * ss + t;
                    for (int p = 0; p < TILE; p++) {
                        s[o + p] = ws[tile + p * L + j];
                    }
                }
            }
            for (; t < count; t++) {
                headRow(ws, w, jv, n, c, co + t * n, tile);
                for (int j = 0; j < hv; j++) {
                    s[so + (jv + j) * ss + t] = ws[tile + j];
                }
            }
        }
    }

    /**
     * ws[tile + p*L + j] = sum_i ws[i*w + jv + j] c[c0 + p*n + i] for p &lt; 8, j &lt; L: the query
     * vector of each i loaded once for eight positions, one FMA chain per position (eight in
     * flight).
     */
    private static void headTile(float[] ws, int w, int jv, int n, float[] c, int c0, int tile) {
        int c1 = c0 + n, c2 = c1 + n, c3 = c2 + n, c4 = c3 + n, c5 = c4 + n, c6 = c5 + n;
        int c7 = c6 + n;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        FloatVector a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int i = 0; i < n; i++) {
            FloatVector qv = FloatVector.fromArray(S, ws, i * w + jv);
            a0 = qv.fma(FloatVector.broadcast(S, c[c0 + i]), a0);
            a1 = qv.fma(FloatVector.broadcast(S, c[c1 + i]), a1);
            a2 = qv.fma(FloatVector.broadcast(S, c[c2 + i]), a2);
            a3 = qv.fma(FloatVector.broadcast(S, c[c3 + i]), a3);
            a4 = qv.fma(FloatVector.broadcast(S, c[c4 + i]), a4);
            a5 = qv.fma(FloatVector.broadcast(S, c[c5 + i]), a5);
            a6 = qv.fma(FloatVector.broadcast(S, c[c6 + i]), a6);
            a7 = qv.fma(FloatVector.broadcast(S, c[c7 + i]), a7);
        }
        a0.intoArray(ws, tile);
        a1.intoArray(ws, tile + L);
        a2.intoArray(ws, tile + 2 * L);
        a3.intoArray(ws, tile + 3 * L);
        a4.intoArray(ws, tile + 4 * L);
        a5.intoArray(ws, tile + 5 * L);
        a6.intoArray(ws, tile + 6 * L);
        a7.intoArray(ws, tile + 7 * L);
    }

    /** {@link #headTile} for one position (the tail of a block), in two chains (even, odd i). */
    private static void headRow(float[] ws, int w, int jv, int n, float[] c, int c0, int tile) {
        FloatVector a = FloatVector.zero(S), b = a;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            a =
                    FloatVector.fromArray(S, ws, i * w + jv)
                            .fma(FloatVector.broadcast(S, c[c0 + i]), a);
            b =
                    FloatVector.fromArray(S, ws, (i + 1) * w + jv)
                            .fma(FloatVector.broadcast(S, c[c0 + i + 1]), b);
        }
        if (i < n) {
            a =
                    FloatVector.fromArray(S, ws, i * w + jv)
                            .fma(FloatVector.broadcast(S, c[c0 + i]), a);
        }
        a.add(b).intoArray(ws, tile);
    }

    @Override
    public double sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = from;
        for (; i + 2 * L <= to; i += 2 * L) {
            s0 = s0.add(FloatVector.fromArray(S, a, i));
            s1 = s1.add(FloatVector.fromArray(S, a, i + L));
        }
        double s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            s += a[i];
        }
        return s;
    }
}
