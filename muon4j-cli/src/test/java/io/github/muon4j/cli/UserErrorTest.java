package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rows of issue 12's table that are about what the user reads: one line naming the flag or
 * file, the right exit code, nothing internal (no Java class names, no JSON-library advice).
 */
class UserErrorTest {

    @TempDir static Path dir;
    static Path cache, model, run;

    @BeforeAll
    static void aRunWithTwoCheckpoints() throws Exception {
        cache = dir.resolve("cache");
        model =
                Files.writeString(
                        dir.resolve("model.json"),
                        "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}");
        run = dir.resolve("run");
        Cli.Outcome o =
                Cli.run(
                        cache,
                        "train",
                        "--out",
                        run.toString(),
                        "--model-config",
                        model.toString(),
                        "--steps",
                        "2",
                        "--batch-size",
                        "2",
                        "--seq-len",
                        "16",
                        "--eval-batches",
                        "1",
                        "--save-every",
                        "1",
                        "--samples",
                        "0");
        assertEquals(0, o.code(), o.err());
    }

    static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }

    static Cli.Outcome fails(int code, String expected, String... args) {
        Cli.Outcome o = Cli.run(cache, args);
        String err = o.err().strip();
        assertEquals(code, o.code(), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.contains(expected), "'" + expected + "' in: " + err);
        for (String internal :
                new String[] {"Exception", "Gson", "GsonBuilder", "java.", "com.google", "\tat "}) {
            assertFalse(err.contains(internal), "nothing internal: " + err);
        }
        return o;
    }

    @Test
    void badNumbersNameTheFlag() throws Exception {
        Path out = dir.resolve("never");
        fails(
                2,
                "muon4j: --lr must be a positive number",
                "train",
                "--lr",
                "NaN",
                "--out",
                out.toString());
        fails(
                2,
                "--lr must be a positive number",
                "train",
                "--lr",
                "NaN",
                "--steps",
                "10",
                "--out",
                out.toString());
        fails(
                2,
                "--lr must be a positive number",
                "train",
                "--lr",
                "-0.1",
                "--out",
                out.toString());
        fails(
                2,
                "--adamw-lr must be a positive number",
                "train",
                "--adamw-lr",
                "Infinity",
                "--out",
                out.toString());
        fails(2, "--weight-decay", "train", "--weight-decay", "NaN", "--out", out.toString());
        fails(2, "--keep must be at least 1", "train", "--keep", "0", "--out", out.toString());
        fails(
                2,
                "--jobs must be between 1 and 64",
                "study",
                "--jobs",
                "0",
                "--results",
                dir.resolve("study").toString());
        Path cfg = Files.writeString(dir.resolve("nan.json"), "{\"lr\": NaN}");
        fails(
                2,
                "--config " + cfg + ": lr must be a positive number",
                "train",
                "--config",
                cfg.toString(),
                "--out",
                out.toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void unknownCommandsAndFlagsPointAtTheRightHelp() {
        Cli.Outcome o = fails(2, "unknown command 'trian'", "trian");
        assertTrue(o.err().strip().endsWith("(try: muon4j --help)"), o.err());
        o = fails(2, "--bogus", "train", "--bogus");
        assertTrue(o.err().strip().endsWith("(try: muon4j train --help)"), o.err());
    }

    @Test
    void aMalformedManifestIsOneLineAndExitTwo() throws Exception {
        Path copy = dir.resolve("malformed");
        copyTree(run, copy);
        for (String ck : new String[] {"ckpt-000001", "ckpt-000002"}) {
            Files.writeString(
                    copy.resolve(ck).resolve("manifest.json"),
                    "{\"format\": \"muon4j-checkpoint\", \"version\": 1}");
        }
        fails(2, "manifest.json", "eval", "--checkpoint", copy.resolve("ckpt-000002").toString());
        fails(2, "no intact checkpoint in " + copy, "eval", "--checkpoint", copy.toString());
        fails(2, "manifest.json", "generate", "--checkpoint", copy.toString(), "--prompt", "x");
        fails(2, "manifest.json", "train", "--resume", copy.toString());
        assertFalse(Files.exists(copy.resolve("run.lock")));
    }

    @Test
    void aDamagedNewestCheckpointIsSkippedByEvalAndGenerateWithAWarning() throws Exception {
        Path copy = dir.resolve("damaged");
        copyTree(run, copy);
        Path opt = copy.resolve("ckpt-000002").resolve("optimizer.safetensors");
        byte[] b = Files.readAllBytes(opt);
        b[b.length / 3] ^= 0x10;
        Files.write(opt, b);
        for (String[] args :
                new String[][] {
                    {"eval", "--checkpoint", copy.toString(), "--json"},
                    {
                        "generate",
                        "--checkpoint",
                        copy.toString(),
                        "--prompt",
                        "The ",
                        "--max-tokens",
                        "4",
                        "--json"
                    }
                }) {
            Cli.Outcome o = Cli.run(cache, args);
            assertEquals(0, o.code(), o.err());
            long warnings = o.err().lines().filter(l -> l.contains("warning")).count();
            assertEquals(1, warnings, o.err());
            assertTrue(
                    o.err().contains("ckpt-000002")
                            && o.err().contains("optimizer.safetensors")
                            && o.err().contains("ckpt-000001 (step 1)"),
                    o.err());
        }
        Cli.Outcome e = Cli.run(cache, "eval", "--checkpoint", copy.toString(), "--json");
        assertTrue(e.lastLine().contains("\"step\":1"), e.lastLine());
    }

    @Test
    void divergenceNamesTheLastGoodCheckpointAndHintsAtTheLearningRate() throws Exception {
        Path out = dir.resolve("diverged");
        Cli.Outcome o =
                Cli.run(
                        cache,
                        "train",
                        "--out",
                        out.toString(),
                        "--model-config",
                        model.toString(),
                        "--steps",
                        "12",
                        "--batch-size",
                        "2",
                        "--seq-len",
                        "16",
                        "--eval-batches",
                        "1",
                        "--save-every",
                        "1",
                        "--samples",
                        "0",
                        "--lr",
                        "1e30",
                        "--adamw-lr",
                        "1e30",
                        "--warmup",
                        "0");
        assertEquals(1, o.code(), o.err());
        String[] lines = o.err().strip().split("\n");
        String err =
                lines[lines.length - 1]; // after the progress lines, one line says what happened
        assertTrue(
                err.startsWith("muon4j: error: 5 steps in a row") && !err.contains("Exception"),
                err);
        var ck = io.github.muon4j.train.Checkpoint.open(out);
        assertTrue(
                err.contains("last good checkpoint is " + ck.dir() + " (step " + ck.step() + ")"),
                err);
        assertTrue(err.contains("lower --lr"), err);
    }
}
