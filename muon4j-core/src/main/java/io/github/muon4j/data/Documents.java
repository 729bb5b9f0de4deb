package io.github.muon4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Reads users' text as documents: a text file or a directory of {@code .txt} files ({@code .gz}
 * read transparently; TinyStories-style {@code <|endoftext|>} separators split a file into
 * documents), or JSONL with a text field, one document per line.
 */
public final class Documents {

    /** The separator of TinyStories-style text files. */
    public static final String EOT_MARKER = "<|endoftext|>";

    private Documents() {}

    /** True for names that hold pre-tokenized shards. */
    static boolean isShard(Path p) {
        return p.getFileName().toString().endsWith(".bin");
    }

    static boolean isText(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".txt")
                || n.endsWith(".txt.gz")
                || n.endsWith(".jsonl")
                || n.endsWith(".jsonl.gz")
                || n.endsWith(".text");
    }

    /**
     * The files a path stands for, sorted: the file itself, or a directory's {@code .bin} shards if
     * it has any (text files beside them are ignored), else its text files.
     */
    static List<Path> files(Path path) {
        if (!Files.exists(path)) {
            throw new DataException(path + ": no such file or directory");
        }
        if (!Files.isReadable(path)) {
            throw new DataException(path + ": not readable");
        }
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(path)) {
            s.filter(Files::isRegularFile)
                    .filter(p -> isText(p) || isShard(p))
                    .sorted()
                    .forEach(out::add);
        } catch (IOException e) {
            throw new DataException(path + ": cannot list (" + e.getMessage() + ")");
        }
        if (out.isEmpty()) {
            throw new DataException(path + ": no .txt, .jsonl or .bin files in this directory");
        }
        // shards win: nanoGPT's data/shakespeare holds input.txt beside the train.bin/val.bin made
        // from it
        List<Path> shards = out.stream().filter(Documents::isShard).toList();
        return shards.isEmpty() ? out : shards;
    }

    /** Passes each document of a text or JSONL file to {@code sink}. */
    static void read(Path file, String jsonField, Consumer<String> sink) {
        String name = file.getFileName().toString();
        boolean jsonl = name.endsWith(".jsonl") || name.endsWith(".jsonl.gz");
        try (BufferedReader r = reader(file)) {
            if (jsonl) {
                readJsonl(file, r, jsonField, sink);
            } else {
                StringBuilder all = new StringBuilder();
                char[] buf = new char[1 << 16];
                for (int n; (n = r.read(buf)) > 0; ) {
                    all.append(buf, 0, n);
                }
                for (String doc : all.toString().split(java.util.regex.Pattern.quote(EOT_MARKER))) {
                    String d = doc.strip();
                    if (!d.isEmpty()) {
                        sink.accept(d);
                    }
                }
            }
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static void readJsonl(Path file, BufferedReader r, String field, Consumer<String> sink)
            throws IOException {
        int lineNo = 0;
        for (String line; (line = r.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonElement e;
            try {
                e = JsonParser.parseString(line);
            } catch (JsonParseException ex) {
                throw new DataException(file + ":" + lineNo + ": not valid JSON");
            }
            if (!e.isJsonObject()) {
                throw new DataException(file + ":" + lineNo + ": expected a JSON object");
            }
            JsonObject o = e.getAsJsonObject();
            if (!o.has(field) || !o.get(field).isJsonPrimitive()) {
                throw new DataException(file + ":" + lineNo + ": no text field '" + field + "'");
            }
            String text = o.get(field).getAsString();
            if (!text.isBlank()) {
                sink.accept(text);
            }
        }
    }

    static BufferedReader reader(Path file) throws IOException {
        InputStream in = Files.newInputStream(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return reader(in);
    }

    /** UTF-8 with malformed input replaced, never an exception mid-corpus. */
    static BufferedReader reader(InputStream in) {
        var dec =
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPLACE)
                        .onUnmappableCharacter(CodingErrorAction.REPLACE);
        return new BufferedReader(new InputStreamReader(in, dec), 1 << 16);
    }
}
