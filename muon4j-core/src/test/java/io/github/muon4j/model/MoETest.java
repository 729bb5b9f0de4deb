package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class MoETest {

    static {
        Small.init();
    }

    private static final DataType F64 = DataType.FLOAT64;

    /** d 8, 6 routed + 1 shared experts of hidden 5, top-2. */
    private static ModelConfig config(ScoreFunction sf) {
        ModelConfig.Builder b =
                ComponentGradientTest.micro(AttentionKind.MHA, FfnKind.MOE).toBuilder();
        b.nRoutedExperts = 6;
        b.expertHidden = 5;
        b.scoreFunction = sf;
        b.auxLossCoef = 0.05;
        b.zLossCoef = 0.01;
        return b.build();
    }

    @Test
    void sparseDispatchEqualsAPerTokenOracle() {
        for (ScoreFunction sf : ScoreFunction.values()) {
            ModelConfig c = config(sf);
            try (NDManager m = Small.newManager()) {
                MoE moe = new MoE(c);
                moe.initialize(m, F64, 5L);
                float[] bias = {0.02f, -0.01f, 0.03f, 0f, -0.02f, 0.01f};
                moe.gate().setBias(bias);
                int n = 23;
                NDArray x = Small.normal(m, 8, F64, 1, n, c.dModel());
                // inference selects the experts in use, training splits the stacks: both sparse
                FeedForward.Result r = moe.apply(Small.store(m), x, false);
                double[] got = r.out().toDoubleArray();
                double[] gotTraining = moe.apply(Small.store(m), x, true).out().toDoubleArray();

                Oracle o = new Oracle(moe, c, bias);
                double[] xs = x.toDoubleArray();
                double[] want = new double[got.length];
                float[] load = new float[c.nRoutedExperts()];
                double[] pMean = new double[c.nRoutedExperts()];
                double z = 0;
                for (int t = 0; t < n; t++) {
                    double[] xt = Arrays.copyOfRange(xs, t * c.dModel(), (t + 1) * c.dModel());
                    double[] yt = o.forward(xt, load, pMean);
                    System.arraycopy(yt, 0, want, t * c.dModel(), c.dModel());
                    z += o.lastLse * o.lastLse;
                }
                for (int i = 0; i < got.length; i++) {
                    assertEquals(want[i], got[i], 1e-10, sf + " element " + i);
                    assertEquals(want[i], gotTraining[i], 1e-10, sf + " training, element " + i);
                }
                assertArrayEquals(load, r.expertLoad(), sf.name());
                assertEquals(
                        n * c.topK(),
                        IntStream.range(0, load.length).mapToDouble(i -> load[i]).sum());
                double aux = 0;
                for (int e = 0; e < load.length; e++) {
                    aux += load[e] / (double) (n * c.topK()) * pMean[e] / n;
                }
                aux *= c.auxLossCoef() * c.nRoutedExperts();
                double want2 = aux + c.zLossCoef() * z / n;
                assertEquals(want2, r.balanceLoss().getDouble(), 1e-12, sf + " balance loss");
            }
        }
    }

    @Test
    void balanceLossIsSequenceWise() {
        // DeepSeek-V3's complementary loss: f_i and P_i per sequence, the loss averaged over
        // sequences
        for (ScoreFunction sf : ScoreFunction.values()) {
            ModelConfig c = config(sf);
            try (NDManager m = Small.newManager()) {
                MoE moe = new MoE(c);
                moe.initialize(m, F64, 5L);
                NDArray x = Small.normal(m, 8, F64, 2, 11, c.dModel());
                double both = moe.apply(Small.store(m), x, false).balanceLoss().getDouble();
                double first =
                        moe.apply(Small.store(m), x.get("0:1"), false).balanceLoss().getDouble();
                double second =
                        moe.apply(Small.store(m), x.get("1:2"), false).balanceLoss().getDouble();
                assertEquals((first + second) / 2, both, 1e-12, sf.name());
                // batch-wise statistics would differ: the two sequences route differently
                double pooled =
                        moe.apply(Small.store(m), x.reshape(1, 22, c.dModel()), false)
                                .balanceLoss()
                                .getDouble();
                assertNotEquals(pooled, both, 1e-9, sf.name());
            }
        }
    }

    @Test
    void deepSeekV3RoutingIsTheDefault() {
        ModelConfig c = ModelConfig.preset("tiny").withFfn(FfnKind.MOE);
        assertEquals(ScoreFunction.SIGMOID, c.scoreFunction());
        assertTrue(c.biasUpdateRate() > 0, "bias balancing on");
        assertTrue(
                c.auxLossCoef() > 0 && c.auxLossCoef() <= 1e-3, "a small sequence-wise aux loss");
        assertEquals(0, c.zLossCoef());
    }

    /** Routing and experts evaluated token by token in plain Java doubles. */
    private static final class Oracle {
        final double[][] router;
        final double[][][] w1;
        final double[][][] w3;
        final double[][][] w2;
        final double[][][] shared;
        final float[] bias;
        final ModelConfig c;
        double lastLse;

        Oracle(MoE moe, ModelConfig c, float[] bias) {
            this.c = c;
            this.bias = bias;
            int d = c.dModel();
            int h = c.expertHidden();
            router = mat(moe.gate().weight(), c.nRoutedExperts(), d);
            Parameter[] w = moe.expertWeights();
            w1 = stack(w[0], h, d);
            w3 = stack(w[1], h, d);
            w2 = stack(w[2], d, h);
            int hs = c.nSharedExperts() * h;
            Parameter[] sp = moe.shared().getParameters().values().toArray(new Parameter[0]);
            shared = new double[][][] {mat(sp[0], hs, d), mat(sp[1], hs, d), mat(sp[2], d, hs)};
        }

        double[] forward(double[] x, float[] load, double[] pMean) {
            int e = c.nRoutedExperts();
            double[] logits = mul(router, x);
            double max = Arrays.stream(logits).max().orElseThrow();
            double sum = 0;
            for (double l : logits) {
                sum += Math.exp(l - max);
            }
            lastLse = max + Math.log(sum);
            double[] scores = new double[e];
            for (int i = 0; i < e; i++) {
                scores[i] =
                        c.scoreFunction() == ScoreFunction.SOFTMAX
                                ? Math.exp(logits[i] - lastLse)
                                : 1 / (1 + Math.exp(-logits[i]));
            }
            double total = Arrays.stream(scores).sum();
            for (int i = 0; i < e; i++) {
                pMean[i] += scores[i] / (c.scoreFunction() == ScoreFunction.SOFTMAX ? 1 : total);
            }
            Integer[] ids = new Integer[e];
            for (int i = 0; i < e; i++) {
                ids[i] = i;
            }
            Arrays.sort(ids, Comparator.comparingDouble(i -> -(scores[i] + bias[i])));
            double wsum = 0;
            for (int j = 0; j < c.topK(); j++) {
                wsum += scores[ids[j]];
            }
            double[] y = swiglu(x, shared[0], shared[1], shared[2]);
            for (int j = 0; j < c.topK(); j++) {
                int ex = ids[j];
                load[ex]++;
                double w = scores[ex] / (c.scoreFunction() == ScoreFunction.SIGMOID ? wsum : 1);
                double[] ye = swiglu(x, w1[ex], w3[ex], w2[ex]);
                for (int i = 0; i < y.length; i++) {
                    y[i] += w * ye[i];
                }
            }
            return y;
        }

        static double[] swiglu(double[] x, double[][] a, double[][] b, double[][] o) {
            double[] g = mul(a, x);
            double[] u = mul(b, x);
            for (int i = 0; i < g.length; i++) {
                g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            }
            return mul(o, g);
        }

        static double[] mul(double[][] w, double[] x) {
            double[] y = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                for (int j = 0; j < x.length; j++) {
                    y[i] += w[i][j] * x[j];
                }
            }
            return y;
        }

        static double[][] mat(Parameter p, int rows, int cols) {
            double[] v = p.getArray().toDoubleArray();
            double[][] out = new double[rows][cols];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(v, i * cols, out[i], 0, cols);
            }
            return out;
        }

        static double[][][] stack(Parameter p, int rows, int cols) {
            double[] v = p.getArray().toDoubleArray();
            int e = v.length / (rows * cols);
            double[][][] out = new double[e][rows][cols];
            for (int k = 0; k < e; k++) {
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(v, (k * rows + i) * cols, out[k][i], 0, cols);
                }
            }
            return out;
        }
    }

    @Test
    void lossFreeBalancingEvensOutASkewedRouter() {
        for (ScoreFunction sf : ScoreFunction.values()) {
            ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
            b.dModel = 16;
            b.nHeads = 2;
            b.nRoutedExperts = 8;
            b.topK = 2;
            b.ffn = FfnKind.MOE;
            b.scoreFunction = sf;
            b.biasUpdateRate = 0.005;
            b.initScale = 0.3; // per-token score spread well above the bias step
            ModelConfig c = b.build();
            try (NDManager m = Small.newManager()) {
                Gate gate = new Gate(c);
                gate.initialize(m, DataType.FLOAT32, 1L);
                // skew: rows 0 and 1 of the router point along the mean direction of the inputs
                float[] w = gate.weight().getArray().toFloatArray();
                for (int j = 0; j < 16; j++) {
                    w[j] += 0.45f;
                    w[16 + j] += 0.35f;
                }
                gate.weight().getArray().set(w);
                ParameterStore ps = Small.store(m);
                float[] early = new float[8]; // loads summed over the first 5 steps
                float[] late = new float[8]; // and over the last 50
                for (int step = 0; step < 400; step++) {
                    try (NDManager s = m.newSubManager()) {
                        NDArray x =
                                Small.normal(s, 100 + step, DataType.FLOAT32, 256, 16).add(0.5f);
                        NDArray idx = gate.route(ps, x, false).indices();
                        float[] load = new float[8];
                        for (long e : idx.toLongArray()) {
                            load[(int) e]++;
                        }
                        for (int e = 0; e < 8; e++) {
                            early[e] += step < 5 ? load[e] : 0;
                            late[e] += step >= 350 ? load[e] : 0;
                        }
                        gate.updateBias(load);
                    }
                }
                double first = max(early) / (5 * 256 * 2 / 8.0);
                double last = max(late) / (50 * 256 * 2 / 8.0);
                System.out.printf(
                        "loss-free balancing %s: max/mean load %.2f -> %.2f%n", sf, first, last);
                assertTrue(first > 2.5, sf + " the router starts skewed: " + first);
                assertTrue(
                        last < 1.25, sf + " max/mean load over the last 50 of 400 steps: " + last);
                float[] bias = gate.bias();
                assertTrue(bias[0] < 0 && bias[1] < 0, Arrays.toString(bias));
            }
        }
    }

    private static double max(float[] v) {
        double mx = 0;
        for (float x : v) {
            mx = Math.max(mx, x);
        }
        return mx;
    }

    @Test
    void biasSelectsButNeverWeights() {
        ModelConfig c = config(ScoreFunction.SOFTMAX);
        try (NDManager m = Small.newManager()) {
            Gate gate = new Gate(c);
            gate.initialize(m, F64, 2L);
            ParameterStore ps = Small.store(m);
            NDArray x = Small.normal(m, 3, F64, 10, c.dModel());
            float[] bias = new float[c.nRoutedExperts()];
            bias[4] = 10f; // expert 4 is always chosen
            gate.setBias(bias);
            Gate.Routing r = gate.route(ps, x, false);
            long[] idx = r.indices().toLongArray();
            double[] scores = r.scores().toDoubleArray();
            double[] weights = r.weights().toDoubleArray();
            for (int t = 0; t < 10; t++) {
                assertTrue(idx[2 * t] == 4 || idx[2 * t + 1] == 4);
                for (int j = 0; j < 2; j++) {
                    int e = (int) idx[2 * t + j];
                    assertEquals(scores[t * c.nRoutedExperts() + e], weights[2 * t + j], 0.0);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> gate.setBias(new float[3]));
        }
    }

    @Test
    void denseLayersAreNotRouted() {
        ModelConfig.Builder b = Small.config(AttentionKind.MHA, FfnKind.MOE).toBuilder();
        b.nDenseLayers = 1;
        ModelConfig c = b.build();
        DecoderLM lm = new DecoderLM(c);
        assertTrue(lm.layers().get(0).ffn() instanceof SwiGLU);
        assertTrue(lm.layers().get(1).ffn() instanceof MoE);
        assertEquals(1, lm.balanceBiases().size());
        try (NDManager m = Small.newManager()) {
            lm.initialize(m, DataType.FLOAT32);
            DecoderLM.Output o = lm.forward(Small.store(m), Small.tokens(m, 1, 5, 50, 1), false);
            assertEquals(1, o.expertLoad().size());
            lm.updateBalanceBias(o);
            float[] bias = lm.balanceBiases().get(0);
            float[] load = o.expertLoad().get(0);
            double mean = 5.0 * c.topK() / c.nRoutedExperts();
            for (int e = 0; e < bias.length; e++) {
                assertEquals(c.biasUpdateRate() * Math.signum(mean - load[e]), bias[e], 1e-9);
            }
            lm.setBalanceBiases(java.util.List.of(new float[c.nRoutedExperts()]));
            assertArrayEquals(new float[c.nRoutedExperts()], lm.balanceBiases().get(0));
        }
    }
}
