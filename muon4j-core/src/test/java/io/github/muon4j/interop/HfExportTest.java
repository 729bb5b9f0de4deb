package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.infer.Generator;
import io.github.muon4j.infer.SamplingConfig;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import io.github.muon4j.model.Small;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported files give muon4j's logits and greedy continuation when read by code that shares
 * nothing with muon4j's model: {@link HfReference} (Java) and, when python3 + numpy are present,
 * scripts/hf_forward.py (numpy), both written from transformers' Llama / DeepSeek-V3 semantics.
 */
class HfExportTest {

    static {
        Small.init();
    }

    /** 2 layers, d 32, 4 heads, byte vocabulary, context 32. */
    static ModelConfig config(AttentionKind a, FfnKind f, boolean tied, int qLoraRank) {
        ModelConfig.Builder b = Small.config(a, f).toBuilder();
        b.vocabSize = 257;
        b.tiedEmbeddings = tied;
        b.scoreFunction = ScoreFunction.SIGMOID;
        if (a == AttentionKind.MLA) {
            b.qLoraRank = qLoraRank;
            b.qkRopeHeadDim = 4;
            b.vHeadDim = 6;
        }
        if (f == FfnKind.MOE) {
            b.nLayers = 3;
            b.nDenseLayers = 1;
        }
        return b.build();
    }

    /**
     * A model with seeded weights and, for MoE, selection biases large enough to change choices.
     */
    static DecoderLM model(ModelConfig c, NDManager m) {
        DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
        Random r = new Random(11);
        List<float[]> biases = new ArrayList<>();
        for (int i = 0; i < c.moeLayers(); i++) {
            float[] b = new float[c.nRoutedExperts()];
            for (int e = 0; e < b.length; e++) {
                b[e] = (float) (0.1 * r.nextGaussian());
            }
            biases.add(b);
        }
        if (!biases.isEmpty()) {
            lm.setBalanceBiases(biases);
        }
        return lm;
    }

