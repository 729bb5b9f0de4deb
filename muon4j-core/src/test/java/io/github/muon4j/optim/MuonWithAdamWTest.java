package io.github.muon4j.optim;

import static io.github.muon4j.optim.OptimTestSupport.bytes;
import static io.github.muon4j.optim.OptimTestSupport.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.optim.MuonWithAdamW.Group;
import java.io.ByteArrayInputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MuonWithAdamWTest {

    /** name, role, shape of a small MoE transformer layer. */
    private static final Object[][] PARAMS = {
        {"tok", ParamRole.EMBEDDING, new Shape(50, 8)},
        {"out", ParamRole.HEAD, new Shape(50, 8)},
        {"wq", ParamRole.HIDDEN_MATRIX, new Shape(8, 8)},
        {"w_up", ParamRole.HIDDEN_MATRIX, new Shape(20, 8)},
        {"experts", ParamRole.EXPERT_STACK, new Shape(4, 12, 8)},
        {"ln", ParamRole.NORM, new Shape(8)},
        {"b", ParamRole.BIAS, new Shape(20)},
        {"route", ParamRole.ROUTER, new Shape(4, 8)},
    };

    private static Map<String, ParamRole> roles() {
        Map<String, ParamRole> roles = new LinkedHashMap<>();
        for (Object[] p : PARAMS) {
            roles.put((String) p[0], (ParamRole) p[1]);
        }
        return roles;
    }

    @Test
    void routesByRoleNotByShape() {
        try (NDManager m = Backend.get().newManager()) {
            MuonWithAdamW opt = MuonWithAdamW.builder().optRoles(roles()).build();
            Map<String, NDArray[]> step = new LinkedHashMap<>();
            for (int i = 0; i < PARAMS.length; i++) {
                Shape s = (Shape) PARAMS[i][2];
                step.put(
                        (String) PARAMS[i][0],
                        new NDArray[] {
                            gaussian(m, i, 0.1, s.getShape()),
                            gaussian(m, 50 + i, 1.0, s.getShape())
                        });
            }
            opt.step(step);
            for (Object[] p : PARAMS) {
                String name = (String) p[0];
                boolean muon = ((ParamRole) p[1]).isMuon();
                Group expected = muon ? Group.MUON : Group.ADAMW;
                assertEquals(expected, opt.route(name, (Shape) p[2]), name);
                // the update really went to that group's optimizer
                assertEquals(muon ? 1 : 0, opt.muonGroup().stepCount(name), name);
                assertEquals(muon ? 0 : 1, opt.adamWGroup().stepCount(name), name);
            }
        }
    }

    @Test
    void overridesByNamePatternWinOverRoles() {
        MuonWithAdamW opt =
                MuonWithAdamW.builder()
                        .optRoles(roles()::get)
                        .optOverride("^out$", Group.MUON)
                        .optOverride("w_.*", Group.ADAMW)
                        .build();
        assertEquals(Group.MUON, opt.route("out", new Shape(50, 8)));
        assertEquals(Group.ADAMW, opt.route("w_up", new Shape(20, 8)));
        assertEquals(Group.MUON, opt.route("wq", new Shape(8, 8)));
        // a Muon route for a vector is refused
        MuonWithAdamW bad = MuonWithAdamW.builder().optOverride("ln", Group.MUON).build();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> bad.route("ln", new Shape(8)));
        assertTrue(e.getMessage().contains("'ln'"), e.getMessage());
    }

    @Test
    void guessesUnknownNames() {
        MuonWithAdamW opt = MuonWithAdamW.builder().optRoles(roles()).build();
        Shape mat = new Shape(16, 16);
        assertEquals(Group.ADAMW, opt.route("model.tok_embedding.weight", new Shape(100, 16)));
        assertEquals(Group.ADAMW, opt.route("lm_head.weight", new Shape(100, 16)));
        assertEquals(Group.ADAMW, opt.route("blocks.0.attn_norm.gain", new Shape(16)));
        assertEquals(Group.ADAMW, opt.route("blocks.0.mlp.router.weight", new Shape(8, 16)));
        assertEquals(Group.ADAMW, opt.route("blocks.0.proj.bias", new Shape(16)));
        assertEquals(Group.MUON, opt.route("blocks.0.multihead.q.weight", mat));
        assertEquals(Group.MUON, opt.route("blocks.0.attn.o.weight", mat));
        assertEquals(Group.MUON, opt.route("blocks.0.moe.w1", new Shape(4, 32, 16)));
        assertEquals(Group.ADAMW, opt.route("blocks.0.scale", new Shape(16)));
        assertEquals(ParamRole.EXPERT_STACK, MuonWithAdamW.guessRole("w", new Shape(2, 3, 4)));
    }

    @Test
    void batchStepChecksEveryGradientFirstAndStateRoundTrips() throws Exception {
        try (NDManager m = Backend.get().newManager()) {
            MuonWithAdamW a = combined();
            MuonWithAdamW b = combined();
            NDArray[] wa = new NDArray[PARAMS.length];
            NDArray[] wb = new NDArray[PARAMS.length];
            for (int i = 0; i < PARAMS.length; i++) {
                wa[i] = gaussian(m, i, 0.1, ((Shape) PARAMS[i][2]).getShape());
                wb[i] = wa[i].duplicate();
            }
            for (int step = 0; step < 5; step++) {
                if (step == 3) {
                    byte[] saved = bytes(b::saveState);
                    b = combined();
                    b.loadState(new ByteArrayInputStream(saved));
                    // a non-finite AdamW gradient listed last stops the whole step
                    Map<String, NDArray[]> poisoned = grads(m, step, wb);
                    NDArray bad = poisoned.get("ln")[1];
                    bad.set(new NDIndex("2"), Float.NaN);
                    float[] wq = wb[2].toFloatArray();
                    MuonWithAdamW bb = b;
                    assertThrows(NonFiniteGradientException.class, () -> bb.step(poisoned));
                    assertArrayEquals(wq, wb[2].toFloatArray(), "a Muon weight changed");
                    assertArrayEquals(saved, bytes(b::saveState), "state changed");
                }
                a.step(grads(m, step, wa));
                b.step(grads(m, step, wb));
            }
            for (int i = 0; i < PARAMS.length; i++) {
                String name = (String) PARAMS[i][0];
                assertArrayEquals(wa[i].toFloatArray(), wb[i].toFloatArray(), name);
            }
        }
    }

    private static MuonWithAdamW combined() {
        return MuonWithAdamW.builder()
                .optRoles(roles())
                .optMuon(
                        Muon.builder()
                                .optLearningRateTracker((id, t) -> 0.02f / t)
                                .optWeightDecays(0.1f)
                                .build())
                .optAdamW(
                        DecoupledAdamW.builder()
                                .optLearningRateTracker(Tracker.fixed(3e-3f))
                                .optBeta2(0.95f)
                                .optWeightDecays(0.1f)
                                .build())
                .build();
    }

    /** Parameters in a fixed order with the norm last, gradients seeded by step. */
    private static Map<String, NDArray[]> grads(NDManager m, int step, NDArray[] w) {
        Map<String, NDArray[]> map = new LinkedHashMap<>();
        int ln = 5;
        for (int i = 0; i < PARAMS.length; i++) {
            if (i != ln) {
                map.put((String) PARAMS[i][0], new NDArray[] {w[i], grad(m, step, i, w[i])});
            }
        }
        map.put((String) PARAMS[ln][0], new NDArray[] {w[ln], grad(m, step, ln, w[ln])});
        return map;
    }

    private static NDArray grad(NDManager m, int step, int i, NDArray w) {
        return gaussian(m, 1000 * step + i, 1.0, w.getShape().getShape());
    }

    @Test
    void refusesGroupSettingsOnTheCombinedBuilder() {
        assertThrows(
                IllegalArgumentException.class,
                () -> MuonWithAdamW.builder().optWeightDecays(0.1f).build());
    }
}
