package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Small;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** export -> import -> export is bit-exact; what cannot be represented is refused in one line. */
class HfImportTest {

    static {
        Small.init();
    }

    private static void roundTrip(ModelConfig c, Path dir) throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = HfExportTest.model(c, m);
            HfExport.write(lm, new ByteTokenizer(), a, Safetensors.DType.F32);
            HfImport im = HfImport.open(a);
            assertEquals("byte", im.tokenizer().name());
            ModelConfig back = im.modelConfig(c.seed() + 1);
            DecoderLM lm2 = new DecoderLM(back);
            lm2.initialize(
                    m, DataType.FLOAT32); // a different seed: every weight must come from the files
            im.loadInto(lm2);
            HfExport.write(lm2, new ByteTokenizer(), b, Safetensors.DType.F32);
        }
        for (String f :
                new String[] {
                    "model.safetensors",
                    "config.json",
                    "generation_config.json",
                    "tokenizer.json",
                    "tokenizer_config.json"
                }) {
            assertArrayEquals(
                    Files.readAllBytes(a.resolve(f)),
                    Files.readAllBytes(b.resolve(f)),
                    f + " differs");
        }
    }

    @Test
    void llamaRoundTripsBitExactly(@TempDir Path dir) throws Exception {
        roundTrip(HfExportTest.config(AttentionKind.MHA, FfnKind.DENSE, false, 0), dir);
    }

    @Test
    void deepseekV3RoundTripsBitExactly(@TempDir Path dir) throws Exception {
        roundTrip(
                HfExportTest.config(AttentionKind.MLA, FfnKind.MOE, true, 12), dir.resolve("moe"));
        roundTrip(
                HfExportTest.config(AttentionKind.MLA, FfnKind.DENSE, false, 0),
                dir.resolve("dense"));
    }

    /** A tokenizer.json that is not a built-in one is used by path, and exported as it is. */
    @Test
    void aForeignTokenizerJsonIsUsedByPathAndCopied(@TempDir Path dir) throws Exception {
        ModelConfig c = HfExportTest.config(AttentionKind.MHA, FfnKind.DENSE, true, 0);
        Path a = dir.resolve("a");
        try (NDManager m = Small.newManager()) {
            HfExport.write(HfExportTest.model(c, m), new ByteTokenizer(), a, Safetensors.DType.F32);
        }
        // the same vocabulary, written differently: no longer byte-identical to muon4j's own file
        String pretty =
                new com.google.gson.GsonBuilder()
                        .setPrettyPrinting()
                        .serializeNulls()
                        .create()
                        .toJson(
                                com.google.gson.JsonParser.parseString(
                                        Files.readString(a.resolve("tokenizer.json"))));
        Files.writeString(a.resolve("tokenizer.json"), pretty);
        HfImport im = HfImport.open(a);
        io.github.muon4j.data.Tokenizer tok = im.tokenizer();
        assertEquals(
                a.resolve("tokenizer.json").toAbsolutePath().normalize().toString(), tok.name());
        assertEquals(256, tok.eotToken()); // from the tokenizer_config.json beside it
        assertArrayEquals(new ByteTokenizer().encode("Grüße, 世界"), tok.encode("Grüße, 世界"));
        Path b = dir.resolve("b");
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = new DecoderLM(im.modelConfig(1));
            lm.initialize(m, DataType.FLOAT32);
            im.loadInto(lm);
            HfExport.write(lm, tok, b, Safetensors.DType.F32);
        }
        assertEquals(pretty, Files.readString(b.resolve("tokenizer.json")));
        assertEquals(
                Files.readString(a.resolve("tokenizer_config.json")),
                Files.readString(b.resolve("tokenizer_config.json")));
        assertArrayEquals(
                Files.readAllBytes(a.resolve("model.safetensors")),
                Files.readAllBytes(b.resolve("model.safetensors")));
    }

    /** A grouped-query Llama (2 key/value heads for 4 query heads) imports exactly as MHA. */
    @Test
    void groupedQueryLlamaImportsExactly(@TempDir Path dir) throws Exception {
        ModelConfig c = HfExportTest.config(AttentionKind.MHA, FfnKind.DENSE, false, 0);
        Path a = dir.resolve("gqa");
        try (NDManager m = Small.newManager()) {
            HfExport.write(HfExportTest.model(c, m), new ByteTokenizer(), a, Safetensors.DType.F32);
        }
        int hd = c.headDim();
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        try (Safetensors.Reader r = Safetensors.Reader.open(a.resolve("model.safetensors"))) {
            for (Safetensors.Entry e : r.entries().values()) {
                float[] v = r.floats(e.name());
                long[] shape = e.shape();
                if (e.name().endsWith("k_proj.weight") || e.name().endsWith("v_proj.weight")) {
                    v = Arrays.copyOf(v, 2 * hd * c.dModel()); // keep key/value heads 0 and 1
                    shape = new long[] {2L * hd, c.dModel()};
                }
                t.put(e.name(), new Safetensors.Tensor(shape, v));
            }
        }
        try (OutputStream out = Files.newOutputStream(a.resolve("model.safetensors"))) {
            Safetensors.write(out, t, n -> Safetensors.DType.F32, Map.of("format", "pt"));
        }
        Files.writeString(
                a.resolve("config.json"),
                Files.readString(a.resolve("config.json"))
                        .replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 2"));
        HfImport im = HfImport.open(a);
        int[] ids = HfExportTest.ids(9, 4);
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = new DecoderLM(im.modelConfig(1));
            lm.initialize(m, DataType.FLOAT32);
            im.loadInto(lm);
            float[] ours =
                    lm.forward(Small.store(m), m.create(ids, new Shape(1, ids.length)), false)
                            .logits()
                            .toFloatArray();
            double[][] ref = new HfReference(a).logits(ids);
            double max = 0;
            for (int i = 0; i < ids.length; i++) {
                for (int j = 0; j < c.vocabSize(); j++) {
                    max = Math.max(max, Math.abs(ref[i][j] - ours[i * c.vocabSize() + j]));
                }
            }
            System.out.printf("grouped-query Llama imported as MHA: max |logit diff| %.3g%n", max);
            assertTrue(max < 1e-4, "max diff " + max);
        }
    }

    @Test
    void unsupportedClassesAndShapesAreRefusedInOneLine(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        try (NDManager m = Small.newManager()) {
            HfExport.write(
                    HfExportTest.model(
                            HfExportTest.config(AttentionKind.MLA, FfnKind.MOE, true, 0), m),
                    new ByteTokenizer(),
                    a,
                    Safetensors.DType.F32);
        }
        String cfg = Files.readString(a.resolve("config.json"));
        String[][] cases = {
            {
                "\"DeepseekV3ForCausalLM\"",
                "\"MixtralForCausalLM\"",
                "architecture MixtralForCausalLM is not supported"
            },
            {
                "\"rope_scaling\": null",
                "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}",
                "rope_scaling"
            },
            {"\"n_group\": 1", "\"n_group\": 2", "n_group/topk_group"},
            {"\"norm_topk_prob\": true", "\"norm_topk_prob\": false", "norm_topk_prob"},
            {
                "\"num_key_value_heads\": 4", "\"num_key_value_heads\": 2", "num_key_value_heads"
            }, // MLA: never
            {"\"kv_lora_rank\": 16", "\"kv_lora_rank\": 12", "has shape"},
            { // 10^10 would wrap round to 1,410,065,408 layers as an int
                "\"num_hidden_layers\": 3",
                "\"num_hidden_layers\": 10000000000",
                "num_hidden_layers is 10000000000, not a whole number"
            },
            {"\"num_hidden_layers\": 3", "\"num_hidden_layers\": 2.5", "is 2.5, not a whole"},
        };
        for (String[] k : cases) {
            assertTrue(cfg.contains(k[0]), k[0]);
            Files.writeString(a.resolve("config.json"), cfg.replace(k[0], k[1]));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> {
                                HfImport im = HfImport.open(a);
                                ModelConfig c = im.modelConfig(1);
                                try (NDManager m = Small.newManager()) {
                                    DecoderLM lm = new DecoderLM(c);
                                    lm.initialize(m, DataType.FLOAT32);
                                    im.loadInto(lm);
                                }
                            },
                            k[1]);
            assertTrue(e.getMessage().contains(k[2]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
