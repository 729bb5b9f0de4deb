package io.github.muon4j.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Any Hugging Face {@code tokenizer.json} (BPE, byte-level BPE, WordPiece, WordLevel, Unigram), run
 * by the Rust {@code tokenizers} library through DJL's {@code ai.djl.huggingface:tokenizers} (its
 * jar bundles the native library, so it works offline).
 *
 * <p>The library does not report a vocabulary size or an end-of-text token, so both are read from
 * the file: the vocabulary is one past the largest id of {@code model.vocab} and {@code
 * added_tokens}; the end-of-text token is the {@code eos_token} of a {@code tokenizer_config.json}
 * beside the file, else the first special added token among the usual names ({@code <|endoftext|>},
 * {@code </s>}, {@code <|end_of_text|>}, {@code <eos>}, {@code [SEP]}, ...).
 *
 * <p>Text is encoded without the special tokens a post-processor would add ({@code [CLS]}, {@code
 * <s>}): documents are separated by the end-of-text token alone. Unlike the built-in tokenizers,
 * the string of a special added token inside the text becomes that token's id (the library matches
 * added tokens before the model runs).
 *
 * <p>{@link #name()} is the absolute path of the file (what checkpoints record, so that generate
 * and resume find it again); {@link #cacheTag()} is a digest of its contents.
 */
final class HfTokenizer implements Tokenizer {

    /** End-of-text names tried, in order, when no tokenizer_config.json names the eos token. */
    static final List<String> EOT_NAMES =
            List.of(
                    "<|endoftext|>",
                    "<|end_of_text|>",
                    "</s>",
                    "<eos>",
                    "<|eot_id|>",
                    "<|im_end|>",
                    "[EOS]",
                    "<|end|>",
                    "[SEP]");

    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final int vocab;
    private final int eot;
    private final String digest;

    private HfTokenizer(Path file, HuggingFaceTokenizer hf, int vocab, int eot, String digest) {
        this.file = file;
        this.hf = hf;
        this.vocab = vocab;
        this.eot = eot;
        this.digest = digest;
    }

    /** Loads {@code path}: a tokenizer.json, or a directory holding one. */
    public static HfTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        file = file.toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new DataException(path + ": no tokenizer.json here");
        }
        byte[] bytes;
        JsonObject root;
        try {
            bytes = Files.readAllBytes(file);
            root =
                    JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8))
                            .getAsJsonObject();
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")");
        } catch (JsonParseException | IllegalStateException e) {
            throw new DataException(file + ": not a tokenizer.json (not a JSON object)");
        }
        if (!root.has("model") || !root.get("model").isJsonObject()) {
            throw new DataException(file + ": not a tokenizer.json (no \"model\" object)");
        }
        int vocab, eot;
        try {
            vocab = vocabSize(file, root);
            eot = eotToken(file, root);
        } catch (DataException e) {
            throw e;
        } catch (RuntimeException e) { // a vocabulary or added token of the wrong shape
            throw new DataException(
                    file
                            + ": not a tokenizer.json (a vocabulary entry or added token is missing a field or has the wrong type)");
        }
        HuggingFaceTokenizer hf;
        try {
            hf =
                    HuggingFaceTokenizer.newInstance(
                            file,
                            Map.of(
                                    "addSpecialTokens",
                                    "false",
                                    "truncation",
                                    "false",
                                    "padding",
                                    "false"));
        } catch (IOException | RuntimeException e) {
            throw new DataException(
                    file + ": the tokenizers library refused it (" + e.getMessage() + ")");
        }
        return new HfTokenizer(file, hf, vocab, eot, sha256(bytes).substring(0, 12));
    }

    /** One past the largest id of the model's vocabulary and of the added tokens. */
    static int vocabSize(Path file, JsonObject root) {
        int max = -1;
        JsonElement v = root.getAsJsonObject("model").get("vocab");
        if (v != null && v.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
                max = Math.max(max, id(file, e.getKey(), e.getValue()));
            }
        } else if (v != null && v.isJsonArray()) {
            max = v.getAsJsonArray().size() - 1; // Unigram: [piece, score] pairs, id = position
        }
        for (JsonObject t : addedTokens(root)) {
            max = Math.max(max, id(file, t.get("content").getAsString(), t.get("id")));
        }
        if (max < 0) {
            throw new DataException(file + ": not a tokenizer.json (empty vocabulary)");
        }
        return max + 1;
    }

    /**
     * A token id: a whole number from 0 to 2^31 - 2 (the vocabulary size, one past the largest id,
     * must be an int too), read exactly rather than wrapped or cut.
     */
    private static int id(Path file, String token, JsonElement v) {
        try {
            return JsonInts.exact(v, 0, Integer.MAX_VALUE - 1);
        } catch (IllegalArgumentException e) {
            throw new DataException(file + ": the id of token \"" + token + "\" " + e.getMessage());
        }
    }

    static List<JsonObject> addedTokens(JsonObject root) {
        JsonElement a = root.get("added_tokens");
        if (a == null || !a.isJsonArray()) {
            return List.of();
        }
        JsonArray arr = a.getAsJsonArray();
        return arr.asList().stream()
                .filter(JsonElement::isJsonObject)
                .map(JsonElement::getAsJsonObject)
                .toList();
    }

    static int eotToken(Path file, JsonObject root) {
        String named = eosFromConfig(file.resolveSibling("tokenizer_config.json"));
        for (JsonObject t : addedTokens(root)) {
            if (named != null && named.equals(t.get("content").getAsString())) {
                return t.get("id").getAsInt();
            }
        }
        if (named != null) {
            JsonElement v = root.getAsJsonObject("model").get("vocab");
            if (v != null && v.isJsonObject() && v.getAsJsonObject().has(named)) {
                return v.getAsJsonObject().get(named).getAsInt();
            }
        }
        for (String name : EOT_NAMES) {
            for (JsonObject t : addedTokens(root)) {
                if (name.equals(t.get("content").getAsString())) {
                    return t.get("id").getAsInt();
                }
            }
        }
        throw new DataException(
                file
                        + ": no end-of-text token (no eos_token in a tokenizer_config.json beside it, and no added token named "
                        + String.join(", ", EOT_NAMES)
                        + ")");
    }

    /**
     * The eos_token of a tokenizer_config.json (a string, or an object with "content"), else null.
     */
    static String eosFromConfig(Path config) {
        if (!Files.isRegularFile(config)) {
            return null;
        }
        try {
            JsonElement e =
                    JsonParser.parseString(Files.readString(config))
                            .getAsJsonObject()
                            .get("eos_token");
            if (e == null || e.isJsonNull()) {
                return null;
            }
            return e.isJsonObject()
                    ? e.getAsJsonObject().get("content").getAsString()
                    : e.getAsString();
        } catch (IOException | RuntimeException ex) {
            throw new DataException(
                    config + ": unreadable tokenizer_config.json (" + ex.getMessage() + ")");
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The absolute path of the tokenizer.json. */
    @Override
    public String name() {
        return file.toString();
    }

    /** "hf-" and the first 12 hex digits of the file's SHA-256. */
    @Override
    public String cacheTag() {
        return "hf-" + digest;
    }

    public Path file() {
        return file;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int eotToken() {
        return eot;
    }

    @Override
    public int[] encode(String text) {
        Encoding e = hf.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return hf.decode(l, true);
    }
}
