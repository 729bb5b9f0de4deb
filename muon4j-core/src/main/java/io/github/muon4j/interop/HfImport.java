package io.github.muon4j.interop;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.muon4j.data.JsonInts;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code LlamaForCausalLM} or {@code DeepseekV3ForCausalLM} directory ({@code
 * config.json}, {@code model.safetensors} or a sharded {@code model.safetensors.index.json}, {@code
 * tokenizer.json}) into a muon4j model: the inverse of {@link HfExport}. A shape or class muon4j
 * cannot represent exactly fails with one line naming the file and the key.
 */
public final class HfImport {

    private final Path dir;
    private final JsonObject cfg;
    private final String arch;

    private HfImport(Path dir, JsonObject cfg) {
        this.dir = dir;
        this.cfg = cfg;
        JsonElement first =
                cfg.has("architectures")
                                && cfg.get("architectures").isJsonArray()
                                && cfg.getAsJsonArray("architectures").size() > 0
                        ? cfg.getAsJsonArray("architectures").get(0)
                        : null;
        // a class name is a JSON string; anything else (null, a number, an array) names no class
        this.arch =
                first != null && first.isJsonPrimitive() && first.getAsJsonPrimitive().isString()
                        ? first.getAsString()
                        : "(none)";
    }

    /** Opens {@code dir} and checks that its class is supported. */
    public static HfImport open(Path dir) {
        Path c = dir.resolve("config.json");
        if (!Files.isRegularFile(c)) {
            throw new IllegalArgumentException(
                    "--init-from "
                            + dir
                            + ": no config.json (expected a Hugging Face model directory)");
        }
        JsonObject cfg;
        try {
            cfg = JsonParser.parseString(Files.readString(c)).getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException(c + ": not a JSON object");
        }
        HfImport im = new HfImport(dir, cfg);
        if (!im.arch.equals(HfLayout.LLAMA) && !im.arch.equals(HfLayout.DEEPSEEK_V3)) {
            throw new IllegalArgumentException(
                    c
                            + ": architecture "
                            + shown(im.arch)
                            + " is not supported (supported: "
                            + HfLayout.LLAMA
                            + ", "
                            + HfLayout.DEEPSEEK_V3
                            + ")");
        }
        return im;
    }

    /** Text from the file as a message shows it: on one line, control characters escaped. */
    private static String shown(String fromFile) {
        return fromFile.chars().anyMatch(Character::isISOControl)
                ? new com.google.gson.JsonPrimitive(fromFile).toString()
                : fromFile;
    }

    private boolean has(String k) {
        return cfg.has(k) && !cfg.get(k).isJsonNull();
    }

    private int num(String k) {
        if (!has(k)) {
            throw unsupported(k, "is missing");
        }
        try {
            return JsonInts.exact(cfg.get(k));
        } catch (IllegalArgumentException e) {
            throw unsupported(k, e.getMessage());
        }
    }

    private double dbl(String k, double otherwise) {
        return has(k) ? cfg.get(k).getAsDouble() : otherwise;
    }

    private IllegalArgumentException unsupported(String key, String why) {
        return new IllegalArgumentException(dir.resolve("config.json") + ": " + key + " " + why);
    }

    private void require(boolean ok, String key, String why) {
        if (!ok) {
            throw unsupported(key, why);
        }
    }

    /**
     * The muon4j config that represents this model exactly, with {@code seed} for anything new. A
     * field of the wrong type is bad input naming config.json; so are sizes that the safetensors
     * files are too small to hold (checked before any model is built from them).
     */
    public ModelConfig modelConfig(long seed) {
        ModelConfig mc;
        try {
            mc = readModelConfig(seed);
        } catch (UnsupportedOperationException
                | IllegalStateException
                | ClassCastException
                | NullPointerException
                | NumberFormatException
                | ArithmeticException e) {
            throw new IllegalArgumentException(
                    dir.resolve("config.json") + ": a field is missing or has the wrong type");
        }
        long bytes = 0;
        try {
            for (Path s : shardPaths()) {
                bytes += Files.size(s);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--init-from "
                            + dir
                            + ": cannot read its safetensors files ("
                            + e.getMessage()
                            + ")");
        }
        // every parameter takes at least 2 bytes (bf16/f16): a config describing more than the
        // files hold is refused here
        if (mc.totalParams() > bytes / 2) {
            throw new IllegalArgumentException(
                    dir.resolve("config.json")
                            + ": describes "
                            + mc.totalParams()
                            + " parameters, more than its safetensors files ("
                            + bytes
                            + " bytes) can hold");
        }
        return mc;
    }

