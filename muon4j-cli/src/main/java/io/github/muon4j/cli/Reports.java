package io.github.muon4j.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the experiment commands publish: results.json and REPORT.md in the run directory, the report
 * on stdout.
 */
final class Reports {

    private static final Gson PRETTY =
            new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    private static final Gson LINE =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private Reports() {}

    /**
     * @param results the raw numbers (results.json), so plots can be redrawn without retraining
     * @param summary printed as the last stdout line with --json
     */
    static void publish(
            Path out, String report, JsonObject results, JsonObject summary, boolean json)
            throws IOException {
        Files.writeString(out.resolve("results.json"), PRETTY.toJson(results));
        Files.writeString(out.resolve("REPORT.md"), report);
        System.out.print(report);
        System.out.println("report: " + out.resolve("REPORT.md"));
        if (json) {
            System.out.println(LINE.toJson(summary));
        }
    }
}
