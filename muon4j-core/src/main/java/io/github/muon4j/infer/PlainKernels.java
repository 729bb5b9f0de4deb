package io.github.muon4j.infer;

/** {@link Kernels} in plain Java: scalar loops with independent accumulators (no SIMD). */
final class PlainKernels extends Kernels {

    @Override
    public String name() {
        return "plain Java (scalar)";
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
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
        int r = r0;
        for (; r + 3 < r1; r += 4) {
            int f0 = wo + r * n, f1 = f0 + n, f2 = f1 + n, f3 = f2 + n;
            for (int b = 0; b < m; b++) {
                int xb = xo + b * xs;
                float a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
                int i = 0;
                for (; i + 1 < n; i += 2) {
                    float x0 = x[xb + i], x1 = x[xb + i + 1];
                    a0 += w[f0 + i] * x0;
                    a1 += w[f1 + i] * x0;
                    a2 += w[f2 + i] * x0;
                    a3 += w[f3 + i] * x0;
                    c0 += w[f0 + i + 1] * x1;
                    c1 += w[f1 + i + 1] * x1;
                    c2 += w[f2 + i + 1] * x1;
                    c3 += w[f3 + i + 1] * x1;
                }
                for (; i < n; i++) {
                    float x0 = x[xb + i];
                    a0 += w[f0 + i] * x0;
                    a1 += w[f1 + i] * x0;
                    a2 += w[f2 + i] * x0;
                    a3 += w[f3 + i] * x0;
                }
                int yb = yo + b * ys + r;
                y[yb] = a0 + c0;
                y[yb + 1] = a1 + c1;
                y[yb + 2] = a2 + c2;
                y[yb + 3] = a3 + c3;
            }
        }
        for (; r < r1; r++) {
            for (int b = 0; b < m; b++) {
                y[yo + b * ys + r] = dot(w, wo + r * n, x, xo + b * xs, n);
            }
        }
    }

    @Override
    public float expShift(float[] a, int o, int n, float max, float scale) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp((a[o + i] - max) * scale);
            a[o + i] = e;
            sum += e;
        }
        return sum;
    }

    @Override
    public void weightedSum(
            float[] p, int po, int n, float[] v, int vo, int vs, float[] y, int yo, int len) {
        for (int t = 0; t < n; t++) {
            axpy(p[po + t], v, vo + t * vs, y, yo, len);
        }
    }

    @Override
    public double sum(float[] a, int from, int to) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < to; i++) {
            s0 += a[i];
        }
        return (double) s0 + s1 + s2 + s3;
    }
}
