package io.github.muon4j.bench.soak;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** {@code bench soak}'s output: two summary lines, results.json and the JSON line. */
public final class SoakBenchReport {

    private SoakBenchReport() {}

    /** The drift line and the kill-and-resume line. */
    public static String summary(SoakBenchResult r) {
        int n = r.windows().size();
        SoakBenchResult.Window second = r.windows().get(1), last = r.windows().get(n - 1);
        return String.format(
                        Locale.ROOT,
                        "soak: step time %.1f -> %.1f ms (drift %+.1f%%), RSS %.0f -> %.0f MB (drift %+.0f MB), windows 2 and %d of %d%n",
                        second.stepMs(),
                        last.stepMs(),
                        100 * r.stepTimeDrift(),
                        second.rssMb(),
                        last.rssMb(),
                        r.rssDriftMb(),
                        n,
                        n)
                + String.format(
                        Locale.ROOT,
                        "soak: %d SIGKILLs at steps %s; final train_loss %.6f uninterrupted, %.6f killed and resumed (%s); %d of %d steps bit-equal%n",
                        r.killSteps().size(),
                        r.killSteps(),
                        r.finalLoss(),
                        r.finalLossKilled(),
                        r.finalLossEqual() ? "bit-equal" : "DIFFERENT",
                        r.stepsBitEqual(),
                        r.stepsLogged());
    }

    public static JsonObject json(SoakBenchResult r) {
        JsonObject o = new JsonObject();
        o.addProperty("steps", r.steps());
        JsonArray win = new JsonArray();
        for (SoakBenchResult.Window w : r.windows()) {
            JsonObject x = new JsonObject();
            x.addProperty("steps", w.first() + "-" + w.last());
            x.addProperty("step_ms", w.stepMs());
            x.addProperty("rss_mb", w.rssMb());
            win.add(x);
        }
        o.add("windows", win);
        o.addProperty("step_time_drift", r.stepTimeDrift());
        o.addProperty("rss_drift_mb", r.rssDriftMb());
        JsonArray ks = new JsonArray();
        r.killSteps().forEach(ks::add);
        o.add("kill_steps", ks);
        o.addProperty("final_loss", r.finalLoss());
        o.addProperty("final_loss_killed", r.finalLossKilled());
        o.addProperty("steps_bit_equal", r.stepsBitEqual());
        o.addProperty("final_loss_equal", r.finalLossEqual());
        return o;
    }

    /** Writes results.json into {@code out}. */
    public static void write(SoakBenchResult r, Path out) throws IOException {
        Files.writeString(
                out.resolve("results.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(json(r)));
    }
}
