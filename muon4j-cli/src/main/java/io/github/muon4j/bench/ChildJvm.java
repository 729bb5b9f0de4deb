package io.github.muon4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM like this one (its java, its class path, a 1 GB heap) running a main class, for the benches
 * that watch a tiny training run from outside ({@code bench soak}, {@code bench chaos}).
 */
public final class ChildJvm {

    /** The main class of the {@code muon4j} command line. */
    public static final String CLI = "io.github.muon4j.cli.Main";

    private ChildJvm() {}

    /** {@code java -Xmx1g <jvmOptions> -cp <this class path> <mainAndArgs>}. */
    public static List<String> command(List<String> jvmOptions, List<String> mainAndArgs) {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("-Xmx1g");
        c.addAll(jvmOptions);
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.addAll(mainAndArgs);
        return c;
    }

    /** Starts {@code command} with its stdout and stderr appended to {@code log}. */
    public static Process start(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** Writes the tiny model of these runs (2 layers, 64 wide, 2 heads) to dir/model.json. */
    public static Path writeTinyModel(Path dir) throws IOException {
        Path model = dir.resolve("model.json");
        Files.writeString(model, "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}");
        return model;
    }

    /**
     * {@code train} of a tiny run into {@code run}: one thread, batch 4 x 32 tokens, {@code steps}
     * steps; the caller adds the schedule, evaluation and checkpoint options.
     */
    public static List<String> tinyTrain(Path run, Path model, int steps) {
        return new ArrayList<>(
                List.of(
                        "train",
                        "--out",
                        run.toString(),
                        "--threads",
                        "1",
                        "--model-config",
                        model.toString(),
                        "--batch-size",
                        "4",
                        "--seq-len",
                        "32",
                        "--steps",
                        Integer.toString(steps)));
    }
}
