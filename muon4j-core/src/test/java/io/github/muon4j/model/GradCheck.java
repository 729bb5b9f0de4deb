package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Finite-difference gradient check in float64: autograd gradients of a scalar loss against central
 * differences {@code (L(w + h e_i) - L(w - h e_i)) / 2h} on a few seeded entries of every leaf
 * array (parameters and inputs).
 */
final class GradCheck {

    private static final double H = 1e-6;

    private GradCheck() {}

    /**
     * @param m manager of the leaves
     * @param leaves name -> float64 array (parameters, or inputs with gradient enabled)
     * @param loss builds the scalar loss in the given step manager from the leaves' current values
     * @param perArray entries checked per leaf
     * @return number of entries compared
     */
    static int check(
            NDManager m,
            Map<String, NDArray> leaves,
            Function<NDManager, NDArray> loss,
            int perArray) {
        Map<String, double[]> grads = new LinkedHashMap<>();
        for (NDArray a : leaves.values()) {
            assertEquals(DataType.FLOAT64, a.getDataType());
            if (!a.hasGradient()) {
                a.setRequiresGradient(true);
            }
        }
        try (NDManager s = m.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss.apply(s));
        }
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            try (NDArray g = e.getValue().getGradient()) {
                grads.put(e.getKey(), g.toType(DataType.FLOAT64, false).toDoubleArray());
                g.subi(g);
            }
        }
        Random r = new Random(1);
        int compared = 0;
        double worst = 0;
        for (Map.Entry<String, NDArray> e : leaves.entrySet()) {
            NDArray a = e.getValue();
            double[] g = grads.get(e.getKey());
            int n = (int) a.size();
            double norm = 0;
            for (double v : g) {
                norm = Math.max(norm, Math.abs(v));
            }
            assertTrue(norm > 0, e.getKey() + ": gradient is identically zero");
            for (int t = 0; t < Math.min(perArray, n); t++) {
                int i = n <= perArray ? t : r.nextInt(n);
                double plus = evalWith(m, a, i, H, loss);
                double minus = evalWith(m, a, i, -H, loss);
                double numeric = (plus - minus) / (2 * H);
                double err = Math.abs(numeric - g[i]);
                double tol = 1e-6 + 1e-5 * Math.max(Math.abs(numeric), Math.abs(g[i]));
                worst = Math.max(worst, err);
                assertTrue(
                        err <= tol,
                        e.getKey() + "[" + i + "]: autograd " + g[i] + " vs numeric " + numeric);
                compared++;
            }
        }
        return compared;
    }

    /** Loss after adding {@code delta} to entry i of {@code a} (restored afterwards). */
    private static double evalWith(
            NDManager m, NDArray a, int i, double delta, Function<NDManager, NDArray> loss) {
        try (NDManager s = m.newSubManager()) {
            double[] d = new double[(int) a.size()];
            d[i] = delta;
            NDArray step = Tensors.constant(s, d, a.getShape(), DataType.FLOAT64);
            a.addi(step);
            double v = loss.apply(s).getDouble();
            a.subi(step);
            return v;
        }
    }

    /** sum(out * R) with a fixed random R: every output element matters. */
    static NDArray weightedSum(NDArray out, long seed) {
        Shape s = out.getShape();
        NDArray r = Small.normal(out.getManager(), seed, DataType.FLOAT64, s.getShape());
        return out.mul(r).sum();
    }
}
