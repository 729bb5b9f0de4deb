package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.bench.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes, real signals: {@code muon4j train} in a child JVM is killed with SIGKILL, stopped
 * with SIGTERM and SIGINT at random steps, aborted by a second SIGTERM, and resumed each time; the
 * run ends with the same train_loss at every step, bit for bit, as an uninterrupted child run. On
 * the way: a stale lock of a killed process is taken over, a live one is respected.
 */
class KillAndResumeTest {

    static final int STEPS = 18;
    @TempDir Path dir;

    List<String> command(String... args) {
        List<String> mainAndArgs = new ArrayList<>(List.of(ChildJvm.CLI));
        mainAndArgs.addAll(List.of(args));
        return ChildJvm.command(List.of("-Dmuon4j.cache=" + dir.resolve("cache")), mainAndArgs);
    }

    Process start(String name, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        pb.redirectOutput(dir.resolve(name + ".out").toFile());
        pb.redirectError(dir.resolve(name + ".err").toFile());
        return pb.start();
    }

    String[] train(Path out) throws IOException {
        Path model = dir.resolve("model.json");
        if (!Files.exists(model)) {
            ChildJvm.writeTinyModel(dir);
        }
        List<String> a = ChildJvm.tinyTrain(out, model, STEPS);
        a.addAll(
                List.of(
                        "--warmup",
                        "2",
                        "--eval-every",
                        "0",
                        "--eval-batches",
                        "1",
                        "--save-every",
                        "3",
                        "--keep",
                        "2",
                        "--samples",
                        "0"));
        return a.toArray(String[]::new);
    }

    static Map<Integer, Double> losses(Path run) throws IOException {
        Map<Integer, Double> m = new TreeMap<>();
        Path f = run.resolve("metrics.jsonl");
        if (!Files.exists(f)) {
            return m;
        }
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            try {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                if (o.has("train_loss")) {
                    assertNull(
                            m.put(o.get("step").getAsInt(), o.get("train_loss").getAsDouble()),
                            "one record per step");
                }
            } catch (RuntimeException partialLine) {
                // the line being written
            }
        }
        return m;
    }

    /** Waits until the child has logged step {@code step}. */
    static void awaitStep(Process p, Path run, int step) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            Map<Integer, Double> m = losses(run);
            if (!m.isEmpty() && ((TreeMap<Integer, Double>) m).lastKey() >= step) {
                return;
            }
            assertTrue(
                    p.isAlive(),
                    "the child ended before step "
                            + step
                            + " (exit "
                            + (p.isAlive() ? "" : p.exitValue())
                            + ")");
            Thread.sleep(20);
        }
        fail("step " + step + " not reached in time");
    }

    void signal(Process p, String sig) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start();
        assertEquals(0, k.waitFor());
    }

    /**
     * Whether this process (and so its children) ignores signal {@code sig} (Linux: SigIgn in
     * /proc).
     */
    static boolean ignored(int sig) throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return false;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                return (mask & (1L << (sig - 1))) != 0;
            }
        }
        return false;
    }

    int finish(Process p) throws Exception {
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "the child exits");
        return p.exitValue();
    }

    String err(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".err"));
    }

    @Test
    void killedAndStoppedAtRandomStepsThenResumedEqualsTheUninterruptedRun() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        int k1 = 4 + rnd.nextInt(3),
                k2 = k1 + 1 + rnd.nextInt(3),
                k3 = k2 + 1 + rnd.nextInt(2),
                k4 = k3 + 1 + rnd.nextInt(2);
        String moments =
                "seed "
                        + seed
                        + ": SIGKILL at "
                        + k1
                        + ", SIGTERM at "
                        + k2
                        + ", SIGKILL at "
                        + k3
                        + ", SIGINT at "
                        + k4
                        + ", then two SIGTERMs";
        Path ref = dir.resolve("reference"), run = dir.resolve("run");
        Process reference = start("reference", train(ref));

        // 1. SIGKILL: no chance to clean up; the lock file stays behind with a dead pid
        Process a = start("a", train(run));
        awaitStep(a, run, k1);
        a.destroyForcibly();
        finish(a);
        assertTrue(Files.exists(run.resolve("run.lock")), "kill -9 leaves the lock file");

        // 2. resumed (the stale lock is taken over), then SIGTERM: checkpoint at the step reached,
        // exit 143
        Process b = start("b", "train", "--resume", run.toString());
        awaitStep(b, run, k2);
        Cli.Outcome second = Cli.run(dir.resolve("cache"), "train", "--resume", run.toString());
        assertEquals(2, second.code(), second.err());
        assertTrue(
                second.err().contains("in use by another muon4j process (pid " + b.pid() + ","),
                second.err());
        signal(b, "TERM");
        assertEquals(143, finish(b), err("b"));
        int stoppedAt = ((TreeMap<Integer, Double>) losses(run)).lastKey();
        assertTrue(err("b").contains("stopped by SIGTERM at step " + stoppedAt), err("b"));
        assertTrue(
                Files.isDirectory(run.resolve(String.format("ckpt-%06d", stoppedAt))),
                "checkpoint at step " + stoppedAt);
        assertFalse(Files.exists(run.resolve("run.lock")), "a clean stop releases the lock");

        // 3. SIGKILL again
        Process c = start("c", "train", "--resume", run.toString());
        awaitStep(c, run, k3);
        c.destroyForcibly();
        finish(c);

        // 4. SIGINT (Ctrl-C): exit 130. A JVM started with SIGINT ignored (nohup, or a background
        // job of
        // a shell without job control) keeps ignoring it, as POSIX asks; then SIGTERM stands in.
        Process d = start("d", "train", "--resume", run.toString());
        awaitStep(d, run, k4);
        boolean intIgnored = ignored(2);
        signal(d, intIgnored ? "TERM" : "INT");
        assertEquals(intIgnored ? 143 : 130, finish(d), err("d"));

        // 5. two SIGTERMs in a row: the second aborts at once, exit 143; the newest checkpoint is
        // intact
        Process e = start("e", "train", "--resume", run.toString());
        awaitStep(e, run, ((TreeMap<Integer, Double>) losses(run)).lastKey() + 1);
        signal(e, "TERM");
        signal(e, "TERM");
        assertEquals(143, finish(e), err("e"));
        assertTrue(
                err("e").contains("aborting at once") || err("e").contains("stopped by SIGTERM"),
                err("e"));

        // 6. to the end
        Process f = start("f", "train", "--resume", run.toString());
        assertEquals(0, finish(f), err("f"));
        assertEquals(0, finish(reference), err("reference"));
        Map<Integer, Double> want = losses(ref);
        assertEquals(STEPS, want.size());
        assertEquals(want, losses(run), moments);
    }
}
