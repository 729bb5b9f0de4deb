package io.github.muon4j.bench.chaos;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.bench.ChildJvm;
import io.github.muon4j.bench.Machine;
import io.github.muon4j.interop.Safetensors;
import io.github.muon4j.train.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Preemption under load, measured: a tiny training run in a child JVM is sent SIGTERM, SIGINT or
 * SIGKILL (in turn) at a random moment of its training loop while a second process keeps every core
 * busy; then it is resumed to the end and its final weights and optimizer state are compared with
 * an uninterrupted run of the same configuration.
 *
 * <p>A trial passes when the child exits 143 (TERM), 130 (INT) or 137 (KILL) without a JVM crash
 * report, its newest checkpoint is the step it reached (TERM, INT) or an earlier one (KILL: the
 * steps in between are lost), and the resumed run ends bit for bit equal to the uninterrupted one.
 */
public final class Chaos {

    private Chaos() {}

    /** What to run: {@code trials} signals at random moments of {@code steps}-step runs. */
    public record Settings(
            int trials, int steps, int saveEvery, long seed, int loadThreads, Path out) {}

    /**
     * One trial. {@code reached}: the last step the child logged; {@code checkpoint}: its newest
     * intact checkpoint (-1: none); {@code crash}: why the trial counts as a crash, or null; {@code
     * maxAbsDiff}: largest difference of any weight or optimizer value after the resume (NaN when
     * no resume was possible).
     */
    public record Trial(
            int index,
            String signal,
            double delaySeconds,
            int exitCode,
            int reached,
            int checkpoint,
            int lostSteps,
            String crash,
            double maxAbsDiff,
            boolean bitExact) {}

    /** All trials and their totals. */
    public record Result(
            Settings settings,
            List<Trial> trials,
            int crashes,
            int lostSteps,
            int worstLostSteps,
            double worstDiff,
            int bitExact,
            double referenceSeconds,
            double loadAverage) {}

    static final List<String> SIGNALS = List.of("TERM", "INT", "KILL");

    /** The training child running now (stopped with the bench). */
    private static volatile Process current;

    /** Runs the reference and the trials; progress lines go to {@code log}. */
    public static Result run(Settings s, PrintStream log) throws IOException, InterruptedException {
        Files.createDirectories(s.out());
        Path model = ChildJvm.writeTinyModel(s.out());
        Process load =
                child(
                        List.of(
                                "io.github.muon4j.bench.chaos.BusyLoad",
                                Integer.toString(s.loadThreads())),
                        s.out(),
                        s.out().resolve("load.log"));
        Thread stopLoad =
                new Thread(
                        () -> { // the bench itself stopped: stop its load and its training child
                            // too
                            load.destroyForcibly();
                            Process p = current;
                            if (p != null) {
                                p.destroyForcibly();
                            }
                        },
                        "chaos-stop-children");
        Runtime.getRuntime().addShutdownHook(stopLoad);
        try {
            Path ref = s.out().resolve("reference");
            clear(ref);
            long t0 = System.nanoTime();
            Process p = train(s, ref, model, null);
            double startSeconds = waitForFirstMetrics(p, ref);
            double loopStart = (System.nanoTime() - t0) / 1e9;
            while (p.isAlive() && reached(ref) < s.steps()) {
                Thread.sleep(20);
            }
            double loopSeconds =
                    (System.nanoTime() - t0) / 1e9
                            - loopStart; // step-0 evaluation done to the last step logged
            if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "the uninterrupted run failed (exit "
                                + (p.isAlive() ? "none" : p.exitValue())
                                + "), see "
                                + ref.resolve("train.log"));
            }
            log.printf(
                    "chaos: uninterrupted run of %d steps: %.1f s to the first step, %.1f s of training, under %d busy threads%n",
                    s.steps(), startSeconds, loopSeconds, s.loadThreads());
            Checkpoint reference =
                    Checkpoint.open(
                            ref.resolve("run").resolve(String.format("ckpt-%06d", s.steps())));

