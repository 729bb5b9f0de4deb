package io.github.muon4j.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Set;

/**
 * Everything a training run needs besides the model shape (which the preset and {@link
 * io.github.muon4j.model.ModelConfig} give). Serialised as snake_case JSON into {@code config.json}.
 *
 * <p>{@code model} (optional) overrides fields of the preset's {@link io.github.muon4j.model.ModelConfig}
 * (snake_case, as {@code params --json} prints them); fields derived from sizes are re-derived.
 *
 * <p>{@code lr} is the learning rate of the hidden matrices (Muon's, or AdamW's when the optimizer
 * is plain AdamW); {@code adamwLr} that of everything else (embedding, head, norms, routers), the same
 * with either optimizer. The default {@code lr} depends on the optimizer ({@link #defaultLr}): Muon's
 * rate is not on AdamW's scale.
 *
 * <p>{@code precision}: fp32, bf16 (matrix products with bf16 operands, everything else float32;
 * see {@link io.github.muon4j.model.Precision}) or auto (bf16 where the hardware has it).
 *
 * <p>{@code initFrom} (optional): a Hugging Face LlamaForCausalLM / DeepseekV3ForCausalLM directory
 * whose shape, weights and tokenizer start the run (continued pre-training); it replaces the preset.
 */
public record TrainConfig(
        String preset,
        String attention,
        String ffn,
        String optimizer,
        double lr,
        double adamwLr,
        double weightDecay,
        int batchSize,
        int seqLen,
        int steps,
        int warmup,
        String schedule,
        int gradAccum,
        double clip,
        int evalEvery,
        int evalBatches,
        int saveEvery,
        int keepCheckpoints,
        String data,
        String valData,
        double valFraction,
        String tokenizer,
        long seed,
        String out,
        int threads,
        String device,
        String precision,
        int logEvery,
        int diagEvery,
        int maxBadSteps,
        int samples,
        JsonObject model,
        String initFrom) {

    static final Gson GSON =
            new GsonBuilder()
                    .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
                    .setPrettyPrinting()
                    .serializeNulls()
                    .create();

    /** The defaults: the tiny preset, Muon, byte tokens, built-in corpus, about 5 minutes on 2 cores. */
    public static TrainConfig defaults() {
        return new TrainConfig(
                "tiny", "mha", "dense", "muon", 0.02, 3e-3, 0.1, 16, 128, 600, 50, "cosine", 1, 1.0, 100,
                20, 200, 2, null, null, 0.02, null, 1337L, null, 0, "auto", "fp32", 1, 0, 5, 3, null, null);
    }

    /**
     * The default learning rate of the hidden matrices for {@code --optimizer adamw}: the AdamW optimum
     * that the study's tuning protocol found for the tiny preset ({@code study --quick}, size M; see
     * REPRODUCTION.md), not Muon's 0.02.
     */
    public static final double ADAMW_MATRIX_LR = 2e-3;

    /** The default hidden-matrix learning rate of an optimizer: 0.02 for Muon, {@link #ADAMW_MATRIX_LR} for AdamW. */
    public static double defaultLr(String optimizer) {
        return "adamw".equals(optimizer) ? ADAMW_MATRIX_LR : defaults().lr();
    }

    /** This config with the optimizer's default matrix rate, unless {@code lrGiven}. */
    public TrainConfig withOptimizerDefaults(boolean lrGiven) {
        if (lrGiven || lr != defaults().lr() || defaultLr(optimizer) == lr) {
            return this;
        }
        return overlay("{\"lr\": " + defaultLr(optimizer) + "}", "defaults for --optimizer " + optimizer);
    }

    /** The tokenizer to use: the configured one, else byte-level for tiny and GPT-2 BPE otherwise. */
    public String tokenizerOrDefault() {
        return tokenizer != null ? tokenizer : ("tiny".equals(preset) ? "byte" : "gpt2");
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * Overlays a JSON object (snake_case keys; unknown keys rejected) on this config. Used for
     * {@code --config FILE}; command-line flags are applied on top afterwards.
     */
    public TrainConfig overlay(String json, String source) {
        JsonObject base = GSON.toJsonTree(this).getAsJsonObject();
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (!parsed.isJsonObject()) {
            throw new IllegalArgumentException(source + ": expected a JSON object of training settings");
        }
        Set<String> known = base.keySet();
        for (var e : parsed.getAsJsonObject().entrySet()) {
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException(
                        source + ": unknown setting '" + e.getKey() + "' (known: " + String.join(", ", known) + ")");
            }
            base.add(e.getKey(), e.getValue());
        }
        base.entrySet().removeIf(e -> e.getValue().isJsonNull());
        try {
            return GSON.fromJson(base, TrainConfig.class);
        } catch (JsonParseException | NumberFormatException | IllegalStateException e) {
            // name the setting: the first one that does not read back on its own
            JsonObject defaultsTree = GSON.toJsonTree(this).getAsJsonObject();
            for (var entry : parsed.getAsJsonObject().entrySet()) {
                JsonObject one = defaultsTree.deepCopy();
                one.add(entry.getKey(), entry.getValue());
                one.entrySet().removeIf(x -> x.getValue().isJsonNull());
                try {
                    GSON.fromJson(one, TrainConfig.class);
                } catch (RuntimeException bad) {
                    throw new IllegalArgumentException(source + ": setting '" + entry.getKey() + "' has the wrong type ("
                            + entry.getValue() + ")");
                }
            }
            throw new IllegalArgumentException(source + ": a setting has the wrong type");
        }
    }

    public static TrainConfig fromJson(String json, String source) {
        return defaults().overlay(json, source);
    }

    /** Checks every field; the message names the field and the rule. */
    public TrainConfig validate() {
        need(steps >= 1, "steps", "must be at least 1");
        need(batchSize >= 1, "batch_size", "must be at least 1");
        need(seqLen >= 2, "seq_len", "must be at least 2");
        need(warmup >= 0 && warmup <= steps, "warmup", "must be between 0 and steps");
        need(gradAccum >= 1, "grad_accum", "must be at least 1");
        need(lr > 0 && Double.isFinite(lr), "lr", "must be a positive number");
        need(adamwLr > 0 && Double.isFinite(adamwLr), "adamw_lr", "must be a positive number");
        need(weightDecay >= 0, "weight_decay", "must be >= 0");
        need(clip >= 0, "clip", "must be >= 0 (0 turns clipping off)");
        need(evalEvery >= 0, "eval_every", "must be >= 0 (0: only at the end)");
        need(evalBatches >= 1, "eval_batches", "must be at least 1");
        need(saveEvery >= 0, "save_every", "must be >= 0 (0: only at the end)");
        need(keepCheckpoints >= 1, "keep_checkpoints", "must be at least 1");
        need(valFraction > 0 && valFraction < 0.5, "val_fraction", "must be in (0, 0.5)");
        need(logEvery >= 1, "log_every", "must be at least 1");
        need(diagEvery >= 0, "diag_every", "must be >= 0 (0: off)");
        need(maxBadSteps >= 1, "max_bad_steps", "must be at least 1");
        need(samples >= 0, "samples", "must be >= 0");
        oneOf("optimizer", optimizer, "muon", "adamw");
        oneOf("attention", attention, "mha", "mla");
        oneOf("ffn", ffn, "dense", "moe");
        oneOf("schedule", schedule, "cosine", "wsd", "constant");
        oneOf("device", device, "auto", "cpu", "gpu");
        oneOf("precision", precision, "fp32", "bf16", "auto");
        if (tokenizer != null && !io.github.muon4j.data.Tokenizers.isPath(tokenizer)) {
            oneOf("tokenizer", tokenizer, "byte", "gpt2", "cl100k");
        }
        return this;
    }

    private static void need(boolean ok, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(field + " " + rule);
        }
    }

    private static void oneOf(String field, String value, String... allowed) {
        for (String a : allowed) {
            if (a.equals(value)) {
                return;
            }
        }
        throw new IllegalArgumentException(
                field + " must be one of " + String.join("|", allowed) + ", not '" + value + "'");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int i = s.indexOf('\n');
        String line = i < 0 ? s : s.substring(0, i);
        return line.replaceFirst("^[\\w.$]+(Exception|Error): ", "");
    }
}
