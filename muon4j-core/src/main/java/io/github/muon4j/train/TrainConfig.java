package io.github.muon4j.train;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.LowerCaseEnums;
import io.github.muon4j.model.ModelConfig;
import java.util.Locale;
import java.util.Set;

/**
 * Everything a training run needs besides the model shape (which the preset and {@link ModelConfig}
 * give). Serialised as snake_case JSON into {@code config.json}, enums as lower-case names ({@code
 * "optimizer": "muon"}).
 *
 * <pre>{@code
 * TrainConfig c = TrainConfig.builder().optimizer(OptimizerKind.ADAMW).lr(2e-3).steps(300).build().validate();
 * }</pre>
 *
 * <p>{@code model} (optional) overrides fields of the preset's {@link ModelConfig} (snake_case, as
 * {@code params --json} prints them); fields derived from sizes are re-derived.
 *
 * <p>{@code lr} is the learning rate of the hidden matrices (Muon's, or AdamW's when the optimizer
 * is plain AdamW); {@code adamwLr} that of everything else (embedding, head, norms, routers), the
 * same with either optimizer. The default {@code lr} depends on the optimizer ({@link #defaultLr}):
 * Muon's rate is not on AdamW's scale.
 *
 * <p>{@code initFrom} (optional): a Hugging Face LlamaForCausalLM / DeepseekV3ForCausalLM directory
 * whose shape, weights and tokenizer start the run (continued pre-training); it replaces the
 * preset.
 */
