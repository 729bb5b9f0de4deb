package io.github.muon4j.bench.soak;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.bench.ChildJvm;
import io.github.muon4j.bench.Machine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A long tiny run in a child JVM, watched from outside. Step time (from its metrics) and resident
 * memory (VmRSS of the child, from /proc) per window of steps, and their drift from the second
 * window to the last (flat = no leak, no slow-down; the first holds the warm-up). Alongside it, the
 * same run again, killed with SIGKILL at {@code kills} random steps and resumed each time: its
 * final train_loss, and every step's, must equal the uninterrupted run's bit for bit. Both share
 * the machine, so the step times are those of two runs side by side.
 */
public final class SoakBench {

    /**
     * What to run.
     *
     * @param steps steps of the run (at least 100)
     * @param kills SIGKILLs at random steps of the second run
     * @param windows windows the step time and RSS are reported over
     * @param seed picks the kill steps
     * @param out where both runs go
     */
    public record Settings(int steps, int kills, int windows, long seed, Path out) {}

    /** One sample of the child: the step it had logged and its resident memory. */
    record Sample(int step, double rssMb) {}

    private SoakBench() {}

    /** Runs both copies to the end; progress lines go to {@code log}. */
    public static SoakBenchResult run(Settings s, PrintStream log) throws Exception {
        int steps = s.steps(), windows = s.windows();
        Path out = s.out();
        Files.createDirectories(out);
        Path model = ChildJvm.writeTinyModel(out);
        Path plain = out.resolve("uninterrupted"), killed = out.resolve("killed");

        log.printf(
                "soak: %d steps of a 2-layer, 64-wide model (batch 4 x 32 tokens, 1 thread), in a child JVM -> %s%n",
                steps, plain);
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        Process p = start(train(plain, model, steps), out.resolve("uninterrupted.log"));
        // the killed-and-resumed copy runs at the same time, in its own child JVMs (one thread
        // each)
        Exception[] failed = {null};
        Thread watcher =
                new Thread(
                        () -> {
                            try {
                                watch(
                                        p,
                                        plain,
                                        Integer.MAX_VALUE,
                                        samples,
                                        Math.max(1, steps / 10),
                                        log);
                            } catch (Exception e) {
                                failed[0] = e;
                            }
                        });
        watcher.start();
        Random rnd = new Random(s.seed());
        TreeMap<Integer, Integer> at = new TreeMap<>();
        while (at.size() < s.kills()) {
            int k = steps / 20 + rnd.nextInt(steps - steps / 10);
            at.put(k, k);
        }
        log.printf(
                "soak: alongside, the same run, SIGKILL at steps %s, resumed after each -> %s%n",
                at.keySet(), killed);
        List<Sample> ignored = new ArrayList<>();
        Process k = start(train(killed, model, steps), out.resolve("killed.log"));
        for (int step : at.keySet()) {
            watch(k, killed, step, ignored, null, log);
            k.destroyForcibly();
            k.waitFor();
            k =
                    start(
                            new ArrayList<>(List.of("train", "--resume", killed.toString())),
                            out.resolve("killed.log"));
        }
        watch(k, killed, Integer.MAX_VALUE, ignored, null, log);
        succeeded(k, "resumed", out.resolve("killed.log"));
        watcher.join();
        if (failed[0] != null) {
            throw failed[0];
        }
        succeeded(p, "uninterrupted", out.resolve("uninterrupted.log"));
        TreeMap<Integer, double[]> rows = metrics(plain); // step -> {train_loss, time_s}

        // step time per window from the child's own training clock; RSS per window from /proc
        List<SoakBenchResult.Window> win = new ArrayList<>();
        int w = steps / windows;
        for (int i = 0; i < windows; i++) {
            int from = i * w, to = (i + 1) * w;
            double t0 = from == 0 ? 0 : rows.get(from)[1];
            double ms = (rows.get(to)[1] - t0) / (to - from) * 1e3;
            double rss =
                    samples.stream()
                            .filter(x -> x.step() > from && x.step() <= to)
                            .mapToDouble(Sample::rssMb)
                            .max()
                            .orElse(Double.NaN);
            win.add(new SoakBenchResult.Window(from + 1, to, ms, rss));
            log.printf(
                    Locale.ROOT,
                    "soak: steps %5d-%5d  %.1f ms/step  RSS %.0f MB%n",
                    from + 1,
                    to,
                    ms,
                    rss);
        }

        TreeMap<Integer, double[]> rowsK = metrics(killed);
        int equal = 0;
        for (var e : rows.entrySet()) {
            double[] o = rowsK.get(e.getKey());
            if (o != null && Double.compare(o[0], e.getValue()[0]) == 0) {
                equal++;
            }
        }
        return new SoakBenchResult(
                steps,
                win,
                List.copyOf(at.keySet()),
                rows.get(steps)[0],
                rowsK.get(steps)[0],
                equal,
                rows.size());
    }

