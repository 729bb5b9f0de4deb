package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorBoard event files beside metrics.jsonl, read back by a Java framing check and
 * scripts/read_tfevents.py.
 */
class TensorBoardWriterTest {

    /**
     * The records of a TFRecord file, each checked against java.util.zip.CRC32C with the TFRecord
     * mask.
     */
    static List<byte[]> records(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] len = new byte[8];
            b.get(len);
            int lenCrc = b.getInt();
            byte[] data =
                    new byte[(int) ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong()];
            b.get(data);
            int dataCrc = b.getInt();
            assertEquals(mask(crc(len)), lenCrc);
            assertEquals(mask(crc(data)), dataCrc);
            out.add(data);
        }
        return out;
    }

    static long crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return c.getValue();
    }

    static int mask(long crc) {
        long m = (((crc >>> 15) | (crc << 17)) & 0xFFFFFFFFL) + 0xa282ead8L;
        return (int) m;
    }

    static JsonObject rec(String json) {
        return JsonParser.parseString(json).getAsJsonObject();
    }

    static Path eventFile(Path dir, int index) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents."))
                    .sorted()
                    .toList()
                    .get(index);
        }
    }

    static JsonObject python(Path file) throws Exception {
        Process p =
                new ProcessBuilder("python3", "scripts/read_tfevents.py", file.toString()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        return JsonParser.parseString(out).getAsJsonObject();
    }

    static boolean hasPython() {
        try {
            Process p = new ProcessBuilder("python3", "--version").start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void crc32cAndItsMaskMatchThePublishedCheckValue() {
        // CRC-32C("123456789") = 0xE3069283 (the catalogue's check value)
        assertEquals(0xE3069283L, crc("123456789".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(
                mask(0xE3069283L),
                TensorBoardWriter.maskedCrc32c("123456789".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void metricsAreMirroredAsScalarEventsThatParseBack(@TempDir Path dir) throws Exception {
        List<JsonObject> logged =
                List.of(
                        rec("{\"step\": 0, \"tokens\": 0, \"val_loss\": 5.5, \"val_ppl\": 244.69}"),
                        rec(
                                "{\"step\": 1, \"tokens\": 512, \"train_loss\": 5.25, \"lr\": 0.02, \"diagnostics\": {\"w\": {\"rms\": 0.2}}, \"expert_load\": [1, 2]}"),
                        rec("{\"step\": 2, \"skipped\": true, \"reason\": \"non-finite\"}"),
                        rec("{\"step\": 3, \"train_loss\": 4.75, \"lr\": 1.5e-3}"));
        try (Metrics m = Metrics.open(dir.resolve("metrics.jsonl"), -1)) {
            for (JsonObject r : logged) {
                m.log(r);
            }
            assertEquals(dir.toAbsolutePath(), m.tensorBoardFile().getParent());
        }
        Path f = eventFile(dir, 0);
        List<byte[]> recs = records(f);
        // version event, then one per record with a number besides its step (step 2 has none)
        assertEquals(4, recs.size());
        assertTrue(new String(recs.get(0), StandardCharsets.UTF_8).contains("brain.Event:2"));

        // the expected scalars, from the records: every number but the step, nested objects as a/b
        List<String> expect = new ArrayList<>();
        for (JsonObject r : logged) {
            flatten("", r, r.get("step").getAsInt(), expect);
        }
        Assumptions.assumeTrue(hasPython(), "python3 is needed to run scripts/read_tfevents.py");
        JsonObject parsed = python(f);
        assertEquals("brain.Event:2", parsed.get("file_version").getAsString());
        assertEquals(0, parsed.getAsJsonArray("starts").size());
        List<String> got = new ArrayList<>();
        double now = System.currentTimeMillis() / 1000.0;
        for (JsonElement e : parsed.getAsJsonArray("scalars")) {
            JsonArray a = e.getAsJsonArray();
            got.add(
                    a.get(0).getAsInt()
                            + " "
                            + a.get(1).getAsString()
                            + " "
                            + a.get(2).getAsFloat());
            assertTrue(Math.abs(now - a.get(3).getAsDouble()) < 600, "wall time " + a.get(3));
        }
        assertEquals(expect, got);
    }

    static void flatten(String prefix, JsonObject o, int step, List<String> out) {
        for (var e : o.entrySet()) {
            if (prefix.isEmpty() && e.getKey().equals("step")) {
                continue;
            }
            if (e.getValue().isJsonPrimitive() && e.getValue().getAsJsonPrimitive().isNumber()) {
                out.add(step + " " + prefix + e.getKey() + " " + e.getValue().getAsFloat());
            } else if (e.getValue().isJsonObject()) {
                flatten(prefix + e.getKey() + "/", e.getValue().getAsJsonObject(), step, out);
            }
        }
    }

    @Test
    void aResumedRunStartsANewFileWithASessionStart(@TempDir Path dir) throws Exception {
        try (Metrics m = Metrics.open(dir.resolve("metrics.jsonl"), -1)) {
            m.log(rec("{\"step\": 1, \"train_loss\": 3.0}"));
            m.log(rec("{\"step\": 2, \"train_loss\": 2.0}"));
        }
        try (Metrics m = Metrics.open(dir.resolve("metrics.jsonl"), 1)) {
            m.log(rec("{\"step\": 2, \"train_loss\": 2.5}"));
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files =
                    s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents."))
                            .toList();
        }
        assertEquals(2, files.size());
        int total = 0;
        for (Path p : files) {
            total += records(p).size(); // both frame and checksum cleanly
        }
        assertEquals(2 + 3 + 1, total, "versions, three scalar events, one session start");
        Assumptions.assumeTrue(
                hasPython(), "python3 is needed to read the files with scripts/read_tfevents.py");
        {
            List<Integer> starts = new ArrayList<>();
            List<String> scalars = new ArrayList<>();
            for (Path p : files) {
                JsonObject parsed = python(p);
                parsed.getAsJsonArray("starts").forEach(e -> starts.add(e.getAsInt()));
                if (parsed.getAsJsonArray("starts").size() > 0) {
                    parsed.getAsJsonArray("scalars")
                            .forEach(
                                    e ->
                                            scalars.add(
                                                    e.getAsJsonArray().get(0).getAsInt()
                                                            + " "
                                                            + e.getAsJsonArray()
                                                                    .get(2)
                                                                    .getAsFloat()));
                }
            }
            assertEquals(List.of(2), starts, "the resumed file restarts at step 2");
            assertEquals(List.of("2 2.5"), scalars);
        }
    }
}
