package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static io.github.muon4j.optim.OptimTestSupport.maxAbsDiff;
import static io.github.muon4j.optim.OptimTestSupport.singularValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.Backend;
import io.github.muon4j.optim.NewtonSchulz.Coefficients;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NewtonSchulzTest {

    private static final long[][] SHAPES = {{32, 64}, {64, 32}, {32, 32}};

    @Test
    void jacobiSolverFindsKnownEigenvalues() {
        double[] ev = OptimTestSupport.symmetricEigenvalues(new double[][] {{2, 1}, {1, 2}});
        assertEquals(1.0, ev[0], 1e-12);
        assertEquals(3.0, ev[1], 1e-12);
        // diag(3, 2) rotated is a rank-2 3x2 matrix with singular values 3 and 2
        double c = Math.cos(0.3);
        double s = Math.sin(0.3);
        float[] x = {(float) (3 * c), (float) (-2 * s), (float) (3 * s), (float) (2 * c), 0, 0};
        double[] sv = singularValues(x, 3, 2);
        assertEquals(3.0, sv[0], 1e-6);
        assertEquals(2.0, sv[1], 1e-6);
    }

    @Test
    void quinticPutsSingularValuesInItsBand() {
        try (NDManager m = Backend.get().newManager()) {
            for (long[] shape : SHAPES) {
                NDArray g = gaussian(m, 7, 1.0, shape);
                NDArray x = NewtonSchulz.orthogonalize(g, 5);
                assertEquals(g.getShape(), x.getShape());
                int rows = (int) shape[0];
                int cols = (int) shape[1];
                double[] out = singularValues(x.toFloatArray(), rows, cols);
                String where = Arrays.toString(shape);
                assertTrue(out[out.length - 1] >= 0.68, where + " min " + out[out.length - 1]);
                // a square Gaussian matrix has singular values near 1e-3 of its Frobenius norm,
                // which 5 steps lift to at most 1.21 (the quintic's peak on their way up); inputs
                // above 1e-2 of the norm, as in wide and tall matrices, end in [0.682, 1.135]
                double top = rows == cols ? 1.21 : 1.15;
                assertTrue(out[0] <= top, where + " max " + out[0]);
                // the iteration acts on each singular value as the scalar quintic, 5 times
                double[] in = singularValues(g.toFloatArray(), rows, cols);
                double fro = 0;
                for (double s : in) {
                    fro += s * s;
                }
                fro = Math.sqrt(fro);
                double[] expected = new double[in.length];
                for (int i = 0; i < in.length; i++) {
                    double v = in[i] / (fro + 1e-7);
                    for (int k = 0; k < 5; k++) {
                        v = 3.4445 * v - 4.7750 * v * v * v + 2.0315 * v * v * v * v * v;
                    }
                    expected[i] = v;
                }
                Arrays.sort(expected);
                double[] got = out.clone();
                Arrays.sort(got);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 2e-3, where + " singular value " + i);
                }
            }
        }
    }

    @Test
    void polarExpressReachesOneWithASixthStep() {
        try (NDManager m = Backend.get().newManager()) {
            for (long[] shape : SHAPES) {
                NDArray g = gaussian(m, 11, 3.0, shape);
                NDArray x = NewtonSchulz.orthogonalize(g, 6, Coefficients.POLAR_EXPRESS);
                double[] sv = singularValues(x.toFloatArray(), (int) shape[0], (int) shape[1]);
                for (double s : sv) {
                    assertEquals(1.0, s, 0.01, Arrays.toString(shape));
                }
                // the 5 published steps alone leave singular values within about 15%
                NDArray x5 = NewtonSchulz.orthogonalize(g, 5, Coefficients.POLAR_EXPRESS);
                for (double s : singularValues(x5.toFloatArray(), (int) shape[0], (int) shape[1])) {
                    assertEquals(1.0, s, 0.15, Arrays.toString(shape));
                }
            }
        }
    }

    @Test
    void batchedEqualsOneByOne() {
        try (NDManager m = Backend.get().newManager()) {
            for (long[] shape : new long[][] {{4, 16, 24}, {3, 24, 16}}) {
                NDArray g = gaussian(m, 3, 1.0, shape);
                for (Coefficients c : Coefficients.values()) {
                    // batched products (the GPU path) and one 2-D product per matrix (CPU)
                    for (boolean bmm : new boolean[] {true, false}) {
                        NDArray batched = NewtonSchulz.orthogonalize(g, 5, c, m, bmm);
                        for (int i = 0; i < shape[0]; i++) {
                            NDArray one = NewtonSchulz.orthogonalize(g.get(i), 5, c);
                            float[] a = batched.get(i).toFloatArray();
                            float[] b = one.toFloatArray();
                            String what = c + " bmm " + bmm + " matrix " + i;
                            assertTrue(maxAbsDiff(a, b) <= 1e-6, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void resultGoesToTheInputsManagerAndTemporariesAreClosed() {
        try (NDManager m = Backend.get().newManager();
                NDManager other = Backend.get().newManager()) {
            NDArray g = gaussian(m, 5, 1.0, 24, 16);
            float[] before = g.toFloatArray();
            int managed = m.getManagedArrays().size();
            NDArray x = NewtonSchulz.orthogonalize(g, 5);
            assertSame(m, x.getManager());
            assertEquals(managed + 1, m.getManagedArrays().size());
            assertArrayEquals(before, g.toFloatArray(), "input must not change");

            NDArray y = NewtonSchulz.orthogonalize(g, 5, Coefficients.KELLER_JORDAN, other);
            assertSame(other, y.getManager());
            assertEquals(managed + 1, m.getManagedArrays().size());
            assertEquals(1, other.getManagedArrays().size());
            assertArrayEquals(x.toFloatArray(), y.toFloatArray());
        }
    }

    @Test
    void zeroMatrixStaysZeroAndBadInputIsRefused() {
        try (NDManager m = Backend.get().newManager()) {
            NDArray z = m.zeros(new Shape(4, 6));
            float[] out = NewtonSchulz.orthogonalize(z, 5).toFloatArray();
            for (float v : out) {
                assertEquals(0f, v);
            }
            NDArray v = m.ones(new Shape(5));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class, () -> NewtonSchulz.orthogonalize(v, 5));
            assertTrue(e.getMessage().contains("matrix"), e.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> NewtonSchulz.orthogonalize(m.ones(new Shape(3, 3)), 0));
            assertEquals(
                    5 * (4.0 * 512 * 512 * 1365 + 2.0 * 512 * 512 * 512),
                    NewtonSchulz.flops(1365, 512, 5));
            assertTrue(z.get(new NDIndex("0, 0")).getFloat() == 0f);
        }
    }
}
