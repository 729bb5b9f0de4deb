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
