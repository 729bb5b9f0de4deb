package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.tracker.Tracker;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.optim.ParamRole;
import io.github.muon4j.train.TrainConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Costs to target without NaN, Newton-Schulz FLOPs against the closed form, and the arms' shared
 * policy.
 */
class ProtocolTest {

    static RunSummary run(String opt, long seed, double... val) {
        int n = val.length;
        double[] steps = new double[n], tokens = new double[n], sec = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = 10 * i;
            tokens[i] = 100 * steps[i];
            sec[i] = (opt.equals("muon") ? 0.12 : 0.1) * steps[i];
        }
        JsonObject c = new JsonObject();
        c.addProperty("optimizer", opt);
        c.addProperty("lr", 0.01);
        c.addProperty("seed", seed);
        c.addProperty("batch_size", 1);
        c.addProperty("seq_len", 100);
        c.addProperty("steps", 10 * (n - 1));
        Cost cost = new Cost(1000, opt.equals("muon") ? 5000 : 0, 1, 1);
        return new RunSummary(
                "k" + opt + seed,
                opt + seed,
                c,
                cost,
                1,
                steps,
                tokens,
                sec,
                val,
                new double[0],
                false,
                false,
                0,
                new double[] {0, 0},
                "",
                null);
    }

    @Test
    void costsToTargetAreFiniteWhenSomeRunsNeverReachIt() {
        // AdamW mean curve 3, 2.55, 2.1, 2.0: the target is 2.0; AdamW seed 2 ends at 2.1 and never
        // reaches it on its own
        List<RunSummary> adamw =
                List.of(run("adamw", 1, 3.0, 2.5, 2.0, 1.9), run("adamw", 2, 3.0, 2.6, 2.2, 2.1));
        // Muon seed 2 never reaches 2.0 either; the mean curve 3, 2.3, 1.95, 1.875 crosses 2.0 at
        // 10 + 10 x 0.3/0.35 steps
        List<RunSummary> muon =
                List.of(run("muon", 1, 3.0, 2.2, 1.8, 1.7), run("muon", 2, 3.0, 2.4, 2.1, 2.05));
        ToTarget.Result r = ToTarget.analyze(muon, adamw);
        assertEquals(2.0, r.target(), 1e-12);
        double ms = 10 + 10 * 0.3 / 0.35;
        assertEquals(ms, r.muon().steps(), 1e-9);
        assertEquals(30, r.adamw().steps(), 1e-9);
        assertEquals(ms / 30, r.steps().value(), 1e-9);
        assertEquals(ms / 30, r.tokens().value(), 1e-9);
        // total FLOPs: model 1000/token x 100 tokens/step, plus Newton-Schulz 5000 per Muon step
        assertEquals(
                (ms * 100 * 1000 + ms * 5000) / (30 * 100 * 1000), r.totalFlops().value(), 1e-9);
        assertEquals(ms * 0.12 / 3.0, r.wall().value(), 1e-9);
        assertEquals(1, r.muonReached());
        assertEquals(1, r.adamwReached());
        for (ToTarget.Ratio q :
                List.of(r.steps(), r.tokens(), r.modelFlops(), r.totalFlops(), r.wall())) {
            assertTrue(Double.isFinite(q.value()));
            assertFalse(Double.isNaN(q.ci95().low()) || Double.isNaN(q.ci95().high()));
            assertTrue(q.ci95().low() <= q.value() && q.value() <= q.ci95().high());
        }
    }

    /**
     * Newton-Schulz FLOPs of one rows x cols matrix, 5 steps: 5 (4 m^2 n + 2 m^3), m = min, n =
     * max.
     */
    static double f(long rows, long cols) {
        double m = Math.min(rows, cols), n = Math.max(rows, cols);
        return 5 * (4 * m * m * n + 2 * m * m * m);
    }

    @Test
    void newtonSchulzFlopsMatchTheClosedForm() {
        // a 2 x 3 matrix: A = X X^T 2*2*2*3 = 24, A A 2*8 = 16, B X 24: 64 per step, 320 for 5
        assertEquals(320, Cost.nsFlops(2, 3, 5), 0);
        assertEquals(320, Cost.nsFlops(3, 2, 5), 0);
        ModelConfig dense = ModelConfig.preset("tiny");
        long d = dense.dModel(), h = dense.ffnHidden();
        // per layer: wq, wk, wv, wo (d x d) and the SwiGLU's w1, w3 (h x d) and w2 (d x h)
        assertEquals(
                dense.nLayers() * (4 * f(d, d) + 3 * f(h, d)),
                Cost.of(dense, 64, true).nsFlopsPerStep(),
                1);
        assertEquals(0, Cost.of(dense, 64, false).nsFlopsPerStep());
        ModelConfig moe = dense.withFfn(FfnKind.MOE);
        long e = moe.nRoutedExperts(),
                eh = moe.expertHidden(),
                shared = (long) moe.nSharedExperts() * eh;
        double layer = 4 * f(d, d) + 3 * e * f(eh, d) + 3 * f(shared, d);
        int moeLayers = moe.nLayers() - moe.nDenseLayers();
        assertEquals(
                moeLayers * layer + moe.nDenseLayers() * (4 * f(d, d) + 3 * f(h, d)),
                Cost.of(moe, 64, true).nsFlopsPerStep(),
                1);
        // model FLOPs per token are the model's own formula; non-embedding parameters leave out the
        // tied table
        Cost c = Cost.of(dense, 64, true);
        assertEquals(dense.flopsPerToken(64), c.modelFlopsPerToken(), 0);
        assertEquals(dense.totalParams() - (long) dense.vocabSize() * d, c.nonEmbeddingParams());
        assertEquals(c.modelFlops(1000) + c.nsFlops(10), c.totalFlops(10, 1000), 0);
    }

    @Test
    void bothArmsShareTheNonMatrixRateAndDecay() {
        TrainConfig base =
                TrainConfig.defaults()
                        .overlay("{\"adamw_lr\": 0.004, \"weight_decay\": 0.05}", "test");
        TrainConfig m = Compare.arm(base, "muon", 0.03, 5),
                a = Compare.arm(base, "adamw", 0.002, 5);
        assertEquals(
                m.adamwLr(),
                a.adamwLr(),
                "the AdamW arm's matrix rate does not leak into the non-matrix rate");
        assertEquals(0.004, a.adamwLr());
        assertEquals(m.weightDecay(), a.weightDecay());
        // one real update of each arm's optimizer from the same weights and gradients: the
        // embedding and the norm move identically
        Map<String, ParamRole> roles = new LinkedHashMap<>();
        roles.put("embedding", ParamRole.EMBEDDING);
        roles.put("gain", ParamRole.NORM);
        roles.put("w", ParamRole.HIDDEN_MATRIX);
        float[][] after = new float[4][];
        try (NDManager mg = Backend.get().newManager()) {
            for (int arm = 0; arm < 2; arm++) {
                MuonWithAdamW opt =
                        io.github.muon4j.train.OptimizerRecipe.of(
                                arm == 0,
                                roles,
                                Tracker.fixed(0.03f),
                                Tracker.fixed(0.004f),
                                0.05f);
                Map<String, NDArray[]> wg = new LinkedHashMap<>();
                wg.put(
                        "embedding",
                        new NDArray[] {
                            mg.arange(12f).reshape(4, 3).div(10f),
                            mg.arange(12f).reshape(4, 3).sub(5f)
                        });
                wg.put(
                        "gain",
                        new NDArray[] {
                            mg.ones(new ai.djl.ndarray.types.Shape(3)),
                            mg.create(new float[] {1f, -2f, 3f})
                        });
                wg.put(
                        "w",
                        new NDArray[] {
                            mg.arange(9f).reshape(3, 3).div(9f),
                            mg.arange(9f).reshape(3, 3).sub(4f).square()
                        });
                opt.step(wg);
                after[arm * 2] =
                        concat(
                                wg.get("embedding")[0].toFloatArray(),
                                wg.get("gain")[0].toFloatArray());
                after[arm * 2 + 1] = wg.get("w")[0].toFloatArray();
            }
        }
        assertArrayEquals(
                after[0],
                after[2],
                "non-matrix parameters: same optimizer, rate and decay in both arms");
        assertFalse(
                java.util.Arrays.equals(after[1], after[3]), "the matrices differ (Muon vs AdamW)");
        float[] before =
                concat(
                        new float[] {0f, .1f, .2f, .3f, .4f, .5f, .6f, .7f, .8f, .9f, 1f, 1.1f},
                        new float[] {1, 1, 1});
        assertFalse(java.util.Arrays.equals(before, after[0]), "the update did something");
    }

    static float[] concat(float[] a, float[] b) {
        float[] o = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }
}
