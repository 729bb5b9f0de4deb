package io.github.muon4j.cli;

import io.github.muon4j.bench.chaos.Chaos;
import io.github.muon4j.bench.chaos.ChaosReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j bench chaos}: preemption at random moments under load, resumed bit for bit ({@link
 * Chaos}).
 */
@Command(
        name = "chaos",
        mixinStandardHelpOptions = true,
        description = {
            "SIGTERM, SIGINT and SIGKILL at random moments of a tiny training run while a second process loads every core;",
            "each interrupted run is resumed and compared with an uninterrupted one. Exit 0 when there is no crash and every resume is bit-exact."
        })
public final class BenchChaosCommand implements Callable<Integer> {

    @Option(
            names = "--trials",
            defaultValue = "30",
            description = "signals sent, TERM, INT and KILL in turn (default: ${DEFAULT-VALUE})")
    int trials;

    @Option(
            names = "--steps",
            defaultValue = "24",
            description = "steps of each run (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(
            names = "--save-every",
            defaultValue = "4",
            description = "checkpoint every N steps (default: ${DEFAULT-VALUE})")
    int saveEvery;

    @Option(
            names = "--load-threads",
            description = "busy threads of the second process (default: every core)")
    Integer loadThreads;

    @Option(
            names = "--seed",
            defaultValue = "1",
            description = "picks the moments (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(
            names = "--out",
            defaultValue = "runs/bench-chaos",
            description = "runs, REPORT.md and results.json (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (trials < 1 || steps < 4 || saveEvery < 1 || saveEvery > steps) {
            throw new IllegalArgumentException(
                    "--trials must be >= 1, --steps >= 4, --save-every between 1 and --steps");
        }
        int load = loadThreads != null ? loadThreads : Runtime.getRuntime().availableProcessors();
        if (load < 0) {
            throw new IllegalArgumentException("--load-threads must be >= 0");
        }
        if (java.nio.file.Files.exists(out.resolve("results.json"))) {
            throw new IllegalArgumentException(
                    "--out " + out + " already holds a chaos result: choose another --out");
        }
        Chaos.Result r =
                Chaos.run(
                        new Chaos.Settings(trials, steps, saveEvery, seed, load, out), System.err);
        ChaosReport.write(r);
        System.out.println(ChaosReport.summary(r));
        System.out.println("report: " + out.resolve("REPORT.md"));
        if (json) {
            System.out.println(ChaosReport.json(r));
        }
        return r.crashes() == 0 && r.bitExact() == r.trials().size() ? 0 : 1;
    }
}
