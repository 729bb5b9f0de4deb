package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.cli.Cli;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.model.Attention;
import io.github.muon4j.model.Ffn;
import io.github.muon4j.model.Small;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed and hostile safetensors files are refused in one line naming the file, before anything is allocated for them. */
class HostileFilesTest {

    static {
        Small.init();
    }

    @TempDir Path dir;

    Path seed(String name) throws Exception {
        Path f = dir.resolve(name + ".safetensors");
        try (InputStream in = getClass().getResourceAsStream("UntrustedFilesFuzzTestInputs/safetensors/" + name)) {
            Files.write(f, in.readAllBytes());
        }
        return f;
    }

    void refused(String seed, String why) throws Exception {
        Path f = seed(seed);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.Reader.open(f).close(), seed);
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(why), seed + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void overlapsGapsHugeShapesAndTerabyteHeadersAreRefused() throws Exception {
        refused("overlap", "overlap");
        refused("gap", "gap of 4 bytes");
        refused("huge-shape", "do not match its shape");
        refused("header-claims-terabytes", "header length 4398046511104 does not fit a file of 10 bytes");
        try (Safetensors.Reader r = Safetensors.Reader.open(seed("valid-f32-bf16"))) {
            assertEquals(-2.0f, r.floats("b")[1]);
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(r.floats("a")[5]));
        }
    }

    /** The bug report: two tensors of an --init-from model pointing at the same bytes trained with exit 0. */
    @Test
    void initFromAModelWhoseTensorsShareBytesExitsTwoAndWritesNothing() throws Exception {
        Path hf = dir.resolve("hf");
        try (NDManager m = Small.newManager()) {
            HfExport.write(HfExportTest.model(HfExportTest.config(Attention.MHA, Ffn.DENSE, false, 0), m), new ByteTokenizer(), hf,
                    Safetensors.DType.F32);
        }
        Path f = hf.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(b, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        // the second layer's input norm now reads the first layer's bytes
        JsonArray first = h.getAsJsonObject("model.layers.0.input_layernorm.weight").getAsJsonArray("data_offsets");
        h.getAsJsonObject("model.layers.1.input_layernorm.weight").add("data_offsets", first.deepCopy());
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + (b.length - 8 - (int) n)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(b, 8 + (int) n, b.length - 8 - (int) n);
        Files.write(f, out.array());

        Path run = dir.resolve("run");
        Cli.Outcome o = Cli.run(dir.resolve("cache"), "train", "--init-from", hf.toString(), "--out", run.toString(), "--steps", "2",
                "--batch-size", "2", "--seq-len", "8", "--samples", "0");
        assertEquals(2, o.code(), o.err());
        String err = o.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(f.toString()) && err.contains("overlap"), err);
        assertFalse(Files.exists(run), "nothing written");
    }
}
