package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonParser;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import org.junit.jupiter.api.Test;

/**
 * {@code config.json} keeps its format with enum fields: the golden texts below are what the
 * String-typed TrainConfig (before the enums and the builder) wrote, so every existing run
 * directory and every cached experiment summary (keyed by a hash of this JSON) reads back and keys
 * the same.
 */
class TrainConfigTest {

    static final String DEFAULTS_BEFORE_ENUMS =
            """
            {
              "preset": "tiny",
              "attention": "mha",
              "ffn": "dense",
              "optimizer": "muon",
              "lr": 0.02,
              "adamw_lr": 0.003,
              "weight_decay": 0.1,
              "batch_size": 16,
              "seq_len": 128,
              "steps": 600,
              "warmup": 50,
              "schedule": "cosine",
              "grad_accum": 1,
              "clip": 1.0,
              "eval_every": 100,
              "eval_batches": 20,
              "save_every": 200,
              "keep_checkpoints": 2,
              "data": null,
              "val_data": null,
              "val_fraction": 0.02,
              "tokenizer": null,
              "seed": 1337,
              "out": null,
              "threads": 0,
              "device": "auto",
              "log_every": 1,
              "diag_every": 0,
              "max_bad_steps": 5,
              "samples": 3,
              "model": null,
              "init_from": null
            }
            """
                    .stripTrailing();

    static final String CHANGED_BEFORE_ENUMS =
            """
            {
              "preset": "6L-256d",
              "attention": "mla",
              "ffn": "moe",
              "optimizer": "adamw",
              "lr": 0.002,
              "adamw_lr": 0.003,
              "weight_decay": 0.1,
              "batch_size": 16,
              "seq_len": 128,
              "steps": 600,
              "warmup": 50,
              "schedule": "wsd",
              "grad_accum": 1,
              "clip": 1.0,
              "eval_every": 100,
              "eval_batches": 20,
              "save_every": 200,
              "keep_checkpoints": 2,
              "data": "d.txt",
              "val_data": null,
              "val_fraction": 0.02,
              "tokenizer": "gpt2",
              "seed": 1337,
              "out": null,
              "threads": 0,
              "device": "cpu",
              "log_every": 1,
              "diag_every": 0,
              "max_bad_steps": 5,
              "samples": 3,
              "model": {
                "n_layers": 3
              },
              "init_from": "hf"
            }
            """
                    .stripTrailing();

    /**
     * A config.json of a run made before --precision, as this version writes it: "precision":
     * "fp32" added after "device".
     */
    static String withPrecision(String before) {
        int at = before.indexOf('\n', before.indexOf("\"device\"")) + 1;
        return before.substring(0, at) + "  \"precision\": \"fp32\",\n" + before.substring(at);
    }

    @Test
    void defaultsWriteTheJsonOfExistingRuns() {
        assertEquals(withPrecision(DEFAULTS_BEFORE_ENUMS), TrainConfig.defaults().toJson());
        // a run written before --precision existed reads back as fp32, its only new key
        TrainConfig old = TrainConfig.fromJson(DEFAULTS_BEFORE_ENUMS, "config.json");
        assertEquals(TrainConfig.MatmulPrecision.FP32, old.precision());
        assertEquals(TrainConfig.defaults(), old);
    }

    @Test
    void aSavedConfigReadsBackToTheSameJsonAndTheBuilderBuildsIt() {
        TrainConfig read = TrainConfig.fromJson(CHANGED_BEFORE_ENUMS, "config.json");
        assertEquals(withPrecision(CHANGED_BEFORE_ENUMS), read.toJson());
        TrainConfig built =
                TrainConfig.builder()
                        .preset("6L-256d")
                        .attention(AttentionKind.MLA)
                        .ffn(FfnKind.MOE)
                        .optimizer(OptimizerKind.ADAMW)
                        .lr(0.002)
                        .schedule(LrSchedule.Kind.WSD)
                        .device(TrainConfig.Device.CPU)
                        .data("d.txt")
                        .tokenizer("gpt2")
                        .model(JsonParser.parseString("{\"n_layers\": 3}").getAsJsonObject())
                        .initFrom("hf")
                        .build();
        assertEquals(read, built);
        assertEquals(built, built.toBuilder().build());
        assertEquals(OptimizerKind.ADAMW, read.optimizer());
        assertEquals(LrSchedule.Kind.WSD, read.schedule());
    }

    @Test
    void enumValuesAreReadInAnyCaseAndWrittenInLowerCase() {
        TrainConfig c =
                TrainConfig.fromJson("{\"attention\": \"MLA\", \"optimizer\": \"AdamW\"}", "test");
        assertEquals(AttentionKind.MLA, c.attention());
        assertTrue(c.toJson().contains("\"attention\": \"mla\""), c.toJson());
        assertTrue(c.toJson().contains("\"optimizer\": \"adamw\""), c.toJson());
    }

    @Test
    void badSettingsAreNamed() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TrainConfig.fromJson("{\"optimizer\": \"sgd\"}", "cfg.json"));
        assertEquals("cfg.json: optimizer must be one of muon|adamw, not 'sgd'", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TrainConfig.fromJson("{\"schedule\": \"linear\"}", "cfg.json"));
        assertEquals(
                "cfg.json: schedule must be one of cosine|wsd|constant, not 'linear'",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TrainConfig.fromJson("{\"steps\": \"many\"}", "cfg.json"));
        assertEquals("cfg.json: setting 'steps' has the wrong type (\"many\")", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TrainConfig.fromJson("{\"stepz\": 3}", "cfg.json"));
        assertTrue(e.getMessage().startsWith("cfg.json: unknown setting 'stepz'"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> TrainConfig.builder().steps(0).build().validate());
        assertEquals("steps must be at least 1", e.getMessage());
    }

    @Test
    void adamwGetsItsOwnDefaultMatrixRate() {
        TrainConfig c =
                TrainConfig.builder()
                        .optimizer(OptimizerKind.ADAMW)
                        .build()
                        .withOptimizerDefaults(false);
        assertEquals(TrainConfig.ADAMW_MATRIX_LR, c.lr());
        assertEquals(
                0.05,
                TrainConfig.builder()
                        .optimizer(OptimizerKind.ADAMW)
                        .lr(0.05)
                        .build()
                        .withOptimizerDefaults(true)
                        .lr());
        assertEquals(TrainConfig.defaultLr("adamw"), TrainConfig.defaultLr(OptimizerKind.ADAMW));
    }
}
