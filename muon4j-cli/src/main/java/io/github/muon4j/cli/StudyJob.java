package io.github.muon4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A second muon4j process running a command beside this one: the same Java, JVM options, class path
 * and environment (so the same allocator), its stderr copied to ours line by line under a prefix,
 * its stdout dropped. It is stopped if this process exits first.
 */
record StudyJob(Process process, Thread pump, Thread reaper) {

    /** The command line that starts {@code muon4j args...} in a new JVM like this one. */
    static List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        return cmd;
    }

    static StudyJob start(List<String> args, String prefix) throws IOException {
        Process p =
                new ProcessBuilder(command(args))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
        Thread pump =
                new Thread(
                        () -> {
                            try (BufferedReader r =
                                    new BufferedReader(
                                            new InputStreamReader(
                                                    p.getErrorStream(), StandardCharsets.UTF_8))) {
                                for (String line; (line = r.readLine()) != null; ) {
                                    System.err.println(prefix + line);
                                }
                            } catch (IOException e) {
                                // the child is gone; its exit code says how
                            }
                        },
                        "study-job-stderr");
        pump.setDaemon(true);
        pump.start();
        Thread reaper = new Thread(p::destroy, "study-job-stop");
        Runtime.getRuntime().addShutdownHook(reaper);
        return new StudyJob(p, pump, reaper);
    }

    /** Waits for the job to end and returns its exit code. */
    int waitFor() throws InterruptedException {
        int rc = process.waitFor();
        pump.join(5000);
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // shutting down already
        }
        return rc;
    }
}
