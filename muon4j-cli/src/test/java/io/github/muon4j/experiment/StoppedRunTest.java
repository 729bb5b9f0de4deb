package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.muon4j.train.StopSignals;
import io.github.muon4j.train.TrainConfig;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A study run stopped by SIGTERM mid-way must leave no summary: a summary is a finished run, and a
 * half-trained one would be scored as if it had finished (and never trained again).
 */
class StoppedRunTest {

    @Test
    void aRunStoppedByASignalLeavesNoSummaryAndIsTrainedAgainLater(@TempDir Path dir)
            throws Exception {
        Plan plan = new Plan(TrainConfig.defaults(), Study.tiny());
        Plan.Run run = plan.resolve(plan.slots().get(0), r -> null);
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        RunStore store = new RunStore(dir.resolve("runs"), dir.resolve("scratch"), quiet);
        StopSignals.Stopped e;
        try (StopSignals signals = StopSignals.install(quiet).stopBetweenRuns()) {
            signals.deliver("TERM"); // as if SIGTERM arrived as the run started
            e =
                    assertThrows(
                            StopSignals.Stopped.class,
                            () ->
                                    store.train(
                                            run.label(), run.key(), plan.config(run), run.json()));
        }
        assertEquals(143, e.exitCode());
        try (var files = Files.list(dir.resolve("runs"))) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".json")).count());
        }
        store.refresh();
        assertNull(store.get(run.key()));
    }
}
