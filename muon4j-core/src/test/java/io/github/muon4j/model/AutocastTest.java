package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bf16 products through {@link Autocast}: the rounding they should have, gradients, and scoping. As
 * under PyTorch's autocast, a bf16 product is bf16(sum of bf16(a) * bf16(b), accumulated in
 * float32): the operands and the result are rounded, the sum is not.
 */
class AutocastTest {

    @BeforeAll
    static void init() {
        Small.init();
    }

    /** float32 -> bfloat16 -> float32 with round-to-nearest-even (the cast libtorch does). */
    static float bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    /** One unit in the last place of bf16 at |x| (8 significant bits). */
    static double bf16Ulp(double x) {
        return Math.ulp((float) x) * 65536.0;
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void bf16ProductIsTheProductOfRoundedOperands() {
        int m = 7, k = 33, n = 5;
        Random r = new Random(1);
        float[] a = random(r, m * k), b = random(r, k * n);
        try (NDManager nm = Small.newManager()) {
            NDArray x = nm.create(a, new Shape(m, k)), y = nm.create(b, new Shape(k, n));
            float[] got;
            try (Autocast ac = Autocast.enter(Precision.BF16)) {
                assertEquals(Precision.BF16, Autocast.current());
                NDArray z = Autocast.matMul(x, y);
                assertEquals(DataType.FLOAT32, z.getDataType());
                got = z.toFloatArray();
            }
            assertEquals(Precision.FP32, Autocast.current(), "the scope restores float32");
            float[] exact = x.matMul(y).toFloatArray();
            double maxUlps = 0, maxExact = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0; // the product of the bf16-rounded operands, in double
                    for (int p = 0; p < k; p++) {
                        s += (double) bf16(a[i * k + p]) * bf16(b[p * n + j]);
                    }
                    // the float32 sum may round to the neighbouring bf16 value: at most one bf16
                    // ulp
                    maxUlps =
                            Math.max(
                                    maxUlps,
                                    Math.abs(got[i * n + j] - bf16((float) s)) / bf16Ulp(s));
                    maxExact = Math.max(maxExact, Math.abs(got[i * n + j] - exact[i * n + j]));
                }
            }
            assertTrue(
                    maxUlps <= 1,
                    "differs from bf16(product of bf16 operands) by " + maxUlps + " bf16 ulps");
            assertTrue(
                    maxExact > 1e-3,
                    "no rounding at all: the product did not run in bf16 (" + maxExact + ")");
        }
    }

    @Test
    void gradientsReachFloat32Operands() {
        int m = 4, k = 16, n = 3;
        Random r = new Random(2);
        float[] a = random(r, m * k), w = random(r, n * k);
        try (NDManager nm = Small.newManager()) {
            NDArray x = nm.create(a, new Shape(m, k));
            NDArray wt = nm.create(w, new Shape(n, k));
            wt.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    Autocast ac = Autocast.enter(Precision.BF16)) {
                gc.backward(
                        Autocast.linear(x, wt)
                                .sum()); // d/dW sum(x W^T) = column sums of x, per row of W
            }
            NDArray g = wt.getGradient();
            assertEquals(DataType.FLOAT32, g.getDataType());
            float[] gv = g.toFloatArray();
            for (int o = 0; o < n; o++) {
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int i = 0; i < m; i++) {
                        s += bf16(a[i * k + p]); // the upstream gradient (ones) is exact in bf16
                    }
                    assertEquals(
                            bf16((float) s), gv[o * k + p], bf16Ulp(s), "dW[" + o + "," + p + "]");
                }
            }
        }
    }

    /**
     * SwiGLU under bf16 (products and gating in one libtorch call) against SwiGLU in float32: the
     * output and all four gradients within bf16 rounding, and not bit-equal (it ran in bf16). A
     * swapped W1/W3 or a missing gate would miss by far more than rounding.
     */
    @Test
    void swiGluUnderBf16FollowsFloat32() {
        int n = 6, d = 16, h = 24;
        Random r = new Random(3);
        float[] xv = random(r, n * d), w1v = random(r, h * d), w3v = random(r, h * d);
        float[] w2v = random(r, d * h);
        float[][] fp32 = swiGluAndGradients(Precision.FP32, n, d, h, xv, w1v, w3v, w2v);
        float[][] bf16 = swiGluAndGradients(Precision.BF16, n, d, h, xv, w1v, w3v, w2v);
        String[] names = {"y", "dx", "dW1", "dW3", "dW2"};
        for (int i = 0; i < names.length; i++) {
            double scale = 0, diff = 0;
            for (int j = 0; j < fp32[i].length; j++) {
                scale = Math.max(scale, Math.abs(fp32[i][j]));
                diff = Math.max(diff, Math.abs(fp32[i][j] - bf16[i][j]));
            }
            assertTrue(scale > 0, names[i] + " is all zero");
            // a few bf16 roundings (2^-9 relative each) along three products and the gate
            assertTrue(
                    diff <= 0.03 * scale,
                    names[i] + ": bf16 differs from float32 by " + diff + " (scale " + scale + ")");
            assertTrue(diff > 0, names[i] + ": bit-equal to float32, so bf16 did not run");
        }
    }

    /** [y, dx, dW1, dW3, dW2] of sum(y * y0) with y = SwiGLU(x), y0 a fixed random array. */
    private static float[][] swiGluAndGradients(
            Precision p, int n, int d, int h, float[] xv, float[] w1v, float[] w3v, float[] w2v) {
        try (NDManager nm = Small.newManager()) {
            NDArray x = nm.create(xv, new Shape(n, d));
            NDArray w1 = nm.create(w1v, new Shape(h, d));
            NDArray w3 = nm.create(w3v, new Shape(h, d));
            NDArray w2 = nm.create(w2v, new Shape(d, h));
            NDArray y0 = nm.create(random(new Random(4), n * d), new Shape(n, d));
            for (NDArray a : new NDArray[] {x, w1, w3, w2}) {
                a.setRequiresGradient(true);
            }
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    Autocast ac = Autocast.enter(p)) {
                NDArray out = SwiGLU.apply(x, w1, w3, w2);
                assertEquals(DataType.FLOAT32, out.getDataType());
                y = out.toFloatArray();
                gc.backward(out.mul(y0).sum());
            }
            return new float[][] {
                y,
                x.getGradient().toFloatArray(),
                w1.getGradient().toFloatArray(),
                w3.getGradient().toFloatArray(),
                w2.getGradient().toFloatArray()
            };
        }
    }

    @Test
    void parsesPrecisionAndDetectsBf16Flags() {
        assertEquals(Precision.FP32, Precision.resolve("fp32", ai.djl.Device.cpu()));
        assertEquals(Precision.BF16, Precision.resolve("bf16", ai.djl.Device.cpu()));
        assertEquals(
                Precision.nativeBf16(ai.djl.Device.cpu()) ? Precision.BF16 : Precision.FP32,
                Precision.resolve("auto", ai.djl.Device.cpu()));
        assertThrows(
                IllegalArgumentException.class,
                () -> Precision.resolve("fp16", ai.djl.Device.cpu()));
        assertTrue(Precision.cpuHasBf16(" fpu avx512f avx512_bf16 avx512vl"));
        assertTrue(Precision.cpuHasBf16("fpu amx_bf16 amx_tile"));
        assertFalse(Precision.cpuHasBf16("fpu avx512f avx512_vnni avx2"));
    }
}