public record TrainConfig(
        String preset,
        AttentionKind attention,
        FfnKind ffn,
        OptimizerKind optimizer,
        double lr,
        double adamwLr,
        double weightDecay,
        int batchSize,
        int seqLen,
        int steps,
        int warmup,
        LrSchedule.Kind schedule,
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
        Device device,
        MatmulPrecision precision,
        int logEvery,
        int diagEvery,
        int maxBadSteps,
        int samples,
        JsonObject model,
        String initFrom) {

    /** Where the run computes. */
    public enum Device {
        /** a GPU when the engine has one, else the CPU */
        AUTO,
        CPU,
        GPU;

        /** The lower-case name, as in {@code config.json} and on the command line. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The precision of the model's matrix products: fp32; bf16 (bf16 operands, float32 weights,
     * gradients, optimizer state and loss: {@link io.github.muon4j.model.Autocast}); auto (bf16
     * where the hardware multiplies bf16 natively).
     */
    public enum MatmulPrecision {
        FP32,
        BF16,
        AUTO;

        /** The lower-case name, as in {@code config.json} and on the command line. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The precision to train in on {@code device}. */
        public io.github.muon4j.model.Precision resolve(ai.djl.Device device) {
            return io.github.muon4j.model.Precision.resolve(toString(), device);
        }
    }

    static final Gson GSON =
            new GsonBuilder()
                    .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
                    .registerTypeAdapterFactory(new LowerCaseEnums())
                    .setPrettyPrinting()
                    .serializeNulls()
                    .create();

    /**
     * The defaults: the tiny preset, Muon, byte tokens, built-in corpus, about 5 minutes on 2
     * cores.
     */
    public static TrainConfig defaults() {
        return builder().build();
    }

    /** A builder holding {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.preset = preset;
        b.attention = attention;
        b.ffn = ffn;
        b.optimizer = optimizer;
        b.lr = lr;
        b.adamwLr = adamwLr;
        b.weightDecay = weightDecay;
        b.batchSize = batchSize;
        b.seqLen = seqLen;
        b.steps = steps;
        b.warmup = warmup;
        b.schedule = schedule;
        b.gradAccum = gradAccum;
        b.clip = clip;
        b.evalEvery = evalEvery;
        b.evalBatches = evalBatches;
        b.saveEvery = saveEvery;
        b.keepCheckpoints = keepCheckpoints;
        b.data = data;
        b.valData = valData;
        b.valFraction = valFraction;
        b.tokenizer = tokenizer;
        b.seed = seed;
        b.out = out;
        b.threads = threads;
        b.device = device;
        b.precision = precision;
        b.logEvery = logEvery;
        b.diagEvery = diagEvery;
        b.maxBadSteps = maxBadSteps;
        b.samples = samples;
        b.model = model;
        b.initFrom = initFrom;
        return b;
    }

    /**
     * The default learning rate of the hidden matrices for {@code --optimizer adamw}: the AdamW
     * optimum that the study's tuning protocol found for the tiny preset ({@code study --quick},
     * size M; see REPRODUCTION.md), not Muon's 0.02.
     */
    public static final double ADAMW_MATRIX_LR = 2e-3;

    /**
     * The default hidden-matrix learning rate of an optimizer: 0.02 for Muon, {@link
     * #ADAMW_MATRIX_LR} for AdamW.
     */
    public static double defaultLr(OptimizerKind optimizer) {
        return optimizer == OptimizerKind.ADAMW ? ADAMW_MATRIX_LR : defaults().lr();
    }

    /** As {@link #defaultLr(OptimizerKind)}, by name ({@code "muon"}, {@code "adamw"}). */
    public static double defaultLr(String optimizer) {
        return "adamw".equalsIgnoreCase(optimizer) ? ADAMW_MATRIX_LR : defaults().lr();
    }

    /** This config with the optimizer's default matrix rate, unless {@code lrGiven}. */
    public TrainConfig withOptimizerDefaults(boolean lrGiven) {
        if (lrGiven || lr != defaults().lr() || defaultLr(optimizer) == lr) {
            return this;
        }
        return toBuilder().lr(defaultLr(optimizer)).build();
    }

    /**
     * The tokenizer to use: the configured one, else byte-level for tiny and GPT-2 BPE otherwise.
     */
    public String tokenizerOrDefault() {
        return tokenizer != null ? tokenizer : ("tiny".equals(preset) ? "byte" : "gpt2");
    }

    /**
     * Pretty snake_case JSON, as {@code config.json} holds it (also the key of cached experiment
     * runs).
     */
    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * Overlays a JSON object (snake_case keys; unknown keys rejected) on this config. Used for
     * {@code --config FILE} and for {@code config.json} of a run directory; command-line flags are
     * applied on top afterwards.
     */
    public TrainConfig overlay(String json, String source) {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(
                    source + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (!parsed.isJsonObject()) {
            throw new IllegalArgumentException(
                    source + ": expected a JSON object of training settings");
        }
        return overlay(parsed.getAsJsonObject(), source);
    }

    /** As {@link #overlay(String, String)}, from a parsed object. */
    public TrainConfig overlay(JsonObject settings, String source) {
        JsonObject base = GSON.toJsonTree(this).getAsJsonObject();
        Set<String> known = base.keySet();
        for (var e : settings.entrySet()) {
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException(
                        source
                                + ": unknown setting '"
                                + e.getKey()
                                + "' (known: "
                                + String.join(", ", known)
                                + ")");
            }
            base.add(e.getKey(), e.getValue());
        }
        base.entrySet().removeIf(e -> e.getValue().isJsonNull());
        try {
            return GSON.fromJson(base, TrainConfig.class);
        } catch (JsonParseException | NumberFormatException | IllegalStateException e) {
            // name the setting: the first one that does not read back on its own
            JsonObject defaultsTree = GSON.toJsonTree(this).getAsJsonObject();
            for (var entry : settings.entrySet()) {
                JsonObject one = defaultsTree.deepCopy();
                one.add(entry.getKey(), entry.getValue());
                one.entrySet().removeIf(x -> x.getValue().isJsonNull());
                try {
                    GSON.fromJson(one, TrainConfig.class);
                } catch (LowerCaseEnums.Unknown bad) {
                    throw new IllegalArgumentException(
                            source + ": " + entry.getKey() + " " + bad.getMessage());
                } catch (RuntimeException bad) {
                    throw new IllegalArgumentException(
                            source
                                    + ": setting '"
                                    + entry.getKey()
                                    + "' has the wrong type ("
                                    + entry.getValue()
                                    + ")");
                }
            }
            throw new IllegalArgumentException(source + ": a setting has the wrong type");
        }
    }

    /** The defaults overlaid with {@code json} (see {@link #overlay}). */
    public static TrainConfig fromJson(String json, String source) {
        return defaults().overlay(json, source);
    }

    /** Checks every field; the message names the field and the rule. */
    public TrainConfig validate() {
        need(preset != null, "preset", "must be set");
        need(attention != null, "attention", "must be set");
        need(ffn != null, "ffn", "must be set");
        need(optimizer != null, "optimizer", "must be set");
        need(schedule != null, "schedule", "must be set");
        need(device != null, "device", "must be set");
        need(precision != null, "precision", "must be set");
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

    /**
     * Builds a {@link TrainConfig}, starting from {@link #defaults()}; {@link
     * TrainConfig#validate()} checks it.
     */
    public static final class Builder {
        private String preset = "tiny";
        private AttentionKind attention = AttentionKind.MHA;
        private FfnKind ffn = FfnKind.DENSE;
        private OptimizerKind optimizer = OptimizerKind.MUON;
        private double lr = 0.02;
        private double adamwLr = 3e-3;
        private double weightDecay = 0.1;
        private int batchSize = 16;
        private int seqLen = 128;
        private int steps = 600;
        private int warmup = 50;
        private LrSchedule.Kind schedule = LrSchedule.Kind.COSINE;
        private int gradAccum = 1;
        private double clip = 1.0;
        private int evalEvery = 100;
        private int evalBatches = 20;
        private int saveEvery = 200;
        private int keepCheckpoints = 2;
        private String data = null;
        private String valData = null;
        private double valFraction = 0.02;
        private String tokenizer = null;
        private long seed = 1337L;
        private String out = null;
        private int threads = 0;
        private Device device = Device.AUTO;
        private MatmulPrecision precision = MatmulPrecision.FP32;
        private int logEvery = 1;
        private int diagEvery = 0;
        private int maxBadSteps = 5;
        private int samples = 3;
        private JsonObject model = null;
        private String initFrom = null;

        private Builder() {}

        /** Model preset (see {@link ModelConfig#PRESETS}). */
        public Builder preset(String preset) {
            this.preset = preset;
            return this;
        }

        public Builder attention(AttentionKind attention) {
            this.attention = attention;
            return this;
        }

        public Builder ffn(FfnKind ffn) {
            this.ffn = ffn;
            return this;
        }

        public Builder optimizer(OptimizerKind optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        public Builder adamwLr(double adamwLr) {
            this.adamwLr = adamwLr;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder seqLen(int seqLen) {
            this.seqLen = seqLen;
            return this;
        }

        public Builder steps(int steps) {
            this.steps = steps;
            return this;
        }

        public Builder warmup(int warmup) {
            this.warmup = warmup;
            return this;
        }

        public Builder schedule(LrSchedule.Kind schedule) {
            this.schedule = schedule;
            return this;
        }

        public Builder gradAccum(int gradAccum) {
            this.gradAccum = gradAccum;
            return this;
        }

        public Builder clip(double clip) {
            this.clip = clip;
            return this;
        }

        public Builder evalEvery(int evalEvery) {
            this.evalEvery = evalEvery;
            return this;
        }

        public Builder evalBatches(int evalBatches) {
            this.evalBatches = evalBatches;
            return this;
        }

        public Builder saveEvery(int saveEvery) {
            this.saveEvery = saveEvery;
            return this;
        }

        public Builder keepCheckpoints(int keepCheckpoints) {
            this.keepCheckpoints = keepCheckpoints;
            return this;
        }

        /** Training data path; null: the built-in corpus. */
        public Builder data(String data) {
            this.data = data;
            return this;
        }

        /** Validation data path; null: a held-out part of the training data. */
        public Builder valData(String valData) {
            this.valData = valData;
            return this;
        }

        public Builder valFraction(double valFraction) {
            this.valFraction = valFraction;
            return this;
        }

        /**
         * {@code byte}, {@code gpt2}, {@code cl100k} or a tokenizer.json path; null: {@link
         * #tokenizerOrDefault()}.
         */
        public Builder tokenizer(String tokenizer) {
            this.tokenizer = tokenizer;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Run directory; null: chosen by the command. */
        public Builder out(String out) {
            this.out = out;
            return this;
        }

        /** CPU threads, 0: all cores. */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        public Builder precision(MatmulPrecision precision) {
            this.precision = precision;
            return this;
        }

        public Builder logEvery(int logEvery) {
            this.logEvery = logEvery;
            return this;
        }

        public Builder diagEvery(int diagEvery) {
            this.diagEvery = diagEvery;
            return this;
        }

        public Builder maxBadSteps(int maxBadSteps) {
            this.maxBadSteps = maxBadSteps;
            return this;
        }

        public Builder samples(int samples) {
            this.samples = samples;
            return this;
        }

        /** Fields overriding the preset's {@link ModelConfig} (snake_case), or null. */
        public Builder model(JsonObject model) {
            this.model = model;
            return this;
        }

        /** A Hugging Face model directory to start from, or null. */
        public Builder initFrom(String initFrom) {
            this.initFrom = initFrom;
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(
                    preset,
                    attention,
                    ffn,
                    optimizer,
                    lr,
                    adamwLr,
                    weightDecay,
                    batchSize,
                    seqLen,
                    steps,
                    warmup,
                    schedule,
                    gradAccum,
                    clip,
                    evalEvery,
                    evalBatches,
                    saveEvery,
                    keepCheckpoints,
                    data,
                    valData,
                    valFraction,
                    tokenizer,
                    seed,
                    out,
                    threads,
                    device,
                    precision,
                    logEvery,
                    diagEvery,
                    maxBadSteps,
                    samples,
                    model,
                    initFrom);
        }
    }
}