            Random rnd = new Random(s.seed());
            List<Trial> trials = new ArrayList<>();
            for (int i = 0; i < s.trials(); i++) {
                String sig = SIGNALS.get(i % SIGNALS.size());
                double delay = rnd.nextDouble() * 0.9 * loopSeconds;
                Trial t = trial(s, i + 1, sig, delay, model, reference);
                for (int retry = 0;
                        t == null && retry < 5;
                        retry++) { // the run outpaced the signal: an earlier moment
                    delay *= 0.5;
                    t = trial(s, i + 1, sig, delay, model, reference);
                }
                if (t == null) {
                    throw new IllegalStateException(
                            "trial " + (i + 1) + ": every run ended before its signal");
                }
                trials.add(t);
                log.printf(
                        "chaos: trial %d/%d SIG%s after %.2f s: exit %d, reached step %d, checkpoint %d, lost %d, %s, max |diff| %s%n",
                        t.index(),
                        s.trials(),
                        sig,
                        delay,
                        t.exitCode(),
                        t.reached(),
                        t.checkpoint(),
                        t.lostSteps(),
                        t.crash() == null ? "no crash" : "CRASH (" + t.crash() + ")",
                        t.maxAbsDiff());
            }
            int crashes = (int) trials.stream().filter(t -> t.crash() != null).count();
            int lost = trials.stream().mapToInt(Trial::lostSteps).sum();
            int worstLost = trials.stream().mapToInt(Trial::lostSteps).max().orElse(0);
            double worst =
                    trials.stream()
                            .mapToDouble(Trial::maxAbsDiff)
                            .map(d -> Double.isNaN(d) ? Double.POSITIVE_INFINITY : d)
                            .max()
                            .orElse(0);
            int exact = (int) trials.stream().filter(Trial::bitExact).count();
            return new Result(
                    s,
                    trials,
                    crashes,
                    lost,
                    worstLost,
                    worst,
                    exact,
                    loopSeconds,
                    Machine.loadAverage());
        } finally {
            Runtime.getRuntime().removeShutdownHook(stopLoad);
            load.destroyForcibly();
            load.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** One trial, or null when the run finished before the moment drawn. */
    private static Trial trial(
            Settings s, int index, String sig, double delay, Path model, Checkpoint reference)
            throws IOException, InterruptedException {
        Path dir = s.out().resolve(String.format("trial-%02d", index));
        clear(dir);
        Process p = train(s, dir, model, null);
        waitForFirstMetrics(p, dir);
        Thread.sleep((long) (delay * 1000));
        if (!p.isAlive() || reached(dir) >= s.steps()) {
            p.waitFor();
            return null; // finished before the signal: the caller tries an earlier moment
        }
        send(sig, p.pid());
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Trial(
                    index,
                    sig,
                    delay,
                    -1,
                    reached(dir),
                    newest(dir),
                    0,
                    "no exit within 300 s of the signal",
                    Double.NaN,
                    false);
        }
        int rc = p.exitValue();
        int expected =
                switch (sig) {
                    case "TERM" -> 143;
                    case "INT" -> 130;
                    default -> 137;
                };
        int reached = reached(dir);
        int ckpt = newest(dir);
        String crash = null;
        if (hasCrashReport(dir)) {
            crash = "JVM crash report in " + dir;
        } else if (rc != expected) {
            crash = "exit " + rc + ", expected " + expected;
        } else if (!sig.equals("KILL") && ckpt != reached) {
            crash = "checkpoint " + ckpt + " is not the step reached (" + reached + ")";
        } else if (ckpt > reached) {
            crash = "checkpoint " + ckpt + " is past the step reached (" + reached + ")";
        }
        int lost = Math.max(0, reached - Math.max(0, ckpt));
        Process r = train(s, dir, model, dir);
        if (!r.waitFor(600, TimeUnit.SECONDS) || r.exitValue() != 0 || hasCrashReport(dir)) {
            r.destroyForcibly();
            return new Trial(
                    index,
                    sig,
                    delay,
                    rc,
                    reached,
                    ckpt,
                    lost,
                    crash != null ? crash : "the resume failed, see " + dir.resolve("train.log"),
                    Double.NaN,
                    false);
        }
        Checkpoint end =
                Checkpoint.open(dir.resolve("run").resolve(String.format("ckpt-%06d", s.steps())));
        double diff =
                Math.max(
                        maxAbsDiff(
                                reference.partFile("model.safetensors"),
                                end.partFile("model.safetensors")),
                        maxAbsDiff(
                                reference.partFile("optimizer.safetensors"),
                                end.partFile("optimizer.safetensors")));
        // bit-exact: the same bytes, weights and optimizer state alike (files of the same state are
        // byte-identical)
        boolean exact =
                Files.mismatch(
                                        reference.partFile("model.safetensors"),
                                        end.partFile("model.safetensors"))
                                == -1
                        && Files.mismatch(
                                        reference.partFile("optimizer.safetensors"),
                                        end.partFile("optimizer.safetensors"))
                                == -1;
        return new Trial(index, sig, delay, rc, reached, ckpt, lost, crash, diff, exact);
    }

    /**
     * The largest |a - b| over every tensor of two safetensors files of the same layout (infinite
     * when they differ in layout).
     */
    static double maxAbsDiff(Path a, Path b) throws IOException {
        try (Safetensors.Reader ra = Safetensors.Reader.open(a);
                Safetensors.Reader rb = Safetensors.Reader.open(b)) {
            if (!ra.entries().keySet().equals(rb.entries().keySet())) {
                return Double.POSITIVE_INFINITY;
            }
            double worst = 0;
            for (String name : ra.entries().keySet()) {
                float[] x = ra.floats(name), y = rb.floats(name);
                if (x.length != y.length) {
                    return Double.POSITIVE_INFINITY;
                }
                for (int i = 0; i < x.length; i++) {
                    double d = Math.abs((double) x[i] - y[i]);
                    if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])
                            && !(d > 0)) {
                        d =
                                Double.isNaN(d)
                                        ? Double.POSITIVE_INFINITY
                                        : Double.MIN_VALUE; // -0 vs 0, or NaN
                    }
                    worst = Math.max(worst, d);
                }
            }
            return worst;
        }
    }

    /** A training child: a fresh run in {@code dir}, or (with {@code resume}) its continuation. */
    private static Process train(Settings s, Path dir, Path model, Path resume) throws IOException {
        Files.createDirectories(dir);
        List<String> a = new ArrayList<>(List.of(ChildJvm.CLI));
        if (resume != null) {
            a.addAll(List.of("train", "--resume", resume.resolve("run").toString()));
        } else {
            a.addAll(ChildJvm.tinyTrain(dir.resolve("run"), model, s.steps()));
            a.addAll(
                    List.of(
                            "--warmup",
                            "2",
                            "--schedule",
                            "cosine",
                            "--eval-every",
                            Integer.toString(Math.max(1, s.steps() / 4)),
                            "--eval-batches",
                            "2",
                            "--save-every",
                            Integer.toString(s.saveEvery()),
                            "--keep",
                            "2",
                            "--samples",
                            "0",
                            "--seed",
                            "7"));
        }
        Process p = child(a, dir, dir.resolve("train.log"));
        current = p;
        return p;
    }

    /**
     * A JVM like this one running {@code mainAndArgs}, crash reports in {@code dir}, SIGINT at its
     * default.
     */
    private static Process child(List<String> mainAndArgs, Path dir, Path log) throws IOException {
        List<String> c = new ArrayList<>();
        if (DEFAULT_SIGNAL_ENV) {
            // a JVM started from a background job inherits SIGINT ignored, and so would its
            // children
            c.addAll(List.of("env", "--default-signal=INT"));
        }
        c.addAll(
                ChildJvm.command(
                        List.of(
                                "-XX:ErrorFile=" + dir.toAbsolutePath().resolve("hs_err_pid%p.log"),
                                "-Dai.djl.offline=true"),
                        mainAndArgs));
        return ChildJvm.start(c, log);
    }

    /** Whether {@code env --default-signal} (GNU coreutils 8.31+) is there. */
    static final boolean DEFAULT_SIGNAL_ENV = probeEnv();

    private static boolean probeEnv() {
        try {
            Process p =
                    new ProcessBuilder("env", "--default-signal=INT", "true")
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static void send(String sig, long pid) throws IOException, InterruptedException {
        Process k =
                new ProcessBuilder("kill", "-" + sig, Long.toString(pid))
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
        k.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Waits until the run logged its step-0 evaluation (its training loop runs); returns the
     * seconds waited.
     */
    private static double waitForFirstMetrics(Process p, Path dir)
            throws InterruptedException, IOException {
        long t0 = System.nanoTime();
        Path m = dir.resolve("run").resolve("metrics.jsonl");
        while (p.isAlive() && (!Files.exists(m) || Files.size(m) == 0)) {
            Thread.sleep(20);
            if (System.nanoTime() - t0 > 600e9) {
                throw new IllegalStateException(
                        "the run in " + dir + " did not start within 600 s");
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The last step the run logged (0 before any). */
    static int reached(Path dir) throws IOException {
        Path m = dir.resolve("run").resolve("metrics.jsonl");
        int last = 0;
        if (!Files.exists(m)) {
            return 0;
        }
        for (String line : Files.readAllLines(m, StandardCharsets.UTF_8)) {
            try {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                last = Math.max(last, o.get("step").getAsInt());
            } catch (RuntimeException partialLine) {
                // a line cut by SIGKILL
            }
        }
        return last;
    }

    /** The newest intact checkpoint's step, or -1. */
    private static int newest(Path dir) {
        try {
            return Checkpoint.openNewestIntact(dir.resolve("run"), w -> {}).step();
        } catch (RuntimeException none) {
            return -1;
        }
    }

    private static boolean hasCrashReport(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(f -> f.getFileName().toString().startsWith("hs_err"));
        }
    }

    private static void clear(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }
}
