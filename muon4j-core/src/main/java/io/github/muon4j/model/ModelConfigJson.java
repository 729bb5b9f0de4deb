package io.github.muon4j.model;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Set;

/**
 * The JSON form of {@link ModelConfig} ({@code params --json}, {@code --model-config}, a run's
 * {@code config.json}): snake_case names, enums in lower case, unknown keys rejected, fields
 * derived from sizes re-derived when the sizes change.
 */
final class ModelConfigJson {

    private ModelConfigJson() {}

    /**
     * Gson with the JSON spelling: snake_case names from the Java names ({@code nLayers} -> {@code
     * n_layers}, {@code vHeadDim} -> {@code v_head_dim}) and enums in lower case (read in any
     * case).
     */
    static final Gson GSON =
            new GsonBuilder()
                    .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
                    .registerTypeAdapterFactory(new LowerCaseEnums())
                    .setPrettyPrinting()
                    .create();

    /**
     * Fields re-derived from the sizes when those change (see {@link
     * ModelConfig.Builder#deriveDefaults}).
     */
    private static final Set<String> DERIVED =
            Set.of(
                    "head_dim",
                    "kv_lora_rank",
                    "q_lora_rank",
                    "qk_nope_head_dim",
                    "qk_rope_head_dim",
                    "v_head_dim",
                    "ffn_hidden",
                    "expert_hidden");

    /** All fields as pretty JSON with snake_case names, loadable by {@link #fromJson}. */
    static String toJson(ModelConfig c) {
        return GSON.toJson(c.toBuilder()); // flat, in the order of the builder's fields
    }

    /**
     * Reads a config from JSON. Fields not given come from {@code "preset"} (default {@code tiny});
     * when sizes change, fields derived from them (head_dim, kv_lora_rank, ffn_hidden,
     * expert_hidden, ...) are re-derived unless given too. Unknown keys are rejected.
     */
    static ModelConfig fromJson(String json) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("model config JSON: expected an object");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("model config JSON: " + e.getMessage(), e);
        }
        String preset = o.has("preset") ? o.get("preset").getAsString() : "tiny";
        JsonObject merged =
                GSON.toJsonTree(ModelConfig.preset(preset).toBuilder()).getAsJsonObject();
        for (String key : o.keySet()) {
            if (!key.equals("preset") && !merged.has(key)) {
                throw new IllegalArgumentException(
                        "model config JSON: unknown field '" + key + "'");
            }
        }
        boolean sizesChanged = false;
        for (String key : o.keySet()) {
            if (!key.equals("preset") && !DERIVED.contains(key)) {
                sizesChanged |= !merged.get(key).equals(o.get(key));
                merged.add(key, o.get(key));
            }
        }
        ModelConfig.Builder b = builder(merged);
        if (sizesChanged) {
            b.deriveDefaults();
            merged = GSON.toJsonTree(b).getAsJsonObject();
        }
        for (String key : DERIVED) {
            if (o.has(key)) {
                merged.add(key, o.get(key));
            }
        }
        return builder(merged).build();
    }

    private static ModelConfig.Builder builder(JsonObject o) {
        try {
            return GSON.fromJson(
                    o.toString(),
                    ModelConfig.Builder.class); // from text: a tree would truncate 2.5 to an int
        } catch (LowerCaseEnums.Unknown e) {
            throw new IllegalArgumentException(
                    "model config JSON: " + e.field() + " " + e.getMessage(), e);
        } catch (JsonParseException | IllegalArgumentException e) {
            String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            throw new IllegalArgumentException("model config JSON: bad value (" + why + ")", e);
        }
    }
}
