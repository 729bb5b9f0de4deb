package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input: one line on stderr, no stack trace, exit code 2, and no existing file touched
 * (the run directory is fingerprinted before and after).
 */
class BadInputTest {

    @TempDir static Path dir;
    static Path cache;
    static Path run;

    @BeforeAll
    static void aSmallRun() {
        cache = dir.resolve("cache");
        run = dir.resolve("run");
        Cli.Outcome o =
                Cli.run(
                        cache,
                        "train",
                        "--out",
                        run.toString(),
                        "--steps",
                        "2",
                        "--batch-size",
                        "2",
                        "--seq-len",
                        "16",
                        "--eval-batches",
                        "1",
                        "--samples",
                        "0");
        assertEquals(0, o.code(), o.err());
    }

    static Map<String, String> fingerprint(Path root) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
                m.put(
                        root.relativize(p) + "@" + Files.getLastModifiedTime(p).toMillis(),
                        HexFormat.of().formatHex(h));
            }
        }
        return m;
    }

    static void rejects(String expected, String... args) throws Exception {
        Map<String, String> before = fingerprint(run);
        Cli.Outcome o = Cli.run(cache, args);
        assertEquals(
                2, o.code(), "exit code for " + String.join(" ", args) + "; stderr: " + o.err());
        String err = o.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("muon4j: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
        assertTrue(
                err.toLowerCase().contains(expected.toLowerCase()),
                "'" + expected + "' in: " + err);
        assertEquals(before, fingerprint(run), "no existing file touched");
    }

    @Test
    void unknownPresetAndFlag() throws Exception {
        Path out = dir.resolve("never");
        rejects("preset", "train", "--preset", "huge", "--out", out.toString());
        rejects("--bogus", "train", "--bogus");
        rejects("steps", "train", "--steps", "-5", "--out", out.toString());
        assertFalse(Files.exists(out), "no run directory for a run that never started");
    }

    @Test
    void badInferenceBenchFlags() throws Exception {
        rejects("--kv-budget", "bench", "inference", "--kv-budget", "lots");
        rejects("--batch", "bench", "inference", "--batch", "0");
        rejects("--contexts", "bench", "inference", "--contexts", "0");
        rejects("--variants", "bench", "inference", "--variants", "gqa-dense");
        rejects("--threads", "bench", "inference", "--threads", "0");
        rejects("--precision", "bench", "train", "--precision", "fp16");
    }

    @Test
    void missingAndEmptyData() throws Exception {
        rejects(
                "no such file",
                "train",
                "--data",
                dir.resolve("missing.txt").toString(),
                "--out",
                dir.resolve("x1").toString());
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        rejects(
                "empty",
                "train",
                "--data",
                empty.toString(),
                "--out",
                dir.resolve("x2").toString());
        Path short1 = Files.writeString(dir.resolve("short.txt"), "Too short.");
        rejects(
                "needs at least",
                "train",
                "--data",
                short1.toString(),
                "--seq-len",
                "64",
                "--out",
                dir.resolve("x3").toString());
        try (Stream<Path> s = Files.list(cache)) {
            assertTrue(
                    s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                    "no partial cache file");
        }
    }

    @Test
    void badConfigFiles() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"steps\": 10,");
        rejects("not valid JSON", "train", "--config", bad.toString());
        Path unknown = Files.writeString(dir.resolve("unknown.json"), "{\"stepz\": 10}");
        rejects("stepz", "train", "--config", unknown.toString());
        Path heads = Files.writeString(dir.resolve("model.json"), "{\"n_heads\": 5}");
        rejects(
                "n_heads",
                "train",
                "--model-config",
                heads.toString(),
                "--out",
                dir.resolve("x4").toString());
        rejects(
                "context_length",
                "train",
                "--seq-len",
                "100000",
                "--out",
                dir.resolve("x5").toString());
    }

    @Test
    void existingRunIsNotOverwritten() throws Exception {
        rejects("already holds a run", "train", "--out", run.toString());
    }

    @Test
    void badCheckpoints() throws Exception {
        Path notOne = Files.createDirectories(dir.resolve("not-a-checkpoint"));
        rejects("not a muon4j checkpoint", "eval", "--checkpoint", notOne.toString());
        rejects(
                "no such directory",
                "generate",
                "--checkpoint",
                dir.resolve("nope").toString(),
                "--prompt",
                "x");
        rejects("tokenizer mismatch", "train", "--resume", run.toString(), "--tokenizer", "gpt2");
    }

    @Test
    void corruptCheckpoint() throws Exception {
        Path copy = dir.resolve("corrupt");
        Path ck =
                Files.list(run)
                        .filter(p -> p.getFileName().toString().startsWith("ckpt-"))
                        .findFirst()
                        .orElseThrow();
        copyTree(ck, copy.resolve(ck.getFileName()));
        Path params = copy.resolve(ck.getFileName()).resolve("model.safetensors");
        byte[] b = Files.readAllBytes(params);
        b[b.length / 2] ^= 1;
        Files.write(params, b);
        Map<String, String> before = fingerprint(copy);
        Cli.Outcome o = Cli.run(cache, "train", "--resume", copy.toString());
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("corrupt") && o.err().contains("model.safetensors"), o.err());
        assertEquals(before, fingerprint(copy));
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }
}
