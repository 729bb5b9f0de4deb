package io.github.muon4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Training and validation tokens from a source, tokenized once and cached.
 *
 * <p>Text sources are tokenized into one stream (each document followed by the end-of-text token)
 * and cached as a {@code .bin} shard in the cache directory, named after the source's identity
 * (paths, sizes, modification times), the tokenizer and the JSONL field: a changed source or
 * another tokenizer makes a new cache, an unchanged one is reused without tokenizing. Pre-tokenized
 * {@code .bin} shards (llm.c header format, or nanoGPT's headerless uint16: see {@link TokenShard})
 * are used in place; a shard that does not name its tokenizer is checked id by id against {@code
 * tok}. Without a separate validation source, the last {@code valFraction} of the tokens is held
 * out for validation (deterministic; whole documents precede it in file order).
 */
public final class DataSets {

    /** Training and validation tokens. */
    public record Pair(TokenDataset train, TokenDataset val) {}

    static final String CACHE_VERSION = "v1";

    private DataSets() {}

    /**
     * System property {@code muon4j.cache}, else {@code $MUON4J_CACHE}, else {@code
     * ~/.cache/muon4j}.
     */
    public static Path defaultCacheDir() {
        String env = System.getProperty("muon4j.cache", System.getenv("MUON4J_CACHE"));
        return env != null && !env.isBlank()
                ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "muon4j");
    }

    /**
     * As {@link #open(String, String, double, Tokenizer, Path, Consumer, String)} with the JSONL
     * field "text".
     */
    public static Pair open(
            String data,
            String valData,
            double valFraction,
            Tokenizer tok,
            Path cacheDir,
            Consumer<String> progress) {
        return open(data, valData, valFraction, tok, cacheDir, progress, "text");
    }

    /**
     * @param data a path, {@code builtin:NAME}, or null for the default built-in corpus
     * @param valData a separate validation path, or null to hold out {@code valFraction} of data
     */
    public static Pair open(
            String data,
            String valData,
            double valFraction,
            Tokenizer tok,
            Path cacheDir,
            Consumer<String> progress,
            String jsonField) {
        if (!(valFraction > 0 && valFraction < 1)) {
            throw new IllegalArgumentException("val_fraction must be in (0, 1)");
        }
        if (valData == null && data != null && Files.isDirectory(Path.of(data))) {
            Pair split = splitShardDirectory(Path.of(data), tok, progress);
            if (split != null) {
                return split;
            }
        }
        TokenDataset all = tokens(data, tok, cacheDir, progress, jsonField);
        if (valData != null) {
            return new Pair(all, tokens(valData, tok, cacheDir, progress, jsonField));
        }
        long n = all.size();
        long cut = n - Math.max(1, Math.round(n * valFraction));
        Corpus builtin = Corpus.of(data);
        if (builtin != null && builtin.holdsOutWholeDocuments()) {
            cut = documentStart(all, cut, tok.eotToken());
        }
        return new Pair(all.slice(0, cut), all.slice(cut, n));
    }

    /**
     * The start of the first document at or after {@code cut} (a position just after an end-of-text
     * token), or, when {@code cut} lies in the last document, the start of that document; {@code
     * cut} itself when the tokens hold a single document.
     */
    static long documentStart(TokenDataset all, long cut, int eot) {
        for (long i = cut; i < all.size() - 1; i++) {
            if (all.token(i - 1) == eot) {
                return i;
            }
        }
        for (long i = cut - 1; i > 0; i--) {
            if (all.token(i - 1) == eot) {
                return i;
            }
        }
        return cut;
    }

    /**
     * nanoGPT's val.bin, llm.c's fineweb_val_000000.bin: "val" as a whole word of a shard's name.
     */
    static final java.util.regex.Pattern VAL_SHARD =
            java.util.regex.Pattern.compile("(?i)(.*[_.-])?val([_.-].*)?\\.bin");

    /**
     * A directory of shards holding both validation shards (see {@link #VAL_SHARD}) and others: the
     * others train, the validation shards validate. Null when the directory is not such a mix.
     */
    static Pair splitShardDirectory(Path dir, Tokenizer tok, Consumer<String> progress) {
        List<Path> files = Documents.files(dir);
        if (!Documents.isShard(files.get(0))) {
            return null;
        }
        List<Path> val =
                files.stream()
                        .filter(f -> VAL_SHARD.matcher(f.getFileName().toString()).matches())
                        .toList();
        if (val.isEmpty() || val.size() == files.size()) {
            return null;
        }
        List<Path> train = files.stream().filter(f -> !val.contains(f)).toList();
        if (progress != null) {
            progress.accept(
                    String.format(
                            "%s: training on %d shard(s), validating on %s",
                            dir,
                            train.size(),
                            val.stream().map(f -> f.getFileName().toString()).toList()));
        }
        return new Pair(
                open(train, tok, dir.toString(), progress),
                open(val, tok, dir + " (validation shards)", progress));
    }

    /**
     * All tokens of one source: a path, {@code builtin:NAME}, or null for the default built-in
     * corpus (see {@link Corpus}).
     */
    public static TokenDataset tokens(
            String source,
            Tokenizer tok,
            Path cacheDir,
            Consumer<String> progress,
            String jsonField) {
        Corpus builtin = Corpus.of(source);
        if (builtin != null) {
            String what = Corpus.PREFIX + builtin.name();
            Path cache =
                    cacheDir.resolve(
                            "builtin-"
                                    + builtin.cacheName()
                                    + "-"
                                    + CACHE_VERSION
                                    + "-"
                                    + tok.cacheTag()
                                    + ".bin");
            if (!Files.exists(cache)) {
                tokenize(what, builtin.documents(cacheDir, progress), tok, cache, progress);
            }
            return open(List.of(cache), tok, what);
        }
        Path path = Path.of(source);
        List<Path> files = Documents.files(path);
        if (Documents.isShard(files.get(0))) {
            return open(files, tok, source, progress);
        }
        Path cache =
                cacheDir.resolve(
                        safeName(path)
                                + "-"
                                + tok.cacheTag()
                                + "-"
                                + key(files, tok, jsonField)
                                + ".bin");
        if (!Files.exists(cache)) {
            List<String> docs = new ArrayList<>();
            for (Path f : files) {
                Documents.read(f, jsonField, docs::add);
            }
            if (docs.isEmpty()) {
                throw new DataException(source + ": empty corpus (no text)");
            }
            tokenize(source, docs, tok, cache, progress);
        }
        return open(List.of(cache), tok, source);
    }

    /** Maps shards, checking that they were made with (or fit) this tokenizer. */
    static TokenDataset open(List<Path> files, Tokenizer tok, String what) {
        return open(files, tok, what, null);
    }

    /** As {@link #open(List, Tokenizer, String)}, reporting every 2 s while ids are checked. */
    static TokenDataset open(
            List<Path> files, Tokenizer tok, String what, Consumer<String> progress) {
        List<TokenShard.Mapped> shards = new ArrayList<>();
        for (Path f : files) {
            for (TokenShard.Mapped m : TokenShard.mapPieces(f)) {
                if (m.tokenizer() != null && !m.tokenizer().equals(tok.name())) {
                    throw new DataException(
                            f
                                    + ": tokenized with '"
                                    + m.tokenizer()
                                    + "', not '"
                                    + tok.name()
                                    + "' (tokenizer mismatch)");
                }
                if (m.tokenizer() == null) {
                    checkIds(m, tok, progress);
                }
                shards.add(m);
            }
        }
        TokenDataset d = TokenDataset.of(shards, tok.name(), tok.vocabSize());
        if (d.size() == 0) {
            throw new DataException(what + ": empty corpus (0 tokens)");
        }
        return d;
    }

    /**
     * A shard that does not name its tokenizer (foreign, or headerless nanoGPT): every id must fit
     * the vocabulary.
     */
    private static void checkIds(TokenShard.Mapped m, Tokenizer tok, Consumer<String> progress) {
        int vocab = tok.vocabSize();
        long last = System.nanoTime();
        for (long i = 0; i < m.count(); i++) {
            int id = m.token(i);
            if (id >= vocab) {
                String how =
                        m.headerless()
                                ? " (read as headerless nanoGPT uint16 tokens: no llm.c header; name the vocabulary it was made with by --tokenizer)"
                                : " (the shard does not name its tokenizer: name it by --tokenizer)";
                throw new DataException(
                        m.file()
                                + ": token id "
                                + id
                                + " at position "
                                + (m.first() + i)
                                + " is outside the vocabulary of '"
                                + tok.name()
                                + "' ("
                                + vocab
                                + ")"
                                + how);
            }
            if (progress != null
                    && (i & 0xFFFFF) == 0
                    && System.nanoTime() - last > 2_000_000_000L) {
                last = System.nanoTime();
                progress.accept(
                        String.format(
                                "checking the ids of %s (piece from token %,d) against %s: %d%%",
                                m.file().getFileName(),
                                m.first(),
                                tok.name(),
                                100 * i / m.count()));
            }
        }
    }

    /** Tokenizes documents in parallel (order kept) into a shard, with progress every 2 s. */
    static void tokenize(
            String what, List<String> docs, Tokenizer tok, Path cache, Consumer<String> progress) {
        long t0 = System.nanoTime(), last = t0;
        int chunk = 256;
        try (TokenShard.Writer w = new TokenShard.Writer(cache, tok.vocabSize(), tok.name())) {
            for (int i = 0; i < docs.size(); i += chunk) {
                List<int[]> encoded =
                        docs.subList(i, Math.min(docs.size(), i + chunk)).parallelStream()
                                .map(tok::encode)
                                .toList();
                for (int[] ids : encoded) {
                    w.add(ids);
                    w.add(tok.eotToken());
                }
                long now = System.nanoTime();
                if (progress != null && now - last > 2_000_000_000L) {
                    last = now;
                    progress.accept(
                            String.format(
                                    "tokenizing %s with %s: %d%%",
                                    what, tok.name(), 100L * (i + chunk) / docs.size()));
                }
            }
            w.commit();
            if (progress != null && System.nanoTime() - t0 > 2_000_000_000L) {
                progress.accept(
                        String.format(
                                "tokenized %s: %,d documents, %,d tokens (cached in %s)",
                                what, docs.size(), w.count(), cache));
            }
        } catch (IOException e) {
            throw new DataException(
                    cache + ": cannot write the token cache (" + e.getMessage() + ")");
        }
    }

    private static String safeName(Path p) {
        Path f = p.toAbsolutePath().normalize().getFileName();
        String n = f == null ? "root" : f.toString();
        return n.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** Source identity: absolute paths, sizes and modification times, tokenizer, JSONL field. */
    static String key(List<Path> files, Tokenizer tok, String jsonField) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                md.update(
                        f.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
                md.update(
                        ("|" + Files.size(f) + "|" + Files.getLastModifiedTime(f).toMillis() + "|")
                                .getBytes(StandardCharsets.UTF_8));
            }
            String id =
                    tok.cacheTag().equals(tok.name())
                            ? tok.name()
                            : tok.name() + "|" + tok.cacheTag();
            md.update(
                    (id + "|" + jsonField + "|" + CACHE_VERSION).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new DataException(files.get(0) + ": cannot stat (" + e.getMessage() + ")");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