    private ModelConfig readModelConfig(long seed) {
        require(!has("rope_scaling"), "rope_scaling", "is set: only plain RoPE is supported");
        if (has("rope_parameters") && cfg.get("rope_parameters").isJsonObject()) {
            JsonObject rp = cfg.getAsJsonObject("rope_parameters");
            String type = rp.has("rope_type") ? rp.get("rope_type").getAsString() : "default";
            require(
                    type.equals("default"),
                    "rope_parameters.rope_type",
                    "is " + type + ": only plain RoPE is supported");
        }
        require(
                !has("hidden_act") || cfg.get("hidden_act").getAsString().equals("silu"),
                "hidden_act",
                "must be silu (SwiGLU)");
        require(
                !has("attention_bias") || !cfg.get("attention_bias").getAsBoolean(),
                "attention_bias",
                "is true: muon4j's projections have no bias");
        require(
                !has("mlp_bias") || !cfg.get("mlp_bias").getAsBoolean(),
                "mlp_bias",
                "is true: muon4j's MLPs have no bias");
        int heads = num("num_attention_heads");
        int kvHeads = kvHeads();
        require(
                kvHeads > 0
                        && heads % kvHeads == 0
                        && (kvHeads == heads || arch.equals(HfLayout.LLAMA)),
                "num_key_value_heads",
                "("
                        + kvHeads
                        + ") must divide num_attention_heads ("
                        + heads
                        + "), and equal it for "
                        + HfLayout.DEEPSEEK_V3);
        ModelConfig.Builder b = ModelConfig.preset("tiny").toBuilder();
        b.vocabSize = num("vocab_size");
        b.contextLength = num("max_position_embeddings");
        b.nLayers = num("num_hidden_layers");
        b.dModel = num("hidden_size");
        b.nHeads = heads;
        b.deriveDefaults();
        b.normEps = dbl("rms_norm_eps", 1e-6);
        double theta = dbl("rope_theta", 10000);
        if (has("rope_parameters")
                && cfg.get("rope_parameters").isJsonObject()
                && cfg.getAsJsonObject("rope_parameters").has("rope_theta")) {
            theta = cfg.getAsJsonObject("rope_parameters").get("rope_theta").getAsDouble();
        }
        b.ropeBase = theta;
        b.tiedEmbeddings =
                has("tie_word_embeddings") && cfg.get("tie_word_embeddings").getAsBoolean();
        b.initScale = dbl("initializer_range", 0.02);
        b.seed = seed;
        b.ffnHidden = num("intermediate_size");
        if (arch.equals(HfLayout.LLAMA)) {
            b.attention = AttentionKind.MHA;
            b.ffn = FfnKind.DENSE;
            b.headDim = has("head_dim") ? num("head_dim") : b.dModel / heads;
        } else {
            b.attention = AttentionKind.MLA;
            require(
                    b.normEps == HfLayout.MLA_NORM_EPS,
                    "rms_norm_eps",
                    "is "
                            + b.normEps
                            + ": muon4j's MLA latent norms"
                            + " share it, DeepseekV3ForCausalLM's use 1e-6");
            b.qLoraRank = has("q_lora_rank") ? num("q_lora_rank") : 0;
            b.kvLoraRank = num("kv_lora_rank");
            b.qkNopeHeadDim = num("qk_nope_head_dim");
            b.qkRopeHeadDim = num("qk_rope_head_dim");
            b.vHeadDim = num("v_head_dim");
            int dense = has("first_k_dense_replace") ? num("first_k_dense_replace") : 0;
            require(
                    !has("moe_layer_freq") || num("moe_layer_freq") == 1,
                    "moe_layer_freq",
                    "must be 1");
            b.scoreFunction = ScoreFunction.SIGMOID;
            if (has("n_routed_experts")
                    && has("num_experts_per_tok")
                    && has("moe_intermediate_size")) {
                b.nRoutedExperts =
                        num("n_routed_experts"); // kept for a dense model too: it re-exports alike
                b.nSharedExperts = has("n_shared_experts") ? num("n_shared_experts") : 0;
                b.topK = num("num_experts_per_tok");
                b.expertHidden = num("moe_intermediate_size");
            }
            if (dense >= b.nLayers) {
                b.ffn = FfnKind.DENSE;
                b.nDenseLayers = 0;
            } else {
                b.ffn = FfnKind.MOE;
                b.nDenseLayers = dense;
                num("n_routed_experts");
                num("num_experts_per_tok");
                num("moe_intermediate_size");
                require(
                        !has("scoring_func")
                                || cfg.get("scoring_func").getAsString().equals("sigmoid"),
                        "scoring_func",
                        "must be sigmoid (DeepseekV3ForCausalLM's router)");
                require(
                        !has("norm_topk_prob") || cfg.get("norm_topk_prob").getAsBoolean(),
                        "norm_topk_prob",
                        "is false: muon4j's sigmoid router renormalises the top-k weights");
                int groups = has("n_group") ? num("n_group") : 1;
                int keep = has("topk_group") ? num("topk_group") : 1;
                require(
                        groups == 1 || keep == groups,
                        "n_group/topk_group",
                        "limit routing to "
                                + keep
                                + " of "
                                + groups
                                + " groups: muon4j routes over all experts");
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir.resolve("config.json") + ": " + e.getMessage());
        }
    }

