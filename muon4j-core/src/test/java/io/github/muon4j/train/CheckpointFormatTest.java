package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.interop.Safetensors;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Small;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint parts: safetensors weights, old DJL-format checkpoints, and parts over 2 GiB. */
class CheckpointFormatTest {

    static {
        Small.init();
    }

    private static Map<String, float[]> weights(DecoderLM lm) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : lm.getParameters()) {
            w.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return w;
    }

    private static Map<String, Checkpoint.Part> parts(
            DecoderLM lm, ModelConfig mc, boolean legacy) {
        Map<String, Checkpoint.Part> parts = new LinkedHashMap<>();
        String cfg = RunDirectory.configJson(TrainConfig.defaults(), mc, new ByteTokenizer());
        parts.put("config.json", o -> o.write(cfg.getBytes(StandardCharsets.UTF_8)));
        if (legacy) {
            parts.put("model.params", o -> lm.saveParameters(new DataOutputStream(o)));
        } else {
            parts.put(
                    "model.safetensors",
                    o -> io.github.muon4j.interop.CheckpointTensors.writeWeights(lm, o));
        }
        JsonObject st = new JsonObject();
        JsonArray biases = new JsonArray();
        for (float[] b : lm.balanceBiases()) {
            JsonArray a = new JsonArray();
            for (float v : b) {
                a.add(v);
            }
            biases.add(a);
        }
        st.add("balance_biases", biases);
        parts.put("state.json", o -> o.write(st.toString().getBytes(StandardCharsets.UTF_8)));
        return parts;
    }

    @Test
    void safetensorsAndOldDjlCheckpointsLoadTheSameWeights(@TempDir Path dir) throws Exception {
        ModelConfig mc = Small.config(AttentionKind.MLA, FfnKind.MOE).withVocab(257);
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(mc, m, DataType.FLOAT32);
            lm.setBalanceBiases(List.of(new float[] {0.1f, -0.2f, 0, 0, 0.3f, 0}, new float[6]));
            Map<String, float[]> want = weights(lm);
            for (boolean legacy : new boolean[] {false, true}) {
                Path run = dir.resolve(legacy ? "old" : "new");
                Checkpoint.write(run, 7, parts(lm, mc, legacy), 1);
                try (NDManager m2 = Small.newManager()) {
                    TrainedModel tm = TrainedModel.load(run, m2);
                    Map<String, float[]> got = weights(tm.model());
                    for (String k : want.keySet()) {
                        assertArrayEquals(want.get(k), got.get(k), (legacy ? "old " : "new ") + k);
                    }
                    assertArrayEquals(
                            new float[] {0.1f, -0.2f, 0, 0, 0.3f, 0},
                            tm.model().balanceBiases().get(0));
                }
            }
            try (Safetensors.Reader r =
                    Safetensors.Reader.open(dir.resolve("new/ckpt-000007/model.safetensors"))) {
                assertEquals(want.size(), r.entries().size());
                assertTrue(
                        r.entries().containsKey("layer0_attention_wkv_a"),
                        r.entries().keySet().toString());
            }
            // a checkpoint with neither weight format: one line
            Map<String, Checkpoint.Part> none = parts(lm, mc, false);
            none.remove("model.safetensors");
            Checkpoint.write(dir.resolve("none"), 1, none, 1);
            try (NDManager m2 = Small.newManager()) {
                IllegalArgumentException e =
                        assertThrows(
                                IllegalArgumentException.class,
                                () -> TrainedModel.load(dir.resolve("none"), m2));
                assertTrue(e.getMessage().contains("model.params"), e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
            }
        }
    }

    /**
     * A 3.4 GiB part (the size of a 12L-1024d MoE checkpoint) is written, verified and read back: a
     * safetensors file whose last tensor lies beyond 2 GiB. Skipped when the disk lacks room.
     */
    @Test
    void aPartLargerThan2GiBRoundTrips(@TempDir Path dir) throws Exception {
        long filler = 3400L << 20; // bytes of the first tensor
        FileStore store = Files.getFileStore(dir);
        Assumptions.assumeTrue(
                store.getUsableSpace() >= filler + (2L << 30),
                (store.getUsableSpace() >> 20) + " MiB free: a 3.4 GiB part needs more");
        float[] tail = {1.5f, -2.25f, 3e-7f, Float.MAX_VALUE};
        String header =
                "{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"filler\":{\"dtype\":\"F32\",\"shape\":["
                        + filler / 4
                        + "],\"data_offsets\":[0,"
                        + filler
                        + "]},"
                        + "\"tail\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":["
                        + filler
                        + ","
                        + (filler + 16)
                        + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Checkpoint.write(
                dir,
                1,
                Map.of(
                        "big.safetensors",
                        (OutputStream o) -> {
                            o.write(
                                    ByteBuffer.allocate(8)
                                            .order(ByteOrder.LITTLE_ENDIAN)
                                            .putLong(h.length)
                                            .array());
                            o.write(h);
                            byte[] chunk = new byte[1 << 20];
                            for (int i = 0; i < chunk.length; i += 4) {
                                ByteBuffer.wrap(chunk, i, 4)
                                        .order(ByteOrder.LITTLE_ENDIAN)
                                        .putFloat(i / 4f);
                            }
                            for (long done = 0; done < filler; done += chunk.length) {
                                o.write(chunk, 0, (int) Math.min(chunk.length, filler - done));
                            }
                            ByteBuffer t = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                            for (float v : tail) {
                                t.putFloat(v);
                            }
                            o.write(t.array());
                        }),
                1);
        Checkpoint ck = Checkpoint.open(dir); // verifies the SHA-256 of all 3.4 GiB, streamed
        Path f = ck.partFile("big.safetensors");
        assertEquals(8 + h.length + filler + 16, Files.size(f));
        try (Safetensors.Reader r = Safetensors.Reader.open(f)) {
            assertArrayEquals(tail, r.floats("tail"));
            assertEquals(filler / 4, r.entries().get("filler").elements());
        }
        try (InputStream in = ck.part("big.safetensors")) {
            in.skipNBytes(8 + h.length + filler);
            ByteBuffer t = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(16, t.capacity());
            assertEquals(tail[3], t.getFloat(12));
        } catch (IOException e) {
            fail(e);
        }
    }
}
