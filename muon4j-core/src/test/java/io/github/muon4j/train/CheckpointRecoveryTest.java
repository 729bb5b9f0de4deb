package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint listing, manifests, leftovers and the run lock, without training anything. */
class CheckpointRecoveryTest {

    private static Map<String, Checkpoint.Part> parts(String text) {
        Map<String, Checkpoint.Part> m = new LinkedHashMap<>();
        m.put("state.json", out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
        return m;
    }

    @Test
    void namesSortByStepPastAMillion(@TempDir Path run) throws IOException {
        Checkpoint.write(run, 999_999, parts("old"), 5);
        Checkpoint.write(run, 1_000_000, parts("new"), 5);
        Checkpoint.write(run, 1_000_001, parts("newest"), 2);
        List<String> names =
                Checkpoint.list(run).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(
                List.of("ckpt-1000000", "ckpt-1000001"),
                names,
                "the oldest, not the newest, was pruned");
        assertEquals(1_000_001, Checkpoint.open(run).step());
        assertEquals(
                "newest", Checkpoint.openNewestIntact(run, w -> fail(w)).partText("state.json"));
    }

    @Test
    void aMalformedManifestIsOneLineNamingTheFile(@TempDir Path run) throws IOException {
        Path ck = Checkpoint.write(run, 4, parts("x"), 2);
        String sha = "\"" + "0".repeat(64) + "\"";
        String[] bad = {
            "{\"format\": \"muon4j-checkpoint\", \"version\": 1, \"step\": 4}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": 4, \"files\": []}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": \"four\", \"files\": {\"state.json\": {\"sha256\": "
                    + sha
                    + "}}}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": 4, \"files\": {\"state.json\": {}}}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": 4, \"files\": {\"state.json\": 7}}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": 4, \"files\": {\"../../etc/passwd\": {\"sha256\": "
                    + sha
                    + "}}}",
            "{\"format\": \"muon4j-checkpoint\", \"step\": 5, \"files\": {\"state.json\": {\"sha256\": "
                    + sha
                    + "}}}",
            "{\"format\": {\"name\": 1}, \"step\": 4}",
            "[1, 2]",
        };
        for (String m : bad) {
            Files.writeString(ck.resolve("manifest.json"), m);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(ck), m);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().contains(ck.toString()), e.getMessage());
            assertTrue(
                    e.getMessage().contains("manifest.json")
                            || e.getMessage().contains("not a muon4j checkpoint"),
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> Checkpoint.openNewestIntact(run, w -> {}),
                            m);
            assertTrue(e.getMessage().startsWith("no intact checkpoint in " + run), e.getMessage());
        }
    }

    @Test
    void anOlderIntactCheckpointIsUsedWithOneWarningLine(@TempDir Path run) throws IOException {
        Checkpoint.write(run, 2, parts("two"), 5);
        Path c4 = Checkpoint.write(run, 4, parts("four"), 5);
        Path c6 = Checkpoint.write(run, 6, parts("six"), 5);
        Files.writeString(c6.resolve("state.json"), "sIx");
        Files.delete(c4.resolve("state.json"));
        List<String> warnings = new ArrayList<>();
        Checkpoint c = Checkpoint.openNewestIntact(run, warnings::add);
        assertEquals(2, c.step());
        assertEquals(1, warnings.size());
        String w = warnings.get(0);
        assertEquals(1, w.lines().count());
        assertTrue(w.contains("ckpt-000006") && w.contains("checksum mismatch in state.json"), w);
        assertTrue(w.contains("ckpt-000004") && w.contains("state.json is missing"), w);
        assertTrue(
                w.endsWith(
                        "using the newest intact checkpoint "
                                + run.resolve("ckpt-000002")
                                + " (step 2)"),
                w);
        // a checkpoint directory named directly is opened as is
        assertThrows(
                IllegalArgumentException.class, () -> Checkpoint.openNewestIntact(c6, x -> {}));
        assertEquals(
                2, Checkpoint.openNewestIntact(run.resolve("ckpt-000002"), x -> fail(x)).step());
    }

    @Test
    void aFailedWriteLeavesNoTemporaryAndNamesTheNewestIntact(@TempDir Path run)
            throws IOException {
        Checkpoint.write(run, 3, parts("three"), 2);
        Map<String, Checkpoint.Part> failing = parts("four");
        failing.put(
                "model.params",
                out -> {
                    out.write(new byte[100]);
                    throw new IOException("No space left on device");
                });
        IOException e = assertThrows(IOException.class, () -> Checkpoint.write(run, 4, failing, 2));
        assertEquals(1, e.getMessage().lines().count());
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains(
                                "the newest intact checkpoint is "
                                        + run.resolve("ckpt-000003")
                                        + " (step 3)"),
                e.getMessage());
        try (var s = Files.list(run)) {
            assertEquals(List.of(run.resolve("ckpt-000003")), s.toList());
        }
        // leftovers of a killed writer are removed at the next start
        Files.createDirectories(run.resolve(".ckpt-000005.tmp").resolve("sub"));
        Files.writeString(run.resolve(".ckpt-000005.tmp").resolve("model.params"), "partial");
        assertEquals(1, Checkpoint.removeTemporaries(run));
        assertFalse(Files.exists(run.resolve(".ckpt-000005.tmp")));
        assertEquals(3, Checkpoint.open(run).step());
    }

    @Test
    void theRunLockExcludesASecondHolderAndTakesOverAStaleOne(@TempDir Path run) throws Exception {
        long me = ProcessHandle.current().pid();
        try (RunLock lock = RunLock.acquire(run)) {
            assertEquals(me, RunLock.readPid(run.resolve(RunLock.FILE)));
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RunLock.acquire(run));
            assertTrue(
                    e.getMessage().contains("in use by another muon4j process (pid " + me),
                    e.getMessage());
        }
        assertFalse(Files.exists(run.resolve(RunLock.FILE)), "released and removed");
        // a lock file of a process that has ended
        Process gone =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-version")
                        .start();
        gone.waitFor();
        Files.writeString(run.resolve(RunLock.FILE), gone.pid() + "\n");
        try (RunLock lock = RunLock.acquire(run)) {
            assertEquals(me, RunLock.readPid(run.resolve(RunLock.FILE)), "taken over");
        }
    }
}
