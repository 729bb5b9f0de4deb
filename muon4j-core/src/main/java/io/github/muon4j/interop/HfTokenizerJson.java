package io.github.muon4j.interop;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.github.muon4j.data.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (the {@code tokenizers} library's format) for muon4j's
 * built-in tokenizers, giving the same ids on any text:
 *
 * <ul>
 *   <li>{@code gpt2} (r50k_base) and {@code cl100k}: byte-level BPE. The vocabulary is tiktoken's
 *       ranks (shipped by jtokkit) with each byte mapped to a printable character (GPT-2's
 *       bytes-to-unicode table). tiktoken has ranks, not merges: the merge that creates the token
 *       of rank r is found by running BPE on the token's bytes with only the ranks below r, which
 *       ends in exactly two parts; merges are listed by rank, so HF's merge priority (list order)
 *       is tiktoken's (lowest rank first). {@code ignore_merges} makes a pre-token that is itself a
 *       token map to it directly, as tiktoken does. Pre-tokenization is laid out as Llama 3's own
 *       {@code tokenizer.json}: {@code Sequence[Split(pattern, Isolated), ByteLevel(use_regex:
 *       false)]}, with GPT-2's pattern for r50k and the cl100k pattern for cl100k.
 *   <li>{@code byte}: the 256 byte characters as ids 0..255, no merges, {@code ignore_merges:
 *       false} and {@code Sequence[ByteLevel(use_regex: false)]}: the whole input is one pre-token
 *       that is always split into its bytes, even when it is exactly {@code <|endoftext|>} (with
 *       {@code ignore_merges: true} that input would be looked up whole and become id 256).
 * </ul>
 *
 * The end-of-text token {@code <|endoftext|>} is an ordinary vocabulary entry, not an added
 * (special) token: muon4j encodes that string as plain text, and so does this tokenizer.
 *
 * <p>Engines that apply the byte-to-character mapping only when {@code ByteLevel} sits inside a
 * {@code Sequence} read this layout too: every pre-tokenizer written here is a {@code Sequence}.
 */
public final class HfTokenizerJson {

    public static final String EOT = "<|endoftext|>";

    /**
     * GPT-2's pre-tokenizer pattern: the one the ByteLevel pre-tokenizer applies with {@code
     * use_regex: true}.
     */
    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    static final String CL100K_PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private HfTokenizerJson() {}

    /** GPT-2's reversible byte -> printable character table. */
    public static char[] byteToUnicode() {
        char[] table = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = 0; b < 256; b++) {
            direct[b] =
                    (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            table[b] = direct[b] ? (char) b : (char) (256 + n++);
        }
        return table;
    }

    /** Bytes as one character each (ISO-8859-1), so byte strings can be map keys. */
    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String latin1, char[] table) {
        StringBuilder sb = new StringBuilder(latin1.length());
        for (int i = 0; i < latin1.length(); i++) {
            sb.append(table[latin1.charAt(i)]);
        }
        return sb.toString();
    }

    /**
     * tiktoken ranks of jtokkit's {@code r50k_base} or {@code cl100k_base}, keyed by Latin-1 bytes.
     */
    static Map<String, Integer> ranks(String encoding) {
        String res = "/com/knuddels/jtokkit/" + encoding + ".tiktoken";
        Map<String, Integer> ranks = new HashMap<>();
        try (InputStream in = HfTokenizerJson.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalStateException("jtokkit resource " + res + " not found");
            }
            BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                int sp = line.indexOf(' ');
                ranks.put(
                        latin1(Base64.getDecoder().decode(line.substring(0, sp))),
                        Integer.parseInt(line.substring(sp + 1).trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ranks;
    }

    /**
     * The two parts that merge into {@code token} (rank {@code rank}): byte-level BPE over the
     * token's bytes with only ranks below {@code rank}.
     */
    static String[] mergeOf(String token, int rank, Map<String, Integer> ranks) {
        List<String> parts = new ArrayList<>(token.length());
        for (int i = 0; i < token.length(); i++) {
            parts.add(token.substring(i, i + 1));
        }
        while (true) {
            int best = -1;
            int bestRank = rank;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
        if (parts.size() != 2) {
            throw new IllegalStateException(
                    "token of rank " + rank + " does not split into one merge");
        }
        return new String[] {parts.get(0), parts.get(1)};
    }

    private static final Map<String, String> BUILT = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * {@code tokenizer.json} for a built-in tokenizer ({@code byte}, {@code gpt2}, {@code cl100k}).
     */
    public static String tokenizerJson(Tokenizer tok) throws IOException {
        String name = tok.name();
        String built = BUILT.get(name);
        if (built != null) {
            return built;
        }
        if (!name.equals("byte") && !name.equals("gpt2") && !name.equals("cl100k")) {
            Path file = Path.of(name);
            if (Files.isRegularFile(file)) {
                return Files.readString(file); // a tokenizer.json given by path: copied as it is
            }
            throw new IllegalArgumentException(
                    "tokenizer '" + name + "' cannot be written as tokenizer.json");
        }
        char[] table = byteToUnicode();
        JsonObject vocab = new JsonObject();
        JsonArray merges = new JsonArray();
        if (name.equals("byte")) {
            for (int b = 0; b < 256; b++) {
                vocab.addProperty(String.valueOf(table[b]), b);
            }
            vocab.addProperty(EOT, tok.eotToken());
        } else {
            Map<String, Integer> ranks = ranks(name.equals("gpt2") ? "r50k_base" : "cl100k_base");
            String[] byRank = new String[ranks.size()];
            for (Map.Entry<String, Integer> e : ranks.entrySet()) {
                byRank[e.getValue()] = e.getKey();
            }
            for (int r = 0; r < byRank.length; r++) {
                vocab.addProperty(printable(byRank[r], table), r);
                if (byRank[r].length() >= 2) {
                    String[] m = mergeOf(byRank[r], r, ranks);
                    merges.add(printable(m[0], table) + " " + printable(m[1], table));
                }
            }
            vocab.addProperty(EOT, tok.eotToken());
            if (name.equals("cl100k")) {
                vocab.addProperty("<|fim_prefix|>", 100258);
                vocab.addProperty("<|fim_middle|>", 100259);
                vocab.addProperty("<|fim_suffix|>", 100260);
                vocab.addProperty("<|endofprompt|>", 100276);
            }
        }
        JsonObject o = new JsonObject();
        o.addProperty("version", "1.0");
        o.add("truncation", JsonNull.INSTANCE);
        o.add("padding", JsonNull.INSTANCE);
        o.add("added_tokens", new JsonArray());
        o.add("normalizer", JsonNull.INSTANCE);
        o.add("pre_tokenizer", preTokenizer(name));
        o.add("post_processor", JsonNull.INSTANCE);
        JsonObject decoder = byteLevel(true);
        o.add("decoder", decoder);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        // byte: no merges, so every pre-token must split into its bytes (never a whole-word lookup)
        model.addProperty("ignore_merges", !name.equals("byte"));
        model.add("vocab", vocab);
        model.add("merges", merges);
        o.add("model", model);
        String json = new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(o);
        BUILT.put(name, json); // built once per JVM: deriving cl100k's merges takes a few seconds
        return json;
    }

    private static JsonObject byteLevel(boolean useRegex) {
        JsonObject b = new JsonObject();
        b.addProperty("type", "ByteLevel");
        b.addProperty("add_prefix_space", false);
        b.addProperty("trim_offsets", true);
        b.addProperty("use_regex", useRegex);
        return b;
    }

    /**
     * {@code Sequence[Split(pattern, Isolated), ByteLevel(use_regex: false)]}, or {@code
     * Sequence[ByteLevel]} for bytes.
     */
    private static JsonObject preTokenizer(String name) {
        JsonArray seq = new JsonArray();
        if (!name.equals("byte")) {
            JsonObject split = new JsonObject();
            split.addProperty("type", "Split");
            JsonObject pattern = new JsonObject();
            pattern.addProperty("Regex", name.equals("gpt2") ? GPT2_PATTERN : CL100K_PATTERN);
            split.add("pattern", pattern);
            split.addProperty("behavior", "Isolated");
            split.addProperty("invert", false);
            seq.add(split);
        }
        seq.add(byteLevel(false));
        JsonObject s = new JsonObject();
        s.addProperty("type", "Sequence");
        s.add("pretokenizers", seq);
        return s;
    }

    /**
     * {@code tokenizer_config.json} text: for a built-in tokenizer {@link #tokenizerConfig}; for a
     * tokenizer.json given by path, the tokenizer_config.json beside it when there is one (it names
     * the end-of-text token), else a plain fast-tokenizer config.
     */
    public static String tokenizerConfigText(Tokenizer tok, int contextLength) throws IOException {
        var gson =
                new GsonBuilder()
                        .setPrettyPrinting()
                        .serializeNulls()
                        .disableHtmlEscaping()
                        .create();
        if (io.github.muon4j.data.Tokenizers.isBuiltin(tok.name())) {
            return gson.toJson(tokenizerConfig(tok, contextLength));
        }
        Path beside = Path.of(tok.name()).resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(beside)) {
            return Files.readString(beside);
        }
        JsonObject o = new JsonObject();
        o.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        o.addProperty("clean_up_tokenization_spaces", false);
        o.addProperty("model_max_length", contextLength);
        return gson.toJson(o);
    }

    /** {@code tokenizer_config.json}: a fast tokenizer with no BOS/EOS added. */
    public static JsonObject tokenizerConfig(Tokenizer tok, int contextLength) {
        JsonObject o = new JsonObject();
        o.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        o.addProperty("bos_token", EOT);
        o.addProperty("eos_token", EOT);
        o.add("pad_token", JsonNull.INSTANCE);
        o.add("unk_token", JsonNull.INSTANCE);
        o.addProperty("add_bos_token", false);
        o.addProperty("add_eos_token", false);
        o.addProperty("clean_up_tokenization_spaces", false);
        o.addProperty("model_max_length", contextLength);
        o.addProperty("muon4j_tokenizer", tok.name());
        return o;
    }
}
