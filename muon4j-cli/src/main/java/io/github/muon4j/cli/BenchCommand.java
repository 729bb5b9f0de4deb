package io.github.muon4j.cli;

import picocli.CommandLine.Command;

/**
 * {@code muon4j bench ...}: the measurements behind BENCHMARKS.md. Each subcommand parses its
 * options and hands them to its benchmark's home, {@code io.github.muon4j.bench.<name>}: a class
 * that measures and returns a record, and one that writes the report.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks (figures for BENCHMARKS.md).",
        subcommands = {
            BenchTrainCommand.class,
            BenchOptimCommand.class,
            BenchModelCommand.class,
            BenchDataCommand.class,
            BenchInferenceCommand.class,
            BenchSoakCommand.class,
            BenchChaosCommand.class
        })
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