    static int[] ids(int n, long seed) {
        Random r = new Random(seed);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(256);
        }
        return v;
    }

    private static double[] ourLogits(DecoderLM lm, NDManager m, int[] ids) {
        try (NDManager s = m.newSubManager()) {
            float[] f =
                    lm.forward(Small.store(s), s.create(ids, new Shape(1, ids.length)), false)
                            .logits()
                            .toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
    }

    private static String csv(int[] v) {
        return Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private void check(String what, ModelConfig c, String arch, Path dir) throws Exception {
        check(what, c, arch, dir, false);
    }

    /**
     * The export read back by the Java reader, and with {@code numpy} also by
     * scripts/hf_forward.py.
     */
    private void check(String what, ModelConfig c, String arch, Path dir, boolean numpy)
            throws Exception {
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = model(c, m);
            HfExport.write(lm, new ByteTokenizer(), dir, Safetensors.DType.F32);
            JsonObject cfg =
                    JsonParser.parseString(Files.readString(dir.resolve("config.json")))
                            .getAsJsonObject();
            assertEquals(arch, cfg.getAsJsonArray("architectures").get(0).getAsString());
            for (String f :
                    new String[] {
                        "generation_config.json", "tokenizer.json", "tokenizer_config.json"
                    }) {
                assertTrue(Files.isRegularFile(dir.resolve(f)), f);
            }
            try (Safetensors.Reader r = Safetensors.Reader.open(dir.resolve("model.safetensors"))) {
                assertEquals("pt", r.metadata().get("format"));
            }
            int[] ids = ids(14, 3);
            double[] ours = ourLogits(lm, m, ids);
            HfReference ref = new HfReference(dir);
            double[][] theirs = ref.logits(ids);
            double max = 0;
            int v = c.vocabSize();
            for (int t = 0; t < ids.length; t++) {
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, Math.abs(theirs[t][j] - ours[t * v + j]));
                }
            }
            System.out.printf(
                    "%s: max |logit diff| muon4j vs Java reader of the export %.3g%n", what, max);
            assertTrue(max < 1e-4, what + ": " + max);

            int[] prompt = ids(5, 9);
            int[] greedyOurs =
                    new Generator(lm)
                            .generate(
                                    prompt,
                                    10,
                                    SamplingConfig.greedy().withStopToken(ByteTokenizer.EOT),
                                    t -> {});
            assertArrayEquals(ref.greedy(prompt, 10), greedyOurs, what + " greedy, Java reader");

            if (numpy) {
                JsonArray rows =
                        Python.run("logits", dir.toString(), csv(ids)).getAsJsonArray("logits");
                double pmax = 0;
                for (int t = 0; t < ids.length; t++) {
                    JsonArray row = rows.get(t).getAsJsonArray();
                    for (int j = 0; j < v; j++) {
                        pmax = Math.max(pmax, Math.abs(row.get(j).getAsDouble() - ours[t * v + j]));
                    }
                }
                System.out.printf(
                        "%s: max |logit diff| muon4j vs numpy reader of the export %.3g%n",
                        what, pmax);
                assertTrue(pmax < 1e-4, what + " numpy: " + pmax);
                JsonArray g =
                        Python.run("greedy", dir.toString(), csv(prompt), "10")
                                .getAsJsonArray("ids");
                int[] pg = new int[g.size()];
                for (int i = 0; i < pg.length; i++) {
                    pg[i] = g.get(i).getAsInt();
                }
                assertArrayEquals(pg, greedyOurs, what + " greedy, numpy reader");
            }
        }
    }

    @Test
    void llamaExportGivesMuon4jLogitsAndGreedyTokens(@TempDir Path dir) throws Exception {
        check(
                "MHA dense -> Llama (untied head)",
                config(AttentionKind.MHA, FfnKind.DENSE, false, 0),
                HfLayout.LLAMA,
                dir);
    }

    @Test
    void theNumpyReaderGivesMuon4jLogitsAndGreedyTokens(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Python.available(),
                "needs python3 with numpy and regex (scripts/hf_forward.py, the independent reader)");
        check(
                "MHA dense -> Llama, numpy",
                config(AttentionKind.MHA, FfnKind.DENSE, false, 0),
                HfLayout.LLAMA,
                dir.resolve("l"),
                true);
        check(
                "MLA + MoE -> DeepSeek-V3, numpy",
                config(AttentionKind.MLA, FfnKind.MOE, false, 12),
                HfLayout.DEEPSEEK_V3,
                dir.resolve("d"),
                true);
    }

    @Test
    void deepseekV3ExportGivesMuon4jLogitsAndGreedyTokens(@TempDir Path dir) throws Exception {
        check(
                "MLA + MoE -> DeepSeek-V3 (plain query, tied)",
                config(AttentionKind.MLA, FfnKind.MOE, true, 0),
                HfLayout.DEEPSEEK_V3,
                dir.resolve("a"));
        check(
                "MLA + MoE -> DeepSeek-V3 (low-rank query, untied)",
                config(AttentionKind.MLA, FfnKind.MOE, false, 12),
                HfLayout.DEEPSEEK_V3,
                dir.resolve("b"));
        check(
                "MLA dense -> DeepSeek-V3",
                config(AttentionKind.MLA, FfnKind.DENSE, true, 0),
                HfLayout.DEEPSEEK_V3,
                dir.resolve("c"));
    }

    @Test
    void deepseekV3ConfigCarriesTheKeysConvertersNeed(@TempDir Path dir) throws Exception {
        ModelConfig c = config(AttentionKind.MLA, FfnKind.MOE, true, 0);
        JsonObject cfg = HfExport.config(c, new ByteTokenizer(), "float32");
        for (String k :
                new String[] {
                    "q_lora_rank",
                    "kv_lora_rank",
                    "qk_nope_head_dim",
                    "qk_rope_head_dim",
                    "v_head_dim",
                    "n_routed_experts",
                    "n_shared_experts",
                    "num_experts_per_tok",
                    "moe_intermediate_size",
                    "first_k_dense_replace",
                    "norm_topk_prob",
                    "routed_scaling_factor",
                    "n_group",
                    "topk_group",
                    "scoring_func",
                    "topk_method",
                    "rope_interleave"
                }) {
            assertTrue(cfg.has(k), k);
        }
        assertEquals(1, cfg.get("n_group").getAsInt());
        assertEquals(1, cfg.get("topk_group").getAsInt());
        assertEquals("sigmoid", cfg.get("scoring_func").getAsString());
        assertEquals(c.nDenseLayers(), cfg.get("first_k_dense_replace").getAsInt());
        assertTrue(cfg.get("q_lora_rank").isJsonNull());
    }

    @Test
    void modelsNoClassRepresentsAreRefusedInOneLine(@TempDir Path dir) {
        ModelConfig mhaMoe = config(AttentionKind.MHA, FfnKind.MOE, true, 0);
        ModelConfig softmax =
                config(AttentionKind.MLA, FfnKind.MOE, true, 0)
                        .withBalancing(ScoreFunction.SOFTMAX, 0, 1e-3, 0);
        ModelConfig.Builder eps = config(AttentionKind.MLA, FfnKind.DENSE, true, 0).toBuilder();
        eps.normEps = 1e-5; // DeepSeek-V3's latent norms always use 1e-6
        for (ModelConfig c : new ModelConfig[] {mhaMoe, softmax, eps.build()}) {
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = model(c, m);
                Path out = dir.resolve(c.attention() + "-" + c.scoreFunction() + "-" + c.normEps());
                IllegalArgumentException e =
                        assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        HfExport.write(
                                                lm,
                                                new ByteTokenizer(),
                                                out,
                                                Safetensors.DType.F32));
                assertFalse(e.getMessage().contains("\n"));
                assertTrue(e.getMessage().startsWith("no transformers class"), e.getMessage());
                assertFalse(Files.exists(out), "nothing written");
            }
        }
    }

    @Test
    void bf16AndF16ExportsRoundToNearest(@TempDir Path dir) throws Exception {
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = model(config(AttentionKind.MHA, FfnKind.DENSE, true, 0), m);
            for (Safetensors.DType t :
                    new Safetensors.DType[] {Safetensors.DType.BF16, Safetensors.DType.F16}) {
                Path d = dir.resolve(t.name());
                HfExport.write(lm, new ByteTokenizer(), d, t);
                float[] want = lm.getParameters().get("embedding").getArray().toFloatArray();
                try (Safetensors.Reader r =
                        Safetensors.Reader.open(d.resolve("model.safetensors"))) {
                    assertEquals(t, r.entries().get("model.embed_tokens.weight").dtype());
                    float[] got = r.floats("model.embed_tokens.weight");
                    double rel =
                            t == Safetensors.DType.BF16 ? 1.0 / 256 : 1.0 / 2048; // half an ulp
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(
                                want[i],
                                got[i],
                                Math.abs(want[i]) * rel + 1e-7,
                                t + " element " + i);
                    }
                }
                JsonObject cfg =
                        JsonParser.parseString(Files.readString(d.resolve("config.json")))
                                .getAsJsonObject();
                assertEquals(
                        t == Safetensors.DType.BF16 ? "bfloat16" : "float16",
                        cfg.get("torch_dtype").getAsString());
            }
        }
    }
}
