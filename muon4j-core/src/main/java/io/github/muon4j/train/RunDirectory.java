package io.github.muon4j.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.model.ModelConfig;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * A run directory on disk: {@code config.json} (the run's settings, model and tokenizer), {@code
 * run.lock}, {@code metrics.jsonl} and the checkpoints. What a fresh start refuses, what a resume
 * reads back.
 */
final class RunDirectory {

    private RunDirectory() {}

    static final String CONFIG = "config.json";

    /** {@code runs/<command>-<time>}. */
    static String defaultOut(String command) {
        return "runs/"
                + command
                + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    /** A fresh run must not overwrite another one. */
    static void refuseExistingRun(Path out) throws IOException {
        if (Files.exists(out.resolve(CONFIG)) || !Checkpoint.list(out).isEmpty()) {
            throw new IllegalArgumentException(
                    "--out "
                            + out
                            + " already holds a run: use --resume "
                            + out
                            + " to continue it, or another --out");
        }
    }

    /**
     * Whether {@code dir} is a run that wrote its {@code config.json} and stopped before its first
     * checkpoint.
     */
    static boolean startedWithoutCheckpoint(Path dir) throws IOException {
        return Files.isRegularFile(dir.resolve(CONFIG)) && Checkpoint.list(dir).isEmpty();
    }

    /**
     * Takes the directory's lock; a directory that cannot be created is bad input naming {@code
     * --out}.
     */
    static RunLock lock(Path out) throws IOException {
        try {
            return RunLock.acquire(out);
        } catch (FileSystemException e) {
            String why =
                    e.getReason() != null
                            ? e.getReason()
                            : e instanceof AccessDeniedException
                                    ? "permission denied"
                                    : "cannot write there";
            throw new IllegalArgumentException(
                    "--out " + out + ": cannot create the run directory (" + why + ")");
        }
    }

    static String configJson(TrainConfig c, ModelConfig mc, Tokenizer tok) {
        JsonObject o = new JsonObject();
        o.add("train", JsonParser.parseString(c.toJson()));
        o.add("model", JsonParser.parseString(mc.toJson()));
        o.addProperty("tokenizer", tok.name());
        o.addProperty("vocab_size", tok.vocabSize());
        return new GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * What a {@code config.json} holds; a missing or ill-typed field is bad input naming {@code
     * where}.
     */
    record Saved(TrainConfig train, ModelConfig model, String tokenizer) {

        /** The config.json of a checkpoint. */
        static Saved of(Checkpoint ck) {
            return parse(
                    ck.partText(CONFIG),
                    "checkpoint " + ck.dir() + ": config.json ",
                    ck.dir() + "/" + CONFIG);
        }

        /** The config.json of a run directory. */
        static Saved of(Path runDir) throws IOException {
            Path f = runDir.resolve(CONFIG);
            String text;
            try {
                text = Files.readString(f);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(f + ": cannot be read as UTF-8 text");
            }
            return parse(text, f + " ", f.toString());
        }

        private static Saved parse(String text, String where, String file) {
            JsonObject o;
            try {
                o = JsonParser.parseString(text).getAsJsonObject();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "is not a JSON object");
            }
            if (!(o.get("train") instanceof JsonObject t)
                    || !(o.get("model") instanceof JsonObject m)
                    || o.get("tokenizer") == null
                    || !o.get("tokenizer").isJsonPrimitive()) {
                throw new IllegalArgumentException(where + "lacks 'train', 'model' or 'tokenizer'");
            }
            TrainConfig tc;
            try {
                tc = TrainConfig.fromJson(t.toString(), file);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        oneLine(e.getMessage())); // keys from the file may hold line breaks
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "'train' has a field of the wrong type");
            }
            ModelConfig mc;
            try {
                mc = ModelConfig.fromJson(m.toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + oneLine(e.getMessage()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "'model' has a field of the wrong type");
            }
            return new Saved(tc, mc, o.get("tokenizer").getAsString());
        }

        private static String oneLine(String s) {
            return s == null ? "" : s.replaceAll("\\p{Cntrl}+", " ");
        }
    }
}
