package io.github.muon4j.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j bench soak}: a long tiny run in a child JVM, watched from outside. Step time (from
 * its metrics) and resident memory (VmRSS of the child, from /proc) per window of steps, and their
 * drift from the second window to the last (flat = no leak, no slow-down; the first holds the
 * warm-up). Alongside it, the same run again, killed with SIGKILL at {@code --kills} random steps
 * and resumed each time: its final train_loss, and every step's, must equal the uninterrupted run's
 * bit for bit. Both share the machine, so the step times are those of two runs side by side.
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        description =
                "Long-run check: step time and RSS stay flat; kill -9 at random steps and resume ends with the same loss.")
public final class SoakBench implements Callable<Integer> {

    @Option(
            names = "--steps",
            defaultValue = "10000",
            description = "steps of the run (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(
            names = "--kills",
            defaultValue = "5",
            description = "SIGKILLs at random steps of the second run (default: ${DEFAULT-VALUE})")
    int kills;

    @Option(
            names = "--windows",
            defaultValue = "10",
            description =
                    "windows the step time and RSS are reported over (default: ${DEFAULT-VALUE})")
    int windows;

    @Option(
            names = "--seed",
            defaultValue = "1",
            description = "picks the kill steps (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(
            names = "--out",
            defaultValue = "runs/bench-soak",
            description = "where both runs and results.json go (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    /** One sample of the child: the step it had logged and its resident memory. */
    record Sample(int step, double rssMb) {}

    @Override
    public Integer call() throws Exception {
        if (steps < 100) {
            throw new IllegalArgumentException("--steps must be at least 100");
        }
        if (kills < 0 || kills > steps / 10) {
            throw new IllegalArgumentException("--kills must be between 0 and steps/10");
        }
        if (windows < 2 || windows > steps / 10) {
            throw new IllegalArgumentException("--windows must be between 2 and steps/10");
        }
        if (Files.exists(out.resolve("results.json"))) {
            throw new IllegalArgumentException(
                    "--out " + out + " already holds a soak result: choose another --out");
        }
        Files.createDirectories(out);
        Path model = out.resolve("model.json");
        Files.writeString(model, "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}");
        Path plain = out.resolve("uninterrupted"), killed = out.resolve("killed");

        System.err.printf(
                "soak: %d steps of a 2-layer, 64-wide model (batch 4 x 32 tokens, 1 thread), in a child JVM -> %s%n",
                steps, plain);
        List<Sample> samples = java.util.Collections.synchronizedList(new ArrayList<>());
        Process p = start(train(plain, model), out.resolve("uninterrupted.log"));
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
                                        Math.max(1, steps / 10));
                            } catch (Exception e) {
                                failed[0] = e;
                            }
                        });
        watcher.start();
        Random rnd = new Random(seed);
        TreeMap<Integer, Integer> at = new TreeMap<>();
        while (at.size() < kills) {
            int k = steps / 20 + rnd.nextInt(steps - steps / 10);
            at.put(k, k);
        }
        System.err.printf(
                "soak: alongside, the same run, SIGKILL at steps %s, resumed after each -> %s%n",
                at.keySet(), killed);
        List<Sample> ignored = new ArrayList<>();
        Process k = start(train(killed, model), out.resolve("killed.log"));
        for (int step : at.keySet()) {
            watch(k, killed, step, ignored, null);
            k.destroyForcibly();
            k.waitFor();
            k =
                    start(
                            new ArrayList<>(List.of("train", "--resume", killed.toString())),
                            out.resolve("killed.log"));
        }
        watch(k, killed, Integer.MAX_VALUE, ignored, null);
        if (k.exitValue() != 0) {
            throw new IllegalStateException(
                    "the resumed run failed (exit "
                            + k.exitValue()
                            + "), see "
                            + out.resolve("killed.log"));
        }
        watcher.join();
        if (failed[0] != null) {
            throw failed[0];
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(
                    "the uninterrupted run failed (exit "
                            + p.exitValue()
                            + "), see "
                            + out.resolve("uninterrupted.log"));
        }
        TreeMap<Integer, double[]> rows = metrics(plain); // step -> {train_loss, time_s}

        // step time per window from the child's own training clock; RSS per window from /proc
        JsonArray win = new JsonArray();
        int w = steps / windows;
        double[] ms = new double[windows], rss = new double[windows];
        for (int i = 0; i < windows; i++) {
            int from = i * w, to = (i + 1) * w;
            double t0 = from == 0 ? 0 : rows.get(from)[1];
            ms[i] = (rows.get(to)[1] - t0) / (to - from) * 1e3;
            final int lo = from, hi = to;
            rss[i] =
                    samples.stream()
                            .filter(s -> s.step() > lo && s.step() <= hi)
                            .mapToDouble(Sample::rssMb)
                            .max()
                            .orElse(Double.NaN);
            JsonObject o = new JsonObject();
            o.addProperty("steps", (from + 1) + "-" + to);
            o.addProperty("step_ms", ms[i]);
            o.addProperty("rss_mb", rss[i]);
            win.add(o);
            System.err.printf(
                    Locale.ROOT,
                    "soak: steps %5d-%5d  %.1f ms/step  RSS %.0f MB%n",
                    from + 1,
                    to,
                    ms[i],
                    rss[i]);
        }
        // the first window holds the JIT and allocator warm-up: drift is measured from the second
        double timeDrift = (ms[windows - 1] - ms[1]) / ms[1];
        double rssDrift = rss[windows - 1] - rss[1];

        TreeMap<Integer, double[]> rowsK = metrics(killed);
        int equal = 0;
        for (var e : rows.entrySet()) {
            double[] o = rowsK.get(e.getKey());
            if (o != null && Double.compare(o[0], e.getValue()[0]) == 0) {
                equal++;
            }
        }
        double lossA = rows.get(steps)[0], lossB = rowsK.get(steps)[0];

        System.out.printf(
                Locale.ROOT,
                "soak: step time %.1f -> %.1f ms (drift %+.1f%%), RSS %.0f -> %.0f MB (drift %+.0f MB), windows 2 and %d of %d%n",
                ms[1],
                ms[windows - 1],
                100 * timeDrift,
                rss[1],
                rss[windows - 1],
                rssDrift,
                windows,
                windows);
        System.out.printf(
                Locale.ROOT,
                "soak: %d SIGKILLs at steps %s; final train_loss %.6f uninterrupted, %.6f killed and resumed (%s); %d of %d steps bit-equal%n",
                kills,
                at.keySet(),
                lossA,
                lossB,
                Double.compare(lossA, lossB) == 0 ? "bit-equal" : "DIFFERENT",
                equal,
                rows.size());
        JsonObject r = new JsonObject();
        r.addProperty("steps", steps);
        r.add("windows", win);
        r.addProperty("step_time_drift", timeDrift);
        r.addProperty("rss_drift_mb", rssDrift);
        JsonArray ks = new JsonArray();
        at.keySet().forEach(ks::add);
        r.add("kill_steps", ks);
        r.addProperty("final_loss", lossA);
        r.addProperty("final_loss_killed", lossB);
        r.addProperty("steps_bit_equal", equal);
        r.addProperty("final_loss_equal", Double.compare(lossA, lossB) == 0);
        Files.writeString(
                out.resolve("results.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(r));
        if (json) {
            System.out.println(r);
        }
        return Double.compare(lossA, lossB) == 0 && equal == rows.size() ? 0 : 1;
    }

    List<String> train(Path run, Path model) {
        return new ArrayList<>(
                List.of(
                        "train",
                        "--out",
                        run.toString(),
                        "--threads",
                        "1",
                        "--model-config",
                        model.toString(),
                        "--batch-size",
                        "4",
                        "--seq-len",
                        "32",
                        "--steps",
                        Integer.toString(steps),
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
    }

    static Process start(List<String> args, Path log) throws IOException {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("-Xmx1g");
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add("io.github.muon4j.cli.Main");
        c.addAll(args);
        ProcessBuilder pb =
                new ProcessBuilder(c)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    /**
     * Samples the child every 200 ms until it logged {@code untilStep} or ended; a line every
     * {@code progress} steps.
     */
    static void watch(Process p, Path run, int untilStep, List<Sample> samples, Integer progress)
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
            double rss = rssMb(p.pid());
            if (last > 0 && !Double.isNaN(rss)) {
                if (progress != null
                        && (samples.isEmpty()
                                || last / progress
                                        > samples.get(samples.size() - 1).step() / progress)) {
                    System.err.printf(Locale.ROOT, "soak: step %d, RSS %.0f MB%n", last, rss);
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

    static double rssMb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return Double.NaN;
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
