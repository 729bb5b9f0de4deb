package io.github.muon4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * A named built-in corpus, found on the classpath with {@link ServiceLoader} (register an
 * implementation in {@code META-INF/services/io.github.muon4j.data.Corpus}). A data source spelled
 * {@code builtin:NAME} reads it, and no data source at all reads {@link #DEFAULT}. The core library
 * ships none: the command-line artifact carries {@code europarl} and {@code prose}.
 */
public interface Corpus {

    /** The prefix of a data source that names a built-in corpus. */
    String PREFIX = "builtin:";

    /** The corpus of a run that names no data. */
    String DEFAULT = "europarl";

    /** The name after {@link #PREFIX}. */
    String name();

    /** One line: what the text is and how big. */
    String description();

    /**
     * A file-name stem for the token cache; it changes whenever {@link #documents} would change.
     */
    String cacheName();

    /**
     * The documents, in a fixed order; the held-out part is taken from the end.
     *
     * @param cacheDir where a corpus that is fetched keeps its text
     * @param progress one line per slow step (a download), or null
     */
    List<String> documents(Path cacheDir, Consumer<String> progress);

    /**
     * True when the held-out part starts at a document start, so that no document is split between
     * training and validation. Europarl answers false: its held-out part is the last tokens, as it
     * was before corpora were pluggable, so that the default run reads the same tokens.
     */
    default boolean holdsOutWholeDocuments() {
        return true;
    }

    /** The corpora on the classpath, by name. */
    static List<Corpus> available() {
        List<Corpus> all = new ArrayList<>();
        ServiceLoader.load(Corpus.class).forEach(all::add);
        all.sort(Comparator.comparing(Corpus::name));
        return all;
    }

    /**
     * The built-in corpus a data source names ({@code builtin:NAME}, or null for the default); null
     * for a path.
     */
    static Corpus of(String source) {
        if (source != null && !source.startsWith(PREFIX)) {
            return null;
        }
        String name = source == null ? DEFAULT : source.substring(PREFIX.length());
        List<Corpus> all = available();
        if (all.isEmpty()) {
            throw new DataException(
                    (source == null ? "no --data given" : source)
                            + ": no built-in corpus on the classpath (muon4j-core carries none): pass a file or directory");
        }
        return all.stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new DataException(
                                        (source == null ? "no --data given" : source)
                                                + ": no such built-in corpus (available: "
                                                + String.join(
                                                        ", ",
                                                        all.stream()
                                                                .map(c -> PREFIX + c.name())
                                                                .toList())
                                                + ")"));
    }
}
