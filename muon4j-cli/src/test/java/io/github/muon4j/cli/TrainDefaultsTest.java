package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.train.LrSchedule;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --optimizer adamw} gets AdamW's rates; the help lists only presets that exist. */
class TrainDefaultsTest {

    static TrainConfig resolve(String... args) {
        TrainOptions o = new TrainOptions();
        new CommandLine(o).parseArgs(args);
        return o.resolve(TrainConfig.defaults());
    }

    @Test
    void adamwDefaultsAreAdamwRates(@TempDir Path dir) throws Exception {
        assertEquals(0.02, resolve().lr(), "Muon's matrix rate by default");
        TrainConfig a = resolve("--optimizer", "adamw");
        assertEquals(
                TrainConfig.ADAMW_MATRIX_LR,
                a.lr(),
                "AdamW trains the matrices at an AdamW rate, not Muon's 0.02");
        assertTrue(a.lr() < 0.01);
        assertEquals(TrainConfig.defaults().adamwLr(), a.adamwLr());
        assertEquals(
                0.05,
                resolve("--optimizer", "adamw", "--lr", "0.05").lr(),
                "an explicit --lr wins");
        Path cfg = dir.resolve("c.json");
        Files.writeString(cfg, "{\"optimizer\": \"adamw\", \"lr\": 0.02}");
        assertEquals(0.02, resolve("--config", cfg.toString()).lr(), "a config file's lr wins");
        Files.writeString(cfg, "{\"optimizer\": \"adamw\"}");
        assertEquals(TrainConfig.ADAMW_MATRIX_LR, resolve("--config", cfg.toString()).lr());
    }

    @Test
    void presetHelpListsTheRealPresets() {
        String help = new CommandLine(new TrainCommand()).getUsageMessage();
        for (String p : ModelConfig.PRESETS) {
            assertTrue(help.contains(p), p);
        }
        for (String fake : new String[] {"30m", "50m", "125m", "200m"}) {
            assertFalse(help.contains(fake), fake);
        }
        assertTrue(help.contains("2e-3 with --optimizer adamw"));
    }

    /** Flags and config files set the enum settings; a bad value names the flag or the file. */
    @Test
    void kindsComeFromFlagsOverConfigFiles(@TempDir Path dir) throws Exception {
        Path cfg =
                Files.writeString(
                        dir.resolve("c.json"),
                        "{\"attention\": \"mla\", \"schedule\": \"wsd\", \"steps\": 40}");
        TrainConfig c =
                resolve(
                        "--config",
                        cfg.toString(),
                        "--ffn",
                        "moe",
                        "--schedule",
                        "constant",
                        "--device",
                        "cpu");
        assertEquals(AttentionKind.MLA, c.attention(), "from the file");
        assertEquals(FfnKind.MOE, c.ffn(), "from the flag");
        assertEquals(LrSchedule.Kind.CONSTANT, c.schedule(), "the flag over the file");
        assertEquals(TrainConfig.Device.CPU, c.device());
        assertEquals(40, c.steps());
        assertEquals(4, c.warmup(), "the default warm-up shrinks to a tenth of a short run");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> resolve("--optimizer", "sgd"));
        assertTrue(
                e.getMessage().startsWith("--optimizer must be one of [muon, adamw], not 'sgd'"),
                e.getMessage());
        Files.writeString(cfg, "{\"schedule\": \"linear\"}");
        e = assertThrows(IllegalArgumentException.class, () -> resolve("--config", cfg.toString()));
        assertEquals(
                "--config " + cfg + ": schedule must be one of cosine|wsd|constant, not 'linear'",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> resolve("--steps", "0"));
        assertEquals("--steps must be at least 1", e.getMessage());
    }
}
