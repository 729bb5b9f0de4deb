package io.github.muon4j.interop;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a muon4j model as a Hugging Face directory: {@code model.safetensors} (metadata {@code
 * format: pt}), {@code config.json}, {@code generation_config.json}, {@code tokenizer.json} and
 * {@code tokenizer_config.json}. See {@link HfLayout} for the tensor names and layouts.
 */
public final class HfExport {

    private HfExport() {}

    /** HF tensors of {@code model} in float32, in file order (MoE selection biases included). */
    public static Map<String, Safetensors.Tensor> tensors(DecoderLM model) {
        ModelConfig c = model.config();
        Map<String, Parameter> params = new HashMap<>();
        for (Pair<String, Parameter> p : model.getParameters()) {
            params.put(canonical(p.getKey()), p.getValue());
        }
        Map<String, float[]> values = new HashMap<>();
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        List<float[]> biases = model.balanceBiases();
        int moe = 0;
        String lastLayer = null;
        for (HfLayout.Item it : HfLayout.items(c)) {
            Parameter p = params.get(it.ours());
            if (p == null) {
                throw new IllegalStateException("model has no parameter " + it.ours());
            }
            float[] v = values.computeIfAbsent(it.ours(), k -> p.getArray().toFloatArray());
            long[] shape = p.getShape().getShape();
            switch (it.transform()) {
                case COPY -> out.put(it.hf(), new Safetensors.Tensor(shape, v));
                case Q_ROPE_INTERLEAVE ->
                        out.put(
                                it.hf(),
                                new Safetensors.Tensor(
                                        shape,
                                        HfLayout.interleave(
                                                v,
                                                (int) shape[1],
                                                c.qkRopeHeadDim(),
                                                HfLayout.queryRopeStarts(c),
                                                true)));
                case KV_ROPE_INTERLEAVE ->
                        out.put(
                                it.hf(),
                                new Safetensors.Tensor(
                                        shape,
                                        HfLayout.interleave(
                                                v,
                                                (int) shape[1],
                                                c.qkRopeHeadDim(),
                                                new int[] {c.kvLoraRank()},
                                                true)));
                case EXPERT_SLICE -> {
                    int n = (int) (shape[1] * shape[2]);
                    out.put(
                            it.hf(),
                            new Safetensors.Tensor(
                                    new long[] {shape[1], shape[2]},
                                    Arrays.copyOfRange(v, it.expert() * n, (it.expert() + 1) * n)));
                }
            }
            if (it.ours().endsWith("ffn_gate_weight")) {
                int layer = Integer.parseInt(it.ours().substring(5, it.ours().indexOf('_')));
                out.put(
                        HfLayout.biasName(layer),
                        new Safetensors.Tensor(new long[] {c.nRoutedExperts()}, biases.get(moe++)));
            }
        }
        return out;
    }

    /**
     * A parameter name without DJL's child ordinals: {@code 01layer0_02attention_wq} becomes {@code
     * layer0_attention_wq}.
     */
    public static String canonical(String djlName) {
        return djlName.replaceAll("(^|_)\\d+(?=[a-zA-Z])", "$1");
    }

