package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.cli.Cli;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An --init-from model whose safetensors file is invalid is refused in one line, exit 2, nothing
 * written.
 */
class HostileInitFromTest {

    @TempDir Path dir;

    /**
     * The bug report: two tensors of an --init-from model pointing at the same bytes trained with
     * exit 0.
     */
    @Test
    void initFromAModelWhoseTensorsShareBytesExitsTwoAndWritesNothing() throws Exception {
        Path hf = dir.resolve("hf"), small = dir.resolve("small");
        Path model = dir.resolve("model.json");
        Files.writeString(model, "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}");
        assertEquals(
                0,
                Cli.run(
                                dir.resolve("cache"),
                                "train",
                                "--out",
                                small.toString(),
                                "--model-config",
                                model.toString(),
                                "--steps",
                                "1",
                                "--batch-size",
                                "2",
                                "--seq-len",
                                "8",
                                "--eval-batches",
                                "1",
                                "--samples",
                                "0")
                        .code());
        assertEquals(
                0,
                Cli.run(
                                dir.resolve("cache"),
                                "export",
                                "--checkpoint",
                                small.toString(),
                                "--out",
                                hf.toString())
                        .code());
        Path f = hf.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h =
                JsonParser.parseString(new String(b, 8, (int) n, StandardCharsets.UTF_8))
                        .getAsJsonObject();
        // the second layer's input norm now reads the first layer's bytes
        JsonArray first =
                h.getAsJsonObject("model.layers.0.input_layernorm.weight")
                        .getAsJsonArray("data_offsets");
        h.getAsJsonObject("model.layers.1.input_layernorm.weight")
                .add("data_offsets", first.deepCopy());
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out =
                ByteBuffer.allocate(8 + padded + (b.length - 8 - (int) n))
                        .order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(b, 8 + (int) n, b.length - 8 - (int) n);
        Files.write(f, out.array());

        Path run = dir.resolve("run");
        Cli.Outcome o =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--init-from",
                        hf.toString(),
                        "--out",
                        run.toString(),
                        "--steps",
                        "2",
                        "--batch-size",
                        "2",
                        "--seq-len",
                        "8",
                        "--samples",
                        "0");
        assertEquals(2, o.code(), o.err());
        String err = o.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(f.toString()) && err.contains("overlap"), err);
        assertFalse(Files.exists(run), "nothing written");
    }
}
