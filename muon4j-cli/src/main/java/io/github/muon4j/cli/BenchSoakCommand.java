package io.github.muon4j.cli;

import io.github.muon4j.bench.soak.SoakBench;
import io.github.muon4j.bench.soak.SoakBenchReport;
import io.github.muon4j.bench.soak.SoakBenchResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j bench soak}: a long tiny run in a child JVM, watched from outside, beside a copy
 * killed and resumed at random steps ({@link SoakBench}). Exit 0 when the copy ends bit-equal.
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        description =
                "Long-run check: step time and RSS stay flat; kill -9 at random steps and resume ends with the same loss.")
public final class BenchSoakCommand implements Callable<Integer> {

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
        SoakBenchResult r =
                SoakBench.run(new SoakBench.Settings(steps, kills, windows, seed, out), System.err);
        System.out.print(SoakBenchReport.summary(r));
        SoakBenchReport.write(r, out);
        if (json) {
            System.out.println(SoakBenchReport.json(r));
        }
        return r.passed() ? 0 : 1;
    }
}
