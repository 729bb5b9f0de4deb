package io.github.muon4j.train;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per logged step, flushed line by line; the same numbers go
 * to a TensorBoard event file beside it ({@link TensorBoardWriter}).
 */
public final class Metrics implements AutoCloseable {

    private static final Gson GSON = new Gson();
    private final Path file;
    private final BufferedWriter out;
    private final TensorBoardWriter tensorBoard;

    private Metrics(Path file, BufferedWriter out, TensorBoardWriter tensorBoard) {
        this.file = file;
        this.out = out;
        this.tensorBoard = tensorBoard;
    }

    /**
     * Starts a new file, or (resume) keeps the records up to {@code keepThroughStep} and appends.
     */
    public static Metrics open(Path file, int keepThroughStep) throws IOException {
        if (keepThroughStep >= 0 && Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                try {
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    if (o.get("step").getAsInt() <= keepThroughStep) {
                        kept.add(line);
                    }
                } catch (RuntimeException partialLine) {
                    // a line cut short by a crash: dropped
                }
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, kept, StandardCharsets.UTF_8);
            Files.move(
                    tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.deleteIfExists(file);
        }
        BufferedWriter w =
                Files.newBufferedWriter(
                        file,
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
        Path dir = file.toAbsolutePath().getParent();
        return new Metrics(
                file,
                w,
                TensorBoardWriter.open(dir, keepThroughStep >= 0 ? keepThroughStep + 1 : -1));
    }

    public void log(JsonObject record) {
        try {
            out.write(GSON.toJson(record));
            out.write('\n');
            out.flush();
            tensorBoard.log(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All records of a metrics file. */
    public static List<JsonObject> read(Path file) throws IOException {
        List<JsonObject> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        return out;
    }

    public Path file() {
        return file;
    }

    /** The TensorBoard event file written beside it. */
    public Path tensorBoardFile() {
        return tensorBoard.file();
    }

    @Override
    public void close() throws IOException {
        out.close();
        tensorBoard.close();
    }
}
