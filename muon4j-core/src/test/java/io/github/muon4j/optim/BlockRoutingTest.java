package io.github.muon4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import io.github.muon4j.Backend;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.Small;
import io.github.muon4j.optim.MuonWithAdamW.Group;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Routing under DJL's parameter ids ({@code uid-...}), as DJL's Trainer calls {@code update}: a
 * plain SequentialBlock by the default rule, DecoderLM by its declared roles.
 */
class BlockRoutingTest {

    @Test
    void sequentialBlockHiddenWeightsGoToMuonTheRestToAdamW() {
        try (NDManager m = Backend.get().newManager()) {
            SequentialBlock block =
                    new SequentialBlock()
                            .add(Linear.builder().setUnits(32).build())
                            .add(LayerNorm.builder().build())
                            .add(Activation::relu)
                            .add(Linear.builder().setUnits(32).build())
                            .add(Linear.builder().setUnits(1).build());
            block.initialize(m, DataType.FLOAT32, new Shape(4, 16));
            MuonWithAdamW opt = MuonWithAdamW.builder().optBlock(block).build();
            Map<String, Group> expected = new LinkedHashMap<>();
            expected.put("01Linear_weight", Group.MUON);
            expected.put("01Linear_bias", Group.ADAMW);
            expected.put("02LayerNorm_gamma", Group.ADAMW);
            expected.put("02LayerNorm_beta", Group.ADAMW);
            expected.put("04Linear_weight", Group.MUON);
            expected.put("04Linear_bias", Group.ADAMW);
            expected.put("05Linear_weight", Group.ADAMW); // the last Linear: the output layer
            expected.put("05Linear_bias", Group.ADAMW);
            Map<String, Group> got = new LinkedHashMap<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                String id = p.getValue().getId();
                assertTrue(ParamNames.isDjlId(id), id);
                got.put(p.getKey(), opt.route(id, p.getValue().getArray().getShape()));
            }
            assertEquals(expected, got);
        }
    }

    @Test
    void aRoleFunctionDecidesFirstAndNullLeavesTheDefault() {
        try (NDManager m = Backend.get().newManager()) {
            SequentialBlock block = DjlFixtures.initializedMlp(m);
            MuonWithAdamW opt =
                    MuonWithAdamW.builder()
                            .optBlock(
                                    block,
                                    (name, p) -> name.startsWith("01") ? ParamRole.HEAD : null)
                            .build();
            Parameter first = block.getParameters().get("01Linear_weight");
            Parameter last = block.getParameters().get("03Linear_weight");
            assertEquals(Group.ADAMW, opt.route(first.getId(), first.getArray().getShape()));
            assertEquals(Group.ADAMW, opt.route(last.getId(), last.getArray().getShape()));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> MuonWithAdamW.builder().optBlock(block).optRoles(Map.of()).build());
        }
    }

    @Test
    void decoderLmRoutesByItsDeclaredRolesUnderDjlIds() {
        Small.init();
        try (NDManager m = Small.newManager()) {
            for (FfnKind ffn : FfnKind.values()) {
                DecoderLM model =
                        Small.model(Small.config(AttentionKind.MLA, ffn), m, DataType.FLOAT32);
                Map<String, ParamRole> roles = model.roles();
                MuonWithAdamW opt = MuonWithAdamW.builder().optBlock(model).build();
                int muon = 0;
                for (Pair<String, Parameter> p : model.getParameters()) {
                    ParamRole role = roles.get(p.getKey());
                    Group g = opt.route(p.getValue().getId(), p.getValue().getArray().getShape());
                    assertEquals(role.isMuon() ? Group.MUON : Group.ADAMW, g, p.getKey());
                    muon += g == Group.MUON ? 1 : 0;
                }
                assertTrue(muon > 0);
                // the embedding is 2-D, yet AdamW's (a shape guess would give it to Muon)
                Parameter emb = model.getParameters().get("embedding");
                assertEquals(Group.ADAMW, opt.route(emb.getId(), emb.getArray().getShape()));
                // the same roles through the default function directly
                assertEquals(
                        ParamRole.EMBEDDING, ParamRoles.defaults(model).apply("embedding", emb));
            }
        }
    }

    @Test
    void errorsNameTheParameterNotTheId() {
        try (NDManager m = Backend.get().newManager()) {
            SequentialBlock block = DjlFixtures.initializedMlp(m);
            Parameter w = block.getParameters().get("01Linear_weight");
            NDArray weight = w.getArray();
            NDArray wrong = m.zeros(new Shape(3, 3));
            for (ai.djl.training.optimizer.Optimizer opt :
                    new ai.djl.training.optimizer.Optimizer[] {
                        MuonWithAdamW.builder().optBlock(block).build(),
                        Muon.builder().optBlock(block).build(),
                        DecoupledAdamW.builder().optBlock(block).build()
                    }) {
                IllegalArgumentException e =
                        assertThrows(
                                IllegalArgumentException.class,
                                () -> opt.update(w.getId(), weight, wrong));
                assertTrue(e.getMessage().contains("'01Linear_weight'"), e.getMessage());
                assertFalse(e.getMessage().contains(w.getId()), e.getMessage());
            }
            // a strict Muon refuses a bias at its first update, in one line naming it
            Parameter b = block.getParameters().get("01Linear_bias");
            Muon strict = Muon.builder().optBlock(block).optFallback(null).build();
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    strict.update(
                                            b.getId(),
                                            b.getArray(),
                                            m.ones(b.getArray().getShape())));
            assertTrue(e.getMessage().contains("'01Linear_bias'"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
            // a parameter of another block is refused, not guessed
            SequentialBlock other = DjlFixtures.mlp();
            MuonWithAdamW opt = MuonWithAdamW.builder().optBlock(other).build();
            IllegalArgumentException e2 =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> opt.route(w.getId(), weight.getShape()));
            assertTrue(e2.getMessage().contains("not a parameter of the block"), e2.getMessage());
        }
    }
}
