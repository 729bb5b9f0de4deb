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
            StudyCommand.class,
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
        hostDefaults();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::onException);
        cl.setParameterExceptionHandler(Main::onBadUsage);
        return cl.execute(args);
    }

    /**
     * The CLI's settings of its own JVM, each only where the user did not set it with -D: DJL
     * offline (the native library comes from the jar, nothing is downloaded) and quiet logging (DJL
     * probes CUDA at start-up and warns on every CPU-only machine). The library sets none.
     */
    static void hostDefaults() {
        setIfAbsent("ai.djl.offline", "true");
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.pytorch", "warn");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static int onBadUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String msg = e.getMessage();
        if (e instanceof CommandLine.UnmatchedArgumentException u
                && cl.getParent() == null
                && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            msg = "unknown command '" + u.getUnmatched().get(0) + "'";
        }
        err.println(
                "muon4j: "
                        + userText(msg)
                        + " (try: "
                        + cl.getCommandSpec().qualifiedName()
                        + " --help)");
        err.flush();
        return 2;
    }

    /**
     * The first line of a message with anything internal taken out: Java class names in front of a
     * message ("java.io.IOException: ") and JSON-library advice.
     */
    static String userText(String msg) {
        String line = msg.lines().findFirst().orElse(msg);
        line = line.replaceAll("\\b(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): ", "");
        int advice = line.indexOf(" To override this behavior");
        if (advice >= 0) {
            line = line.substring(0, advice);
        }
        return line.strip();
    }

    private static int onException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean badInput = e instanceof IllegalArgumentException;
        if (System.getenv("MUON4J_DEBUG") != null) {
            e.printStackTrace(err);
        }
        String msg =
                e.getMessage() != null && !e.getMessage().isBlank()
                        ? userText(e.getMessage())
                        : "internal error (set MUON4J_DEBUG=1 to see where)";
        err.println("muon4j: " + (badInput ? "" : "error: ") + msg);
        err.flush();
        return badInput ? 2 : 1;
    }
}
