package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    private static Map<String, Checkpoint.Part> parts(String text) {
        Map<String, Checkpoint.Part> m = new LinkedHashMap<>();
        m.put("state.json", out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
        m.put("weights.bin", out -> out.write(new byte[] {1, 2, 3, 4}));
        return m;
    }

    @Test
    void writesReadsAndKeepsTheNewestK(@TempDir Path run) throws IOException {
        for (int step = 10; step <= 40; step += 10) {
            Checkpoint.write(run, step, parts("step " + step), 2);
        }
        List<Path> all = Checkpoint.list(run);
        assertEquals(2, all.size());
        assertEquals("ckpt-000030", all.get(0).getFileName().toString());
        Checkpoint c = Checkpoint.open(run);
        assertEquals(40, c.step());
        assertEquals("step 40", c.partText("state.json"));
        try (var s = Files.list(run)) {
            assertTrue(
                    s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                    "no temporaries left");
        }
    }

    @Test
    void detectsCorruptionAndNonCheckpoints(@TempDir Path run) throws IOException {
        Path dir = Checkpoint.write(run, 5, parts("hello"), 3);
        Files.write(dir.resolve("weights.bin"), new byte[] {1, 2, 3, 5});
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir));
        assertTrue(
                e.getMessage().contains("corrupt") && e.getMessage().contains("weights.bin"),
                e.getMessage());

        Path empty = Files.createDirectories(run.resolve("nothing"));
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(empty));
        assertTrue(e.getMessage().contains("not a muon4j checkpoint"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(run.resolve("missing")));
    }

    @Test
    void aCrashedWriteLeavesThePreviousCheckpointUsable(@TempDir Path run) throws IOException {
        Checkpoint.write(run, 1, parts("good"), 3);
        Map<String, Checkpoint.Part> failing = parts("bad");
        failing.put(
                "optimizer.bin",
                out -> {
                    out.write(7);
                    throw new IOException("disk full (simulated)");
                });
        assertThrows(IOException.class, () -> Checkpoint.write(run, 2, failing, 3));
        Checkpoint c = Checkpoint.open(run);
        assertEquals(1, c.step());
        assertEquals("good", c.partText("state.json"));
    }

    @Test
    void metricsResumeDropsRecordsAfterTheCheckpoint(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        try (Metrics m = Metrics.open(f, -1)) {
            for (int s = 1; s <= 5; s++) {
                JsonObject o = new JsonObject();
                o.addProperty("step", s);
                m.log(o);
            }
        }
        Files.writeString(f, "{\"step\": 6, \"trunc", java.nio.file.StandardOpenOption.APPEND);
        try (Metrics m = Metrics.open(f, 3)) {
            JsonObject o = new JsonObject();
            o.addProperty("step", 4);
            m.log(o);
        }
        List<JsonObject> rows = Metrics.read(f);
        assertEquals(
                List.of(1, 2, 3, 4), rows.stream().map(o -> o.get("step").getAsInt()).toList());
    }
}
