package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.github.muon4j.optim.ParamRole;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    private static void rejects(String field, String rulePart, Consumer<ModelConfig.Builder> edit) {
        ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
        edit.accept(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(field), e.getMessage());
        assertTrue(e.getMessage().contains(rulePart), e.getMessage());
    }

    @Test
    void impossibleCombinationsNameTheFieldAndTheRule() {
        rejects("n_heads", "must divide d_model", b -> b.nHeads = 5);
        rejects("vocab_size", "positive", b -> b.vocabSize = 0);
        rejects("n_layers", "positive", b -> b.nLayers = 0);
        rejects("head_dim", "even", b -> b.headDim = 31);
        rejects(
                "top_k",
                "must not exceed n_routed_experts",
                b -> {
                    b.ffn = FfnKind.MOE;
                    b.topK = 15;
                });
        rejects(
                "qk_rope_head_dim",
                "even",
                b -> {
                    b.attention = AttentionKind.MLA;
                    b.qkRopeHeadDim = 7;
                });
        rejects(
                "kv_lora_rank",
                "positive",
                b -> {
                    b.attention = AttentionKind.MLA;
                    b.kvLoraRank = 0;
                });
        rejects(
                "q_lora_rank",
                "0 (plain query) or positive",
                b -> {
                    b.attention = AttentionKind.MLA;
                    b.qLoraRank = -1;
                });
        rejects(
                "n_dense_layers",
                "[0, n_layers)",
                b -> {
                    b.ffn = FfnKind.MOE;
                    b.nDenseLayers = b.nLayers;
                });
        rejects(
                "aux_loss_coef",
                ">= 0",
                b -> {
                    b.ffn = FfnKind.MOE;
                    b.auxLossCoef = -1;
                });
        rejects("norm_eps", "positive", b -> b.normEps = 0);
        rejects("rope_base", "> 1", b -> b.ropeBase = 1);
        rejects("init_scale", "positive", b -> b.initScale = 0);
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.preset("huge"));
        // MLA-only and MoE-only fields are not checked for the other kinds
        ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
        b.qkRopeHeadDim = 7;
        b.topK = 99;
        assertEquals(7, b.build().qkRopeHeadDim());
    }

    @Test
    void presetsHaveThePaperShapesAndDefaults() {
        int[][] shapes = {
            {4, 192, 6}, {6, 256, 8}, {6, 512, 8}, {9, 512, 8}, {12, 768, 12}, {12, 1024, 16}
        };
        for (int i = 0; i < shapes.length; i++) {
            ModelConfig c = ModelConfig.preset(ModelConfig.PRESETS.get(i));
            assertEquals(shapes[i][0], c.nLayers());
            assertEquals(shapes[i][1], c.dModel());
            assertEquals(shapes[i][2], c.nHeads());
            assertEquals(c.dModel() / c.nHeads(), c.headDim());
            assertEquals(c.dModel() / 2, c.kvLoraRank(), "MLA latent d/2");
            assertEquals(AttentionKind.MHA, c.attention());
            assertEquals(FfnKind.DENSE, c.ffn());
            assertEquals(0, c.ffnHidden() % 64);
            assertTrue(c.ffnHidden() >= 8 * c.dModel() / 3);
            if (i > 0) {
                assertEquals(ModelConfig.GPT2_VOCAB, c.vocabSize());
                assertEquals(62, c.nRoutedExperts());
                assertEquals(2, c.nSharedExperts());
                assertEquals(6, c.topK());
                assertEquals(512, c.contextLength());
            } else {
                assertEquals(ModelConfig.BYTE_VOCAB, c.vocabSize());
                long p = c.totalParams();
                assertTrue(p > 1_000_000 && p < 3_000_000, "tiny has " + p);
            }
            ModelConfig moe = c.withFfn(FfnKind.MOE);
            double ratio = (double) moe.size().moeActiveParams() / c.size().denseFfnParams();
            assertTrue(ratio > 0.95 && ratio < 1.10, "active MoE/dense FFN " + ratio);
            ModelConfig mla = c.withAttention(AttentionKind.MLA);
            double attn = (double) mla.size().attentionParams() / c.size().attentionParams();
            assertTrue(attn > 0.9 && attn < 1.2, "MLA/MHA attention params " + attn);
        }
        assertEquals(ModelConfig.preset("6l-512d"), ModelConfig.preset("6L-512d"));
    }

    @Test
    void closedFormCountsEqualTheBuiltModelForEveryPresetAndCombination() {
        for (String name : ModelConfig.PRESETS) {
            for (AttentionKind a : AttentionKind.values()) {
                for (FfnKind f : FfnKind.values()) {
                    for (boolean tied : new boolean[] {true, false}) {
                        ModelConfig c =
                                ModelConfig.preset(name)
                                        .withAttention(a)
                                        .withFfn(f)
                                        .withTiedEmbeddings(tied)
                                        .withVocab(ModelConfig.GPT2_VOCAB);
                        check(c, name + "/" + a + "/" + f + "/tied=" + tied);
                    }
                }
            }
        }
        ModelConfig.Builder b = Small.config(AttentionKind.MLA, FfnKind.MOE).toBuilder();
        b.qLoraRank = 12;
        b.nDenseLayers = 1;
        b.scoreFunction = ScoreFunction.SIGMOID;
        check(b.build(), "low-rank query, leading dense layer");
    }

    /** Counts from the parameter shapes (active: experts weighted by k/E) against the formulas. */
    private static void check(ModelConfig c, String what) {
        DecoderLM lm = new DecoderLM(c);
        Map<String, ParamRole> roles = lm.roles();
        long total = 0;
        double active = 0;
        double matrix = c.vocabSize() * (double) c.dModel(); // LM head matmul, tied or not
        for (Pair<String, Parameter> p : lm.getParameters()) {
            long n = p.getValue().getShape().size();
            ParamRole r = roles.get(p.getKey());
            total += n;
            double used =
                    r == ParamRole.EXPERT_STACK ? n * (double) c.topK() / c.nRoutedExperts() : n;
            active += used;
            if (r == ParamRole.HIDDEN_MATRIX
                    || r == ParamRole.ROUTER
                    || r == ParamRole.EXPERT_STACK) {
                matrix += used;
            }
        }
        assertEquals(c.totalParams(), total, what);
        assertEquals(c.totalParams(), lm.parameterCount(), what);
        assertEquals(c.activeParams(), active, 0.5, what);
        assertEquals(c.size().activeMatrixParams(), matrix, 0.5, what);
        if (c.ffn() == FfnKind.DENSE) {
            assertEquals(c.totalParams(), c.activeParams(), what);
        } else {
            assertTrue(c.activeParams() < c.totalParams(), what);
        }
        int t = 512;
        double width =
                c.attention() == AttentionKind.MHA
                        ? c.nHeads() * c.headDim()
                        : c.nHeads() * (c.qkNopeHeadDim() + c.qkRopeHeadDim() + c.vHeadDim()) / 2.0;
        assertEquals(6 * matrix + 12.0 * c.nLayers() * t * width, c.flopsPerToken(t), 1.0, what);
    }

    @Test
    void kvCachePerTokenFollowsTheAttentionKind() {
        ModelConfig c = ModelConfig.preset("6L-512d");
        assertEquals(2 * 8 * 64, c.size().kvCacheValuesPerTokenPerLayer());
        assertEquals(6 * 2 * 8 * 64, c.kvCacheValuesPerToken());
        ModelConfig m = c.withAttention(AttentionKind.MLA);
        assertEquals(256 + 32, m.size().kvCacheValuesPerTokenPerLayer());
        assertEquals(6 * (256 + 32), m.kvCacheValuesPerToken());
    }

    @Test
    void jsonRoundTripsAndUsesSnakeCase() {
        ModelConfig c =
                ModelConfig.preset("9L-512d")
                        .withAttention(AttentionKind.MLA)
                        .withFfn(FfnKind.MOE)
                        .withVocab(257)
                        .withSeed(123456789012L)
                        .withBalancing(ScoreFunction.SIGMOID, 0.02, 0.002, 0.0);
        String json = c.toJson();
        for (String key :
                new String[] {
                    "\"n_layers\"",
                    "\"d_model\"",
                    "\"n_heads\"",
                    "\"head_dim\"",
                    "\"kv_lora_rank\"",
                    "\"qk_rope_head_dim\"",
                    "\"n_routed_experts\"",
                    "\"n_shared_experts\"",
                    "\"top_k\"",
                    "\"attention\": \"mla\"",
                    "\"ffn\": \"moe\""
                }) {
            assertTrue(json.contains(key), key + " in " + json);
        }
        assertEquals(c, ModelConfig.fromJson(json));
    }

    @Test
    void partialJsonStartsFromAPresetAndRederivesSizes() {
        ModelConfig c =
                ModelConfig.fromJson(
                        "{\"preset\": \"6L-256d\", \"d_model\": 384, \"n_heads\": 6, \"attention\": \"MLA\","
                                + " \"kv_lora_rank\": 100}");
        assertEquals(6, c.nLayers());
        assertEquals(64, c.headDim());
        assertEquals(100, c.kvLoraRank());
        assertEquals(32, c.qkRopeHeadDim());
        assertEquals(1024, c.ffnHidden());
        assertEquals(AttentionKind.MLA, c.attention());
        assertEquals(ModelConfig.preset("tiny"), ModelConfig.fromJson("{}"));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ModelConfig.fromJson("{\"n_layer\": 3}"));
        assertTrue(e.getMessage().contains("unknown field 'n_layer'"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ModelConfig.fromJson("{\"n_heads\": 5}"));
        assertTrue(e.getMessage().contains("n_heads"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ModelConfig.fromJson("{\"n_layers\": 2.5}"));
        assertTrue(e.getMessage().contains("n_layers"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson("[1]"));
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson("{oops"));
    }

    /**
     * Golden files written by the hand-written codec this Gson one replaced (commit eed57b6, {@code
     * toJson()} of the configs below): checkpoints' model JSON still loads, and is written byte for
     * byte as before.
     */
    @Test
    void jsonOfTheFormerCodecLoadsAndIsWrittenIdentically() throws Exception {
        // the routing defaults of eed57b6 (softmax router, aux 0.01, bias 1e-3, z 1e-3);
        // DeepSeek-V3's
        // routing became the default later (issue 11), and the file still carries the old values
        ModelConfig tiny =
                ModelConfig.preset("tiny").withBalancing(ScoreFunction.SOFTMAX, 0.01, 1e-3, 1e-3);
        ModelConfig big =
                ModelConfig.preset("9L-512d")
                        .withAttention(AttentionKind.MLA)
                        .withFfn(FfnKind.MOE)
                        .withVocab(100277)
                        .withSeed(123456789012L)
                        .withBalancing(ScoreFunction.SIGMOID, 0.02, 0.002, 0.0)
                        .withTiedEmbeddings(false);
        String[] files = {"tiny-mha-dense.json", "9l-512d-mla-moe.json"};
        ModelConfig[] configs = {tiny, big};
        for (int i = 0; i < files.length; i++) {
            String golden;
            try (var in = ModelConfigTest.class.getResourceAsStream("/model-config/" + files[i])) {
                golden = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            assertEquals(configs[i], ModelConfig.fromJson(golden), files[i]);
            assertEquals(golden, configs[i].toJson(), files[i]);
        }
    }

    @Test
    void jsonValuesAreCheckedByTypeAndEnumsReadInAnyCase() {
        assertEquals(
                AttentionKind.MLA, ModelConfig.fromJson("{\"attention\": \"Mla\"}").attention());
        assertEquals(
                ScoreFunction.SIGMOID,
                ModelConfig.fromJson("{\"ffn\": \"moe\", \"score_function\": \"SIGMOID\"}")
                        .scoreFunction());
        for (String bad :
                new String[] {
                    "{\"attention\": \"gqa\"}",
                    "{\"top_k\": \"two\"}",
                    "{\"tied_embeddings\": 1}",
                    "{\"seed\": 1.5}",
                    "{\"attention\": null}"
                }) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class, () -> ModelConfig.fromJson(bad), bad);
            assertTrue(e.getMessage().startsWith("model config"), e.getMessage());
        }
        String e =
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ModelConfig.fromJson("{\"attention\": \"gqa\"}"))
                        .getMessage();
        assertTrue(e.contains("gqa") && e.contains("attention"), e);
        // a derived field given with changed sizes wins over the re-derived value
        ModelConfig c =
                ModelConfig.fromJson("{\"d_model\": 256, \"n_heads\": 4, \"ffn_hidden\": 320}");
        assertEquals(64, c.headDim());
        assertEquals(320, c.ffnHidden());
    }
}
