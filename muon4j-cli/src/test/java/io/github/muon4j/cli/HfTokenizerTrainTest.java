package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.HfTokenizerTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train --tokenizer PATH/tokenizer.json, then generate from the checkpoint with the same tokenizer.
 */
class HfTokenizerTrainTest {

    @Test
    void trainsAndGeneratesWithATokenizerJson(@TempDir Path dir) throws Exception {
        Path tok = dir.resolve("tok").resolve("tokenizer.json");
        Files.createDirectories(tok.getParent());
        int vocab = HfTokenizerTest.writeByteLevelBpe(tok).size() + 1;
        Path data =
                Files.writeString(
                        dir.resolve("a.txt"),
                        "the theme of the other thing is the thing. ".repeat(100));
        Path run = dir.resolve("run");
        Cli.Outcome o =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--data",
                        data.toString(),
                        "--tokenizer",
                        tok.getParent().toString(),
                        "--out",
                        run.toString(),
                        "--json",
                        "--batch-size",
                        "4",
                        "--seq-len",
                        "32",
                        "--steps",
                        "10",
                        "--warmup",
                        "2",
                        "--eval-every",
                        "0",
                        "--eval-batches",
                        "2",
                        "--samples",
                        "0");
        assertEquals(0, o.code(), o.err());
        JsonObject config =
                JsonParser.parseString(Files.readString(run.resolve("config.json")))
                        .getAsJsonObject();
        assertEquals(
                tok.toAbsolutePath().normalize().toString(), config.get("tokenizer").getAsString());
        assertEquals(vocab, config.get("vocab_size").getAsInt());

        Cli.Outcome g =
                Cli.run(
                        dir.resolve("cache"),
                        "generate",
                        "--checkpoint",
                        run.toString(),
                        "--prompt",
                        "the theme",
                        "--max-tokens",
                        "8",
                        "--temperature",
                        "0",
                        "--json");
        assertEquals(0, g.code(), g.err());

        Cli.Outcome bad =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--data",
                        data.toString(),
                        "--tokenizer",
                        dir.resolve("nope.json").toString(),
                        "--out",
                        dir.resolve("run2").toString(),
                        "--steps",
                        "1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("nope.json") && !bad.err().contains("\tat "), bad.err());
    }
}
