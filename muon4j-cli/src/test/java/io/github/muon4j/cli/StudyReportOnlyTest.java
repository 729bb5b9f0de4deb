package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study --report-only} rebuilds the committed report of a committed study (the tiny study's
 * run summaries, src/test/resources/study-tiny) byte for byte: REPORT.md and summary.json. The
 * figures are rendered too and checked to exist, not compared byte for byte (their pixels and SVG
 * text depend on the fonts of the machine); TIMING.md is machine-dependent by design.
 */
class StudyReportOnlyTest {

    static Path fixture() throws URISyntaxException {
        return Path.of(StudyReportOnlyTest.class.getResource("/study-tiny/REPORT.md").toURI())
                .getParent();
    }

    @Test
    void reportOnlyReproducesTheCommittedReportByteForByte(@TempDir Path dir) throws Exception {
        Path fx = fixture(), results = dir.resolve("results");
        Files.createDirectories(results.resolve("runs"));
        try (var files = Files.list(fx.resolve("runs"))) {
            for (Path f : files.toList()) {
                Files.copy(f, results.resolve("runs").resolve(f.getFileName()));
            }
        }
        Cli.Outcome o =
                Cli.run(
                        dir.resolve("cache"),
                        "study",
                        "--tiny",
                        "--report-only",
                        "--json",
                        "--results",
                        results.toString());
        assertEquals(0, o.code(), o.err());
        assertEquals(
                Files.readString(fx.resolve("REPORT.md")),
                Files.readString(results.resolve("REPORT.md")));
        assertEquals(
                Files.readString(fx.resolve("summary.json")),
                Files.readString(results.resolve("summary.json")));
        Matcher m =
                Pattern.compile("!\\[[^]]*]\\(([^)]+)\\.svg\\)")
                        .matcher(Files.readString(results.resolve("REPORT.md")));
        int figures = 0;
        while (m.find()) {
            assertTrue(
                    Files.size(results.resolve(m.group(1) + ".svg")) > 1000, m.group(1) + ".svg");
            assertTrue(
                    Files.size(results.resolve(m.group(1) + ".png")) > 1000, m.group(1) + ".png");
            figures++;
        }
        assertTrue(figures >= 6, "figures referenced: " + figures);
        JsonObject line = JsonParser.parseString(o.lastLine()).getAsJsonObject();
        JsonArray rows = line.getAsJsonArray("speedup");
        assertEquals(8, rows.size(), "one row per size and budget (2 x 4)");
        for (var r : rows) {
            JsonObject x = r.getAsJsonObject();
            for (String k :
                    new String[] {
                        "size",
                        "budget_tokens",
                        "data_speedup",
                        "data_speedup_ci95",
                        "flops_speedup",
                        "flops_speedup_ci95",
                        "extrapolated",
                        "muon_lr",
                        "muon_wd",
                        "adamw_lr",
                        "adamw_wd"
                    }) {
                assertTrue(x.has(k), k + " in " + x);
            }
            assertEquals(2, x.getAsJsonArray("data_speedup_ci95").size());
        }
    }
}
