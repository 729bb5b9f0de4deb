package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.Tokenizers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nanoGPT-style train.bin / val.bin pair (headerless uint16) trains the tiny model end to end.
 */
class NanoGptTrainTest {

    static Path headerless(Path file, int[] ids) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(2 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            b.putShort((short) id);
        }
        return Files.write(file, b.array());
    }

    @Test
    void headerlessTrainBinTrains(@TempDir Path dir) throws Exception {
        String text = "To be, or not to be, that is the question. ".repeat(200);
        int[] ids = Tokenizers.byName("byte").encode(text);
        Path train = headerless(dir.resolve("train.bin"), ids);
        Path val = headerless(dir.resolve("val.bin"), java.util.Arrays.copyOf(ids, 2000));
        Cli.Outcome o =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--data",
                        train.toString(),
                        "--val-data",
                        val.toString(),
                        "--tokenizer",
                        "byte",
                        "--out",
                        dir.resolve("run").toString(),
                        "--json",
                        "--batch-size",
                        "4",
                        "--seq-len",
                        "32",
                        "--steps",
                        "20",
                        "--warmup",
                        "2",
                        "--eval-every",
                        "0",
                        "--eval-batches",
                        "2",
                        "--samples",
                        "0");
        assertEquals(0, o.code(), o.err());
        assertFalse(o.err().contains("bad shard header"), o.err());
        JsonObject summary = JsonParser.parseString(o.lastLine()).getAsJsonObject();
        double first = summary.get("first_val_loss").getAsDouble(),
                last = summary.get("val_loss").getAsDouble();
        assertTrue(last < first - 1.0, "validation loss " + first + " -> " + last);

        // the wrong vocabulary: one line naming the file and the flag, exit 2
        Path big = headerless(dir.resolve("big.bin"), new int[] {50000, 1, 2});
        Cli.Outcome bad =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--data",
                        big.toString(),
                        "--tokenizer",
                        "byte",
                        "--out",
                        dir.resolve("run2").toString(),
                        "--steps",
                        "1");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("big.bin") && bad.err().contains("--tokenizer"), bad.err());
        assertFalse(bad.err().contains("\tat "), bad.err());
    }
}
