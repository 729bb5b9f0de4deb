package io.github.muon4j.cli;

import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.train.LrSchedule;
import io.github.muon4j.train.OptimizerKind;
import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model, data, optimizer and budget flags of {@code train}, shared by every command that trains
 * (the experiments too). A flag left out keeps the value of {@code --config FILE}, else the
 * default.
 */
public final class TrainOptions {

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "JSON file of settings (snake_case keys); flags override it")
    Path config;

    @Option(
            names = "--model-config",
            paramLabel = "FILE",
            description =
                    "JSON file of model fields overriding the preset (as `params --json` prints them)")
    Path modelConfig;

    @Option(
            names = "--preset",
            description =
                    "model preset: tiny, 6L-256d, 6L-512d, 9L-512d, 12L-768d, 12L-1024d (see `params`)")
    String preset;

    @Option(names = "--attention", description = "mha | mla")
    String attention;

    @Option(names = "--ffn", description = "dense | moe")
    String ffn;

    @Option(names = "--optimizer", description = "muon (AdamW for non-matrix parameters) | adamw")
    String optimizer;

    @Option(
            names = "--lr",
            description =
                    "learning rate of the hidden matrices (default: 0.02 with Muon; 2e-3 with --optimizer adamw)")
    Double lr;

    @Option(
            names = "--adamw-lr",
            description =
                    "AdamW learning rate of the embedding, head, norms and routers, with either optimizer (default: 3e-3)")
    Double adamwLr;

    @Option(names = "--weight-decay", description = "decoupled weight decay")
    Double weightDecay;

    @Option(names = "--batch-size", description = "sequences per micro-batch")
    Integer batchSize;

    @Option(names = "--seq-len", description = "tokens per sequence")
    Integer seqLen;

    @Option(names = "--steps", description = "optimizer steps")
    Integer steps;

    @Option(names = "--warmup", description = "warm-up steps")
    Integer warmup;

    @Option(names = "--schedule", description = "cosine | wsd | constant")
    String schedule;

    @Option(names = "--grad-accum", description = "micro-batches per optimizer step")
    Integer gradAccum;

    @Option(names = "--clip", description = "clip the global gradient norm to this (0: off)")
    Double clip;

    @Option(names = "--eval-every", description = "evaluate every N steps (0: at the end only)")
    Integer evalEvery;

    @Option(names = "--eval-batches", description = "validation batches per evaluation")
    Integer evalBatches;

    @Option(names = "--save-every", description = "checkpoint every N steps (0: at the end only)")
    Integer saveEvery;

    @Option(names = "--keep", description = "checkpoints to keep")
    Integer keep;

    @Option(
            names = "--data",
            paramLabel = "PATH",
            description =
                    "training text: builtin:europarl, builtin:prose, a file, a directory of .txt, .jsonl, or .bin tokens (llm.c header or nanoGPT headerless uint16; default: builtin:europarl)")
    String data;

    @Option(
            names = "--val-data",
            paramLabel = "PATH",
            description = "validation source (default: a held-out part of --data)")
    String valData;

    @Option(
            names = "--tokenizer",
            description =
                    "byte | gpt2 | cl100k | PATH of a tokenizer.json (default: byte for tiny, gpt2 otherwise)")
    String tokenizer;

    @Option(names = "--seed", description = "random seed (model init and data order)")
    Long seed;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "run directory (default: runs/<command>-<time>)")
    String out;

    @Option(names = "--threads", description = "CPU threads (0: all cores)")
    Integer threads;

    @Option(names = "--device", description = "auto | cpu | gpu")
    String device;

    @Option(
            names = "--precision",
            description =
                    "matrix products: fp32 | bf16 (bf16 operands, float32 weights, optimizer state and loss) | auto (bf16 where the CPU or GPU has native bf16)")
    String precision;

    @Option(names = "--log-every", description = "log metrics every N steps")
    Integer logEvery;

    @Option(
            names = "--diag-every",
            description =
                    "every N steps log Muon diagnostics: update RMS, spectral norm, orthogonality error (0: off)")
    Integer diagEvery;

    @Option(names = "--samples", description = "lines of generated text shown at the end")
    Integer samples;

    @Option(
            names = "--init-from",
            paramLabel = "HF_DIR",
            description =
                    "start from a Hugging Face LlamaForCausalLM or DeepseekV3ForCausalLM directory (safetensors + tokenizer.json): its shape and weights replace the preset")
    String initFrom;

    /**
     * Defaults, then the config file, then the flags given. A bad value is an {@link
     * IllegalArgumentException} naming the flag ("--lr must be a positive number"), or the config
     * file and its key.
     */
    public TrainConfig resolve(TrainConfig defaults) {
        positive("--lr", lr);
        positive("--adamw-lr", adamwLr);
        finite("--weight-decay", weightDecay);
        finite("--clip", clip);
        TrainConfig c = defaults;
        String configSource = "--config " + config;
        boolean lrGiven = lr != null;
        if (config != null) {
            String text;
            try {
                text = Files.readString(config);
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "--config " + config + ": cannot read (" + e.getMessage() + ")");
            }
            c = c.overlay(text, configSource);
            try {
                positive("lr", c.lr());
                positive("adamw_lr", c.adamwLr());
                finite("weight_decay", c.weightDecay());
                finite("clip", c.clip());
                finite("val_fraction", c.valFraction());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(configSource + ": " + e.getMessage());
            }
            try {
                lrGiven |= com.google.gson.JsonParser.parseString(text).getAsJsonObject().has("lr");
            } catch (RuntimeException e) {
                // overlay above already rejected text that is not a JSON object
            }
        }
        // the flags given, on top: each one named in its own errors
        TrainConfig.Builder b = c.toBuilder();
        java.util.Set<String> given = new java.util.HashSet<>();
        set(given, "preset", preset, b::preset);
        set(
                given,
                "attention",
                attention,
                v -> b.attention(ParamsCommand.parse(AttentionKind.class, "--attention", v)));
        set(given, "ffn", ffn, v -> b.ffn(ParamsCommand.parse(FfnKind.class, "--ffn", v)));
        set(
                given,
                "optimizer",
                optimizer,
                v -> b.optimizer(ParamsCommand.parse(OptimizerKind.class, "--optimizer", v)));
        set(given, "lr", lr, b::lr);
        set(given, "adamw_lr", adamwLr, b::adamwLr);
        set(given, "weight_decay", weightDecay, b::weightDecay);
        set(given, "batch_size", batchSize, b::batchSize);
        set(given, "seq_len", seqLen, b::seqLen);
        set(given, "steps", steps, b::steps);
        set(given, "warmup", warmup, b::warmup);
        set(
                given,
                "schedule",
                schedule,
                v -> b.schedule(ParamsCommand.parse(LrSchedule.Kind.class, "--schedule", v)));
        set(given, "grad_accum", gradAccum, b::gradAccum);
        set(given, "clip", clip, b::clip);
        set(given, "eval_every", evalEvery, b::evalEvery);
        set(given, "eval_batches", evalBatches, b::evalBatches);
        set(given, "save_every", saveEvery, b::saveEvery);
        set(given, "keep_checkpoints", keep, b::keepCheckpoints);
        set(given, "data", data, b::data);
        set(given, "val_data", valData, b::valData);
        set(given, "tokenizer", tokenizer, b::tokenizer);
        set(given, "seed", seed, b::seed);
        set(given, "out", out, b::out);
        set(given, "threads", threads, b::threads);
        set(
                given,
                "device",
                device,
                v -> b.device(ParamsCommand.parse(TrainConfig.Device.class, "--device", v)));
        set(
                given,
                "precision",
                precision,
                v ->
                        b.precision(
                                ParamsCommand.parse(
                                        TrainConfig.MatmulPrecision.class, "--precision", v)));
        set(given, "log_every", logEvery, b::logEvery);
        set(given, "diag_every", diagEvery, b::diagEvery);
        set(given, "samples", samples, b::samples);
        set(given, "init_from", initFrom, b::initFrom);
        if (modelConfig != null) {
            String text;
            try {
                text = Files.readString(modelConfig);
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "--model-config " + modelConfig + ": cannot read (" + e.getMessage() + ")");
            }
            try {
                b.model(com.google.gson.JsonParser.parseString(text).getAsJsonObject());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "--model-config " + modelConfig + ": not a JSON object");
            }
        }
        c = b.build().withOptimizerDefaults(lrGiven);
        if (warmup == null && c.warmup() > c.steps()) {
            // a short run with the default warm-up: shrink the warm-up rather than fail
            c = c.toBuilder().warmup(Math.max(0, c.steps() / 10)).build();
        }
        try {
            c = c.validate();
        } catch (IllegalArgumentException e) {
            // "lr must be ...": name the flag that set it, else the config file
            String field = e.getMessage().split(" ", 2)[0];
            if (given.contains(field)) {
                throw new IllegalArgumentException(
                        flagOf(field) + e.getMessage().substring(field.length()));
            }
            throw config != null
                    ? new IllegalArgumentException(configSource + ": " + e.getMessage())
                    : e;
        }
        if (modelConfig != null) {
            try {
                io.github.muon4j.train.ModelChoice.of(
                        c, io.github.muon4j.data.Tokenizers.byName(c.tokenizerOrDefault()));
            } catch (IllegalArgumentException e) {
                if (!e.getMessage().startsWith("seq_len")) {
                    throw new IllegalArgumentException(
                            "--model-config " + modelConfig + ": " + e.getMessage());
                }
            }
        }
        return c;
    }

    /**
     * What {@code --resume} must apply or refuse (train.ResumeFlags): every flag given, as its
     * snake_case setting, with {@code config} and {@code model_config} for the files.
     */
    public com.google.gson.JsonObject givenWithResume() {
        com.google.gson.JsonObject f = new com.google.gson.JsonObject();
        put(f, "preset", preset);
        put(f, "attention", attention);
        put(f, "ffn", ffn);
        put(f, "optimizer", optimizer);
        put(f, "lr", lr);
        put(f, "adamw_lr", adamwLr);
        put(f, "weight_decay", weightDecay);
        put(f, "batch_size", batchSize);
        put(f, "seq_len", seqLen);
        put(f, "steps", steps);
        put(f, "warmup", warmup);
        put(f, "schedule", schedule);
        put(f, "grad_accum", gradAccum);
        put(f, "clip", clip);
        put(f, "eval_every", evalEvery);
        put(f, "eval_batches", evalBatches);
        put(f, "save_every", saveEvery);
        put(f, "keep_checkpoints", keep);
        put(f, "data", data);
        put(f, "val_data", valData);
        put(f, "tokenizer", tokenizer);
        put(f, "seed", seed);
        put(f, "out", out);
        put(f, "threads", threads);
        put(f, "device", device);
        put(f, "precision", precision);
        put(f, "log_every", logEvery);
        put(f, "diag_every", diagEvery);
        put(f, "samples", samples);
        put(f, "init_from", initFrom);
        put(f, "config", config);
        put(f, "model_config", modelConfig);
        return f;
    }

    private static void put(com.google.gson.JsonObject o, String key, Object v) {
        if (v instanceof Number n) {
            o.addProperty(key, n);
        } else if (v != null) {
            o.addProperty(key, v.toString());
        }
    }

    static String flagOf(String field) {
        return "keep_checkpoints".equals(field) ? "--keep" : "--" + field.replace('_', '-');
    }

    private static void positive(String name, Double v) {
        if (v != null && !(v > 0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(name + " must be a positive number");
        }
    }

    private static void finite(String name, Double v) {
        if (v != null && !(v >= 0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(name + " must be a number >= 0");
        }
    }

    /** Applies a flag that was given, remembering its setting's name. */
    private static <T> void set(
            java.util.Set<String> given,
            String field,
            T value,
            java.util.function.Consumer<T> apply) {
        if (value != null) {
            given.add(field);
            apply.accept(value);
        }
    }
}
