package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.bench.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * eval, export and generate on a checkpoint, each in its own JVM (PyTorch's C++ warnings go to the
 * process's stderr, past System.err): stderr holds muon4j's own lines only.
 */
class QuietStderrTest {

    @TempDir Path dir;

    record Child(int code, String out, String err) {}

    Child run(String... args) throws Exception {
        List<String> mainAndArgs = new ArrayList<>(List.of(ChildJvm.CLI));
        mainAndArgs.addAll(List.of(args));
        List<String> c =
                ChildJvm.command(List.of("-Dmuon4j.cache=" + dir.resolve("cache")), mainAndArgs);
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p =
                new ProcessBuilder(c)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "ends");
        return new Child(
                p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    static void onlyOwnLines(String what, String err) {
        for (String line : err.split("\n")) {
            assertTrue(
                    line.isBlank() || line.startsWith("muon4j: "),
                    what + " printed a foreign line on stderr: " + line);
        }
    }

    @Test
    void evalExportAndGenerateKeepStderrToMuon4jsOwnLines() throws Exception {
        Path model = ChildJvm.writeTinyModel(dir);
        Path run = dir.resolve("run");
        Cli.Outcome t =
                Cli.run(
                        dir.resolve("cache"),
                        "train",
                        "--out",
                        run.toString(),
                        "--threads",
                        "1",
                        "--model-config",
                        model.toString(),
                        "--batch-size",
                        "2",
                        "--seq-len",
                        "16",
                        "--steps",
                        "2",
                        "--warmup",
                        "1",
                        "--eval-batches",
                        "1",
                        "--samples",
                        "0");
        assertEquals(0, t.code(), t.err());

        Child e = run("eval", "--checkpoint", run.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        onlyOwnLines("eval", e.err());

        Child x =
                run(
                        "export",
                        "--checkpoint",
                        run.toString(),
                        "--out",
                        dir.resolve("hf").toString());
        assertEquals(0, x.code(), x.err());
        onlyOwnLines("export", x.err());

        Child g =
                run(
                        "generate",
                        "--checkpoint",
                        run.toString(),
                        "--prompt",
                        "The ",
                        "--max-tokens",
                        "6",
                        "--temperature",
                        "0",
                        "--json");
        assertEquals(0, g.code(), g.err());
        onlyOwnLines("generate", g.err());
        String[] lines = g.out().strip().split("\n");
        JsonObject o = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        JsonArray ids = o.getAsJsonArray("ids");
        assertEquals(o.get("tokens").getAsInt(), ids.size(), "one id per generated token");
        for (var id : ids) {
            assertTrue(id.getAsInt() >= 0 && id.getAsInt() < 257, "a byte-tokenizer id");
        }
        assertTrue(o.has("text") && o.has("prompt_ids"), o.toString());
        assertEquals(
                List.of(84, 104, 101, 32),
                o.getAsJsonArray("prompt_ids").asList().stream().map(j -> j.getAsInt()).toList(),
                "the prompt's byte ids");
    }
}