    /** {@code config.json} of the target class. */
    public static JsonObject config(ModelConfig c, Tokenizer tok, String torchDtype) {
        String arch = HfLayout.architecture(c);
        JsonObject o = new JsonObject();
        JsonArray archs = new JsonArray();
        archs.add(arch);
        o.add("architectures", archs);
        boolean llama = arch.equals(HfLayout.LLAMA);
        o.addProperty("model_type", llama ? "llama" : "deepseek_v3");
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("hidden_size", c.dModel());
        o.addProperty("intermediate_size", c.ffnHidden());
        o.addProperty("num_hidden_layers", c.nLayers());
        o.addProperty("num_attention_heads", c.nHeads());
        o.addProperty("num_key_value_heads", c.nHeads());
        if (llama) {
            o.addProperty("head_dim", c.headDim());
            o.addProperty("mlp_bias", false);
        } else {
            if (c.qLoraRank() == 0) {
                o.add("q_lora_rank", JsonNull.INSTANCE);
            } else {
                o.addProperty("q_lora_rank", c.qLoraRank());
            }
            o.addProperty("kv_lora_rank", c.kvLoraRank());
            o.addProperty("qk_nope_head_dim", c.qkNopeHeadDim());
            o.addProperty("qk_rope_head_dim", c.qkRopeHeadDim());
            o.addProperty("v_head_dim", c.vHeadDim());
            o.addProperty("rope_interleave", true);
            boolean moe = c.ffn() == io.github.muon4j.model.FfnKind.MOE;
            o.addProperty("n_routed_experts", c.nRoutedExperts());
            o.addProperty("n_shared_experts", c.nSharedExperts());
            o.addProperty("num_experts_per_tok", c.topK());
            o.addProperty("moe_intermediate_size", c.expertHidden());
            o.addProperty("first_k_dense_replace", moe ? c.nDenseLayers() : c.nLayers());
            o.addProperty("moe_layer_freq", 1);
            o.addProperty("norm_topk_prob", true);
            o.addProperty("routed_scaling_factor", 1.0);
            o.addProperty("n_group", 1);
            o.addProperty("topk_group", 1);
            o.addProperty("scoring_func", "sigmoid");
            o.addProperty("topk_method", "noaux_tc");
        }
        o.addProperty("hidden_act", "silu");
        o.addProperty("max_position_embeddings", c.contextLength());
        o.addProperty("rms_norm_eps", c.normEps());
        o.addProperty("rope_theta", c.ropeBase());
        o.add("rope_scaling", JsonNull.INSTANCE);
        o.addProperty("attention_bias", false);
        o.addProperty("attention_dropout", 0.0);
        o.addProperty("initializer_range", c.initScale());
        o.addProperty("tie_word_embeddings", c.tiedEmbeddings());
        o.addProperty("bos_token_id", tok.eotToken());
        o.addProperty("eos_token_id", tok.eotToken());
        o.addProperty("use_cache", true);
        o.addProperty("torch_dtype", torchDtype);
        return o;
    }

    /**
     * Writes the five files into {@code dir} (created if needed). The architecture is checked
     * before anything is written; each file is written under a temporary name and renamed.
     */
    public static void write(DecoderLM model, Tokenizer tok, Path dir, Safetensors.DType dtype)
            throws IOException {
        ModelConfig c = model.config();
        String torchDtype =
                switch (dtype) {
                    case F32 -> "float32";
                    case BF16 -> "bfloat16";
                    case F16 -> "float16";
                };
        JsonObject config = config(c, tok, torchDtype); // throws for unsupported models
        String tokJson = HfTokenizerJson.tokenizerJson(tok);
        Map<String, Safetensors.Tensor> tensors = tensors(model);
        Files.createDirectories(dir);
        var gson = new GsonBuilder().setPrettyPrinting().serializeNulls().create();
        writeFile(
                dir.resolve("model.safetensors"),
                out ->
                        Safetensors.write(
                                out,
                                tensors,
                                // the selection bias stays float32, as in DeepSeek-V3's published
                                // checkpoints
                                name ->
                                        name.endsWith("e_score_correction_bias")
                                                ? Safetensors.DType.F32
                                                : dtype,
                                Map.of("format", "pt")));
        writeFile(
                dir.resolve("config.json"),
                out ->
                        out.write(
                                gson.toJson(config)
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        JsonObject gen = new JsonObject();
        gen.addProperty("bos_token_id", tok.eotToken());
        gen.addProperty("eos_token_id", tok.eotToken());
        gen.addProperty("do_sample", false);
        writeFile(
                dir.resolve("generation_config.json"),
                out ->
                        out.write(
                                gson.toJson(gen)
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        writeFile(
                dir.resolve("tokenizer.json"),
                out -> out.write(tokJson.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String tc = HfTokenizerJson.tokenizerConfigText(tok, c.contextLength());
        writeFile(
                dir.resolve("tokenizer_config.json"),
                out -> out.write(tc.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void writeFile(Path f, Body body) throws IOException {
        Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            body.write(out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