    private int kvHeads() {
        return has("num_key_value_heads") ? num("num_key_value_heads") : num("num_attention_heads");
    }

    /**
     * Grouped-query keys/values [kv_heads * head_dim, d] as multi-head ones [heads * head_dim, d]:
     * each key/value head repeated for the query heads of its group, as transformers' repeat_kv
     * does at run time. Exact; a later export writes the expanded (MHA) form.
     */
    private static float[] repeatKv(float[] w, int kvHeads, int heads, int rowsPerHead, int cols) {
        int rep = heads / kvHeads;
        float[] out = new float[heads * rowsPerHead * cols];
        int block = rowsPerHead * cols;
        for (int h = 0; h < heads; h++) {
            System.arraycopy(w, (h / rep) * block, out, h * block, block);
        }
        return out;
    }

    /**
     * The routed-expert output scale folded into the experts' down projections (1 for our exports).
     */
    private double routedScale() {
        return dbl("routed_scaling_factor", 1.0);
    }

    /**
     * The tokenizer: muon4j's built-in one when {@code tokenizer.json} is exactly what {@link
     * HfTokenizerJson} writes for it, else the tokenizer.json by path.
     */
    public Tokenizer tokenizer() throws IOException {
        Path tj = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) {
            throw new IllegalArgumentException("--init-from " + dir + ": no tokenizer.json");
        }
        String text = Files.readString(tj);
        for (String name : new String[] {"byte", "gpt2", "cl100k"}) {
            Tokenizer t = Tokenizers.byName(name);
            if (looksLike(text, name) && text.equals(HfTokenizerJson.tokenizerJson(t))) {
                return t;
            }
        }
        try {
            return Tokenizers.byName(tj.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--init-from "
                            + dir
                            + ": tokenizer.json is not one of muon4j's built-in"
                            + " tokenizers, and this build cannot use a tokenizer.json by path ("
                            + e.getMessage()
                            + ")");
        }
    }

    /** Cheap pre-check before building a built-in tokenizer.json to compare with. */
    private static boolean looksLike(String text, String name) {
        int merges = text.indexOf("\"merges\":[");
        if (merges < 0) {
            return false;
        }
        boolean noMerges = text.startsWith("[]", merges + 9);
        return name.equals("byte")
                ? noMerges
                : !noMerges && (name.equals("cl100k") == text.contains("\"type\":\"Split\""));
    }

    /**
     * Files holding each tensor: one model.safetensors, or the shards of
     * model.safetensors.index.json.
     */
    private Map<String, Path> tensorFiles() throws IOException {
        Map<String, Path> files = new HashMap<>();
        for (Path s : shardPaths()) {
            try (Safetensors.Reader r = Safetensors.Reader.open(s)) {
                for (String name : r.entries().keySet()) {
                    files.put(name, s);
                }
            }
        }
        return files;
    }

    /**
     * model.safetensors, or the shards that model.safetensors.index.json names (plain file names in
     * the directory).
     */
    private List<Path> shardPaths() throws IOException {
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        List<Path> shards = new ArrayList<>();
        if (Files.isRegularFile(single)) {
            shards.add(single);
        } else if (Files.isRegularFile(index)) {
            JsonObject map;
            try {
                map =
                        JsonParser.parseString(Files.readString(index))
                                .getAsJsonObject()
                                .getAsJsonObject("weight_map");
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        index + ": not a JSON object with a \"weight_map\" object");
            }
            if (map == null) {
                throw new IllegalArgumentException(index + ": no \"weight_map\" object");
            }
            for (Map.Entry<String, JsonElement> e : map.entrySet()) {
                if (!e.getValue().isJsonPrimitive()
                        || !e.getValue().getAsJsonPrimitive().isString()
                        || !e.getValue().getAsString().matches("[A-Za-z0-9._-]+")
                        || e.getValue().getAsString().startsWith(".")) {
                    throw new IllegalArgumentException(
                            index
                                    + ": tensor "
                                    + shown(e.getKey())
                                    + " names no file of this directory");
                }
                Path p = dir.resolve(e.getValue().getAsString());
                if (!shards.contains(p)) {
                    if (!Files.isRegularFile(p)) {
                        throw new IllegalArgumentException(
                                index + ": shard " + p.getFileName() + " is missing");
                    }
                    shards.add(p);
                }
            }
        } else {
            throw new IllegalArgumentException(
                    "--init-from "
                            + dir
                            + ": no model.safetensors (only safetensors weights are read)");
        }
        return shards;
    }

    /**
     * Copies the weights into {@code model} (built from {@link #modelConfig}), in place, with the
     * MoE selection biases.
     */
    public void loadInto(DecoderLM model) throws IOException {
        ModelConfig c = model.config();
        Map<String, Path> files = tensorFiles();
        Map<String, Safetensors.Reader> readers = new LinkedHashMap<>();
        try {
            Map<String, Parameter> params = new HashMap<>();
            for (Pair<String, Parameter> p : model.getParameters()) {
                params.put(HfExport.canonical(p.getKey()), p.getValue());
            }
            Map<String, float[]> built = new LinkedHashMap<>();
            for (HfLayout.Item it : HfLayout.items(c)) {
                Parameter p = params.get(it.ours());
                long[] shape = p.getShape().getShape();
                long[] want =
                        it.transform() == HfLayout.Transform.EXPERT_SLICE
                                ? new long[] {shape[1], shape[2]}
                                : shape;
                boolean gqa =
                        kvHeads() != c.nHeads()
                                && (it.hf().endsWith("k_proj.weight")
                                        || it.hf().endsWith("v_proj.weight"));
                if (gqa) {
                    want = new long[] {(long) kvHeads() * c.headDim(), shape[1]};
                }
                float[] v = read(files, readers, it.hf(), want);
                if (gqa) {
                    v = repeatKv(v, kvHeads(), c.nHeads(), c.headDim(), (int) shape[1]);
                }
                switch (it.transform()) {
                    case COPY -> built.put(it.ours(), v);
                    case Q_ROPE_INTERLEAVE ->
                            built.put(
                                    it.ours(),
                                    interleaved()
                                            ? HfLayout.interleave(
                                                    v,
                                                    (int) shape[1],
                                                    c.qkRopeHeadDim(),
                                                    HfLayout.queryRopeStarts(c),
                                                    false)
                                            : v);
                    case KV_ROPE_INTERLEAVE ->
                            built.put(
                                    it.ours(),
                                    interleaved()
                                            ? HfLayout.interleave(
                                                    v,
                                                    (int) shape[1],
                                                    c.qkRopeHeadDim(),
                                                    new int[] {c.kvLoraRank()},
                                                    false)
                                            : v);
                    case EXPERT_SLICE -> {
                        float[] stack =
                                built.computeIfAbsent(
                                        it.ours(),
                                        k -> new float[(int) (shape[0] * shape[1] * shape[2])]);
                        if (it.ours().endsWith("experts_w2") && routedScale() != 1.0) {
                            for (int i = 0; i < v.length; i++) {
                                v[i] = (float) (v[i] * routedScale());
                            }
                        }
                        System.arraycopy(v, 0, stack, it.expert() * v.length, v.length);
                    }
                }
            }
            for (Map.Entry<String, float[]> e : built.entrySet()) {
                CheckpointTensors.replaceValues(params.get(e.getKey()).getArray(), e.getValue());
            }
            List<float[]> biases = new ArrayList<>();
            for (int l = 0; l < c.nLayers(); l++) {
                if (c.isMoeLayer(l)) {
                    String name = HfLayout.biasName(l);
                    biases.add(
                            files.containsKey(name)
                                    ? read(files, readers, name, new long[] {c.nRoutedExperts()})
                                    : new float[c.nRoutedExperts()]);
                }
            }
            if (!biases.isEmpty()) {
                model.setBalanceBiases(biases);
            }
        } finally {
            for (Safetensors.Reader r : readers.values()) {
                r.close();
            }
        }
    }

    private boolean interleaved() {
        if (!has("rope_interleave")) {
            return true;
        }
        JsonElement v = cfg.get("rope_interleave");
        require(
                v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean(),
                "rope_interleave",
                "must be true or false");
        return v.getAsBoolean();
    }

    private float[] read(
            Map<String, Path> files,
            Map<String, Safetensors.Reader> readers,
            String name,
            long[] shape)
            throws IOException {
        Path f = files.get(name);
        if (f == null) {
            throw new IllegalArgumentException(
                    "--init-from " + dir + ": tensor " + name + " is missing");
        }
        Safetensors.Reader r = readers.get(f.toString());
        if (r == null) {
            r = Safetensors.Reader.open(f);
            readers.put(f.toString(), r);
        }
        Safetensors.Entry e = r.entries().get(name);
        if (!Arrays.equals(e.shape(), shape)) {
            throw new IllegalArgumentException(
                    f
                            + ": tensor "
                            + name
                            + " has shape "
                            + Arrays.toString(e.shape())
                            + ", config.json implies "
                            + Arrays.toString(shape));
        }
        return r.floats(name);
    }
}