    /** Throws unless the ended child {@code p} (the {@code what} run) exited 0. */
    private static void succeeded(Process p, String what, Path log) {
        if (p.exitValue() != 0) {
            throw new IllegalStateException(
                    "the " + what + " run failed (exit " + p.exitValue() + "), see " + log);
        }
    }

    static List<String> train(Path run, Path model, int steps) {
        List<String> a = ChildJvm.tinyTrain(run, model, steps);
        a.addAll(
                List.of(
                        "--warmup",
                        "100",
                        "--eval-every",
                        "0",
                        "--eval-batches",
                        "2",
                        "--save-every",
                        Integer.toString(Math.max(1, steps / 20)),
                        "--keep",
                        "2",
                        "--samples",
                        "0"));
        return a;
    }

    /** {@code muon4j <args>} in a child JVM, its output appended to {@code log}. */
    static Process start(List<String> args, Path log) throws IOException {
        List<String> mainAndArgs = new ArrayList<>(List.of(ChildJvm.CLI));
        mainAndArgs.addAll(args);
        return ChildJvm.start(ChildJvm.command(List.of(), mainAndArgs), log);
    }

    /**
     * Samples the child every 200 ms until it logged {@code untilStep} or ended; a line every
     * {@code progress} steps.
     */
    static void watch(
            Process p,
            Path run,
            int untilStep,
            List<Sample> samples,
            Integer progress,
            PrintStream log)
            throws Exception {
        Path f = run.resolve("metrics.jsonl");
        long offset = 0;
        int last = 0;
        StringBuilder partial = new StringBuilder();
        while (true) {
            if (Files.exists(f)) {
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
                    if (raf.length() < offset) {
                        offset = 0; // the resumed run rewrote the file
                        partial.setLength(0);
                    }
                    raf.seek(offset);
                    byte[] b = new byte[(int) (raf.length() - offset)];
                    raf.readFully(b);
                    offset += b.length;
                    partial.append(new String(b, StandardCharsets.UTF_8));
                }
                int nl;
                while ((nl = partial.indexOf("\n")) >= 0) {
                    String line = partial.substring(0, nl);
                    partial.delete(0, nl + 1);
                    try {
                        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                        if (o.has("train_loss")) {
                            last = o.get("step").getAsInt();
                        }
                    } catch (RuntimeException ignored) {
                        // not a whole line
                    }
                }
            }
            double rss = Machine.rssMb(p.pid());
            if (last > 0 && !Double.isNaN(rss)) {
                if (progress != null
                        && (samples.isEmpty()
                                || last / progress
                                        > samples.get(samples.size() - 1).step() / progress)) {
                    log.printf(Locale.ROOT, "soak: step %d, RSS %.0f MB%n", last, rss);
                }
                samples.add(new Sample(last, rss));
            }
            if (last >= untilStep || !p.isAlive()) {
                if (!p.isAlive() && untilStep != Integer.MAX_VALUE) {
                    throw new IllegalStateException(
                            "the run ended (exit " + p.exitValue() + ") before step " + untilStep);
                }
                if (untilStep == Integer.MAX_VALUE) {
                    p.waitFor(60, TimeUnit.SECONDS);
                }
                return;
            }
            Thread.sleep(200);
        }
    }

    /** step -> {train_loss, time_s} of a run's metrics. */
    static TreeMap<Integer, double[]> metrics(Path run) throws IOException {
        TreeMap<Integer, double[]> m = new TreeMap<>();
        for (String line :
                Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.has("train_loss")) {
                m.put(
                        o.get("step").getAsInt(),
                        new double[] {
                            o.get("train_loss").getAsDouble(), o.get("time_s").getAsDouble()
                        });
            }
        }
        return m;
    }
}
