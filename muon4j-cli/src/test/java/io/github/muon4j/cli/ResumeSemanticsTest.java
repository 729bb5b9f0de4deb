package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every flag given with --resume is applied or refused with one line; a run without a checkpoint
 * restarts.
 */
class ResumeSemanticsTest {

    @TempDir Path dir;

    String[] train(Path out, String schedule, int steps) throws IOException {
        Path model = dir.resolve("model.json");
        if (!Files.exists(model)) {
            Files.writeString(model, "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 2}");
        }
        return new String[] {
            "train",
            "--out",
            out.toString(),
            "--threads",
            "1",
            "--model-config",
            model.toString(),
            "--batch-size",
            "2",
            "--seq-len",
            "16",
            "--steps",
            Integer.toString(steps),
            "--warmup",
            "1",
            "--schedule",
            schedule,
            "--eval-every",
            "0",
            "--eval-batches",
            "1",
            "--save-every",
            "2",
            "--samples",
            "0"
        };
    }

    static List<Double> losses(Path run) throws IOException {
        List<Double> l = new ArrayList<>();
        for (String line :
                Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.has("train_loss")) {
                l.add(o.get("train_loss").getAsDouble());
            }
        }
        return l;
    }

    static void oneLine(Cli.Outcome o, String... words) {
        assertEquals(2, o.code(), o.err());
        String err = o.err().strip();
        assertEquals(1, err.lines().count(), err);
        for (String w : words) {
            assertTrue(err.contains(w), "'" + w + "' in: " + err);
        }
    }

    @Test
    void stepsExtendAConstantOrWsdRunAndAreRefusedForCosine() throws Exception {
        Path cache = dir.resolve("cache");
        for (String schedule : new String[] {"constant", "wsd"}) {
            Path run = dir.resolve(schedule);
            assertEquals(0, Cli.run(cache, train(run, schedule, 4)).code());
            Cli.Outcome r = Cli.run(cache, "train", "--resume", run.toString(), "--steps", "6");
            assertEquals(0, r.code(), r.err());
            assertEquals(6, losses(run).size(), schedule + ": extended to 6 steps");
            assertTrue(Files.isDirectory(run.resolve("ckpt-000006")), schedule);
            assertTrue(
                    Files.readString(run.resolve("config.json")).contains("\"steps\": 6"),
                    "the run's config.json records the new length");
            if (schedule.equals("wsd")) {
                assertTrue(
                        r.err().contains("decays again"),
                        "a wsd run past its decay start says what the rate does: " + r.err());
            }
        }
        Path cos = dir.resolve("cosine");
        assertEquals(0, Cli.run(cache, train(cos, "cosine", 4)).code());
        oneLine(
                Cli.run(cache, "train", "--resume", cos.toString(), "--steps", "6"),
                "--steps",
                "cosine");
        oneLine(
                Cli.run(cache, "train", "--resume", cos.toString(), "--steps", "3"),
                "--steps",
                "already done 4");
        oneLine(
                Cli.run(cache, "train", "--resume", cos.toString(), "--lr", "0.1"),
                "--lr",
                "cannot change");
        oneLine(
                Cli.run(cache, "train", "--resume", cos.toString(), "--batch-size", "8"),
                "--batch-size");
        oneLine(
                Cli.run(
                        cache,
                        "train",
                        "--resume",
                        cos.toString(),
                        "--model-config",
                        dir.resolve("model.json").toString()),
                "--model-config");
        // an observation flag is applied: the resumed run evaluates every step (and has nothing
        // left to do here)
        Cli.Outcome ok = Cli.run(cache, "train", "--resume", cos.toString(), "--eval-every", "1");
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void aRunThatStoppedBeforeItsFirstCheckpointRestartsFromStepZero() throws Exception {
        Path cache = dir.resolve("cache");
        Path ref = dir.resolve("reference"), run = dir.resolve("run");
        assertEquals(0, Cli.run(cache, train(ref, "cosine", 4)).code());
        assertEquals(0, Cli.run(cache, train(run, "cosine", 4)).code());
        // as if it had died after config.json and two logged steps, before its first checkpoint
        try (Stream<Path> s = Files.list(run)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("ckpt-")).toList()) {
                try (Stream<Path> t = Files.walk(p)) {
                    for (Path f : t.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        }
        List<String> two = Files.readAllLines(run.resolve("metrics.jsonl")).subList(0, 3);
        Files.write(run.resolve("metrics.jsonl"), two);
        Cli.Outcome fresh = Cli.run(cache, train(run, "cosine", 4));
        assertEquals(2, fresh.code(), "a fresh start still refuses the directory: " + fresh.err());
        Cli.Outcome r = Cli.run(cache, "train", "--resume", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(
                r.err().contains("before its first checkpoint: restarting it from step 0"),
                r.err());
        assertEquals(
                losses(ref), losses(run), "the restarted run is the run its config.json describes");
    }
}
