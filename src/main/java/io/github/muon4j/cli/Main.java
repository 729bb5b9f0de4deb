package io.github.muon4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code muon4j} command line. Exit codes: 0 success, 2 bad usage or bad input (one line on
 * stderr, no stack trace), 1 anything else. Set MUON4J_DEBUG=1 to see stack traces.
 */
@Command(
        name = "muon4j",
        mixinStandardHelpOptions = true,
        version = "muon4j 0.1.0 (DJL 0.36.0, PyTorch 2.7.1)",
        description = "Train transformer language models on the JVM with Muon, MLA and MoE.",
        subcommands = {
            TrainCommand.class,
            EvalCommand.class,
            GenerateCommand.class,
            ParamsCommand.class,
            BenchCommand.class,
            CompareCommand.class,
            ReproduceCommand.class,
            SweepCommand.class,
            DoctorCommand.class,
            ExportCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (used by tests, which must not exit). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::onException);
        cl.setParameterExceptionHandler(Main::onBadUsage);
        return cl.execute(args);
    }

    private static int onBadUsage(CommandLine.ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println("muon4j: " + e.getMessage() + " (try: muon4j " + e.getCommandLine().getCommandName() + " --help)");
        err.flush();
        return 2;
    }

    private static int onException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean badInput = e instanceof IllegalArgumentException;
        if (System.getenv("MUON4J_DEBUG") != null) {
            e.printStackTrace(err);
        }
        String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        err.println("muon4j: " + (badInput ? "" : "error: ") + msg.lines().findFirst().orElse(msg));
        err.flush();
        return badInput ? 2 : 1;
    }
}
