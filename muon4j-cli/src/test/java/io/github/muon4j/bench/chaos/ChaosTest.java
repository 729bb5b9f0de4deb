package io.github.muon4j.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short version of {@code bench chaos}: five signals at random moments under load, every resume
 * bit-exact.
 */
class ChaosTest {

    @TempDir Path dir;

    @Test
    void fiveSignalsUnderLoadLeaveNoCrashAndResumeBitExactly() throws Exception {
        Assumptions.assumeTrue(
                Files.isDirectory(Path.of("/proc/self")), "signals and /proc: Linux only");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Chaos.Settings s =
                new Chaos.Settings(
                        5,
                        12,
                        4,
                        System.nanoTime(),
                        Runtime.getRuntime().availableProcessors(),
                        dir.resolve("chaos"));
        Chaos.Result r = Chaos.run(s, new PrintStream(log, true, StandardCharsets.UTF_8));
        String said = log.toString(StandardCharsets.UTF_8) + ChaosReport.summary(r);
        System.err.println(said);
        assertEquals(5, r.trials().size());
        assertEquals(0, r.crashes(), said);
        assertEquals(5, r.bitExact(), said);
        assertEquals(0.0, r.worstDiff(), said);
        for (Chaos.Trial t : r.trials()) {
            int expected =
                    switch (t.signal()) {
                        case "TERM" -> 143;
                        case "INT" -> 130;
                        default -> 137;
                    };
            assertEquals(expected, t.exitCode(), said);
            if (!t.signal().equals("KILL")) {
                assertEquals(
                        t.reached(),
                        t.checkpoint(),
                        "SIG" + t.signal() + " checkpoints the step reached: " + said);
                assertEquals(0, t.lostSteps(), said);
            }
        }
        ChaosReport.write(r);
        assertTrue(
                Files.readString(s.out().resolve("REPORT.md")).contains("| 5 | SIGINT |"),
                "one row per trial");
    }
}
