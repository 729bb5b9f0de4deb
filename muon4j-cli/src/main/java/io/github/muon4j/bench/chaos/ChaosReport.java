package io.github.muon4j.bench.chaos;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a {@link Chaos.Result} as {@code REPORT.md} (summary and one row per trial) and {@code
 * results.json}.
 */
public final class ChaosReport {

    private ChaosReport() {}

    /** The summary line: trials, crashes, lost steps, bit-exact resumes, worst difference. */
    public static String summary(Chaos.Result r) {
        return String.format(
                Locale.ROOT,
                "chaos: %d trials (SIGTERM/SIGINT/SIGKILL in turn, %d busy threads beside), %d crashes, %d steps lost in all"
                        + " (worst trial %d), %d of %d resumes bit-exact, worst difference %s",
                r.trials().size(),
                r.settings().loadThreads(),
                r.crashes(),
                r.lostSteps(),
                r.worstLostSteps(),
                r.bitExact(),
                r.trials().size(),
                r.worstDiff());
    }

    public static String markdown(Chaos.Result r) {
        StringBuilder b = new StringBuilder("# bench chaos\n\n");
        b.append(summary(r)).append("\n\n");
        b.append(
                String.format(
                        Locale.ROOT,
                        "Each trial: a %d-step run (2 layers, 64 wide, batch 4 x 32, 1 thread, checkpoint every %d steps)"
                                + " signalled at a random moment of its %.1f s training loop, then resumed to step %d and compared with the"
                                + " uninterrupted run (weights and optimizer state). Load average at the end: %.2f.%n%n",
                        r.settings().steps(),
                        r.settings().saveEvery(),
                        r.referenceSeconds(),
                        r.settings().steps(),
                        r.loadAverage()));
        b.append(
                "| trial | signal | after s | exit | step reached | checkpoint | lost steps | crash | max abs diff | bit-exact |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Chaos.Trial t : r.trials()) {
            b.append(
                    String.format(
                            Locale.ROOT,
                            "| %d | SIG%s | %.2f | %d | %d | %d | %d | %s | %s | %s |%n",
                            t.index(),
                            t.signal(),
                            t.delaySeconds(),
                            t.exitCode(),
                            t.reached(),
                            t.checkpoint(),
                            t.lostSteps(),
                            t.crash() == null ? "no" : t.crash(),
                            t.maxAbsDiff(),
                            t.bitExact() ? "yes" : "NO"));
        }
        return b.toString();
    }

    public static JsonObject json(Chaos.Result r) {
        JsonObject o = new JsonObject();
        o.addProperty("trials", r.trials().size());
        o.addProperty("crashes", r.crashes());
        o.addProperty("lost_steps", r.lostSteps());
        o.addProperty("worst_lost_steps", r.worstLostSteps());
        o.addProperty("bit_exact", r.bitExact());
        o.addProperty("worst_diff", r.worstDiff());
        o.addProperty("load_threads", r.settings().loadThreads());
        o.addProperty("steps", r.settings().steps());
        JsonArray a = new JsonArray();
        for (Chaos.Trial t : r.trials()) {
            JsonObject x = new JsonObject();
            x.addProperty("signal", t.signal());
            x.addProperty("after_s", t.delaySeconds());
            x.addProperty("exit", t.exitCode());
            x.addProperty("reached", t.reached());
            x.addProperty("checkpoint", t.checkpoint());
            x.addProperty("lost_steps", t.lostSteps());
            x.addProperty("crash", t.crash());
            x.addProperty("max_abs_diff", t.maxAbsDiff());
            x.addProperty("bit_exact", t.bitExact());
            a.add(x);
        }
        o.add("trial", a);
        return o;
    }

    /** Writes REPORT.md and results.json into the result's output directory. */
    public static void write(Chaos.Result r) throws IOException {
        Path out = r.settings().out();
        Files.writeString(out.resolve("REPORT.md"), markdown(r));
        Files.writeString(
                out.resolve("results.json"),
                new GsonBuilder()
                        .setPrettyPrinting()
                        .serializeSpecialFloatingPointValues()
                        .create()
                        .toJson(json(r)));
    }
}
