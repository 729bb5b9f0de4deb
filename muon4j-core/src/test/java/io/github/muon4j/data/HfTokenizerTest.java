package io.github.muon4j.data;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tokenizer PATH}: tokenizer.json files written here, run through DJL's HF tokenizers,
 * give the ids of an independent computation (a dictionary look-up; a reference byte-level BPE
 * below).
 */
public class HfTokenizerTest {

    static JsonObject added(int id, String content) {
        JsonObject t = new JsonObject();
        t.addProperty("id", id);
        t.addProperty("content", content);
        t.addProperty("single_word", false);
        t.addProperty("lstrip", false);
        t.addProperty("rstrip", false);
        t.addProperty("normalized", false);
        t.addProperty("special", true);
        return t;
    }

    static JsonObject skeleton(
            JsonObject model,
            JsonObject preTokenizer,
            JsonObject decoder,
            JsonObject... addedTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("version", "1.0");
        o.add("truncation", null);
        o.add("padding", null);
        JsonArray a = new JsonArray();
        for (JsonObject t : addedTokens) {
            a.add(t);
        }
        o.add("added_tokens", a);
        o.add("normalizer", null);
        o.add("pre_tokenizer", preTokenizer);
        o.add("post_processor", null);
        o.add("decoder", decoder);
        o.add("model", model);
        return o;
    }

    /** A WordLevel model over {@code vocab} (word to id) with {@code unk} for unknown words. */
    static JsonObject wordLevel(JsonObject vocab, String unk) {
        JsonObject model = type("WordLevel");
        model.add("vocab", vocab);
        model.addProperty("unk_token", unk);
        return model;
    }

    static JsonObject type(String t) {
        JsonObject o = new JsonObject();
        o.addProperty("type", t);
        return o;
    }

    // ------------------------------------------------------------------ WordLevel

    static final String[] WORDS = {
        "[UNK]", "</s>", "the", "cat", "sat", "on", "mat", ".", ",", "a"
    };

    @Test
    void wordLevelIdsAreTheDictionaryIdsOfTheWhitespaceWords(@TempDir Path dir) throws IOException {
        JsonObject vocab = new JsonObject();
        for (int i = 0; i < WORDS.length; i++) {
            vocab.addProperty(WORDS[i], i);
        }
        JsonObject model = wordLevel(vocab, "[UNK]");
        Path f =
                Files.writeString(
                        dir.resolve("tokenizer.json"),
                        skeleton(
                                        model,
                                        type("Whitespace"),
                                        null,
                                        added(0, "[UNK]"),
                                        added(1, "</s>"))
                                .toString());

        Tokenizer t = Tokenizers.byName(f.toString());
        assertInstanceOf(HfTokenizer.class, t);
        assertEquals(f.toAbsolutePath().normalize().toString(), t.name());
        assertEquals(WORDS.length, t.vocabSize());
        assertEquals(1, t.eotToken(), "</s> is the end-of-text token");
        assertTrue(t.cacheTag().matches("hf-[0-9a-f]{12}"), t.cacheTag());

        String text = "the cat sat on the mat, a dog sat.";
        // the Whitespace pre-tokenizer splits on \w+|[^\w\s]+; unknown words are [UNK]
        List<String> words = WORDS_LIST;
        List<Integer> expect = new ArrayList<>();
        Matcher m = Pattern.compile("\\w+|[^\\w\\s]+").matcher(text);
        while (m.find()) {
            int id = words.indexOf(m.group());
            expect.add(id < 0 ? 0 : id);
        }
        assertArrayEquals(expect.stream().mapToInt(Integer::intValue).toArray(), t.encode(text));
        assertEquals(0, t.encode("dog")[0]);
        // a directory holding a tokenizer.json names it too
        assertEquals(t.name(), Tokenizers.byName(dir.toString()).name());
        assertEquals(t.name(), Tokenizers.canonicalName(dir.toString()));
        assertEquals(t.name(), Tokenizers.canonicalName(f.toString()));
        assertEquals("gpt2", Tokenizers.canonicalName("r50k_base"));
    }

    static final List<String> WORDS_LIST = List.of(WORDS);

    // ------------------------------------------------------------------ byte-level BPE

    /**
     * GPT-2's printable stand-ins for bytes: printable Latin-1 bytes map to themselves, the rest to
     * 256+n.
     */
    static char[] byteChars() {
        char[] c = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable =
                    (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            c[b] = printable ? (char) b : (char) (256 + n++);
        }
        return c;
    }

    static final String[][] MERGES = {
        {"t", "h"}, {"th", "e"}, {"\u0120", "t"}, {"\u0120t", "he"}, {"h", "e"}
    };

    /**
     * Reference BPE over one word of byte symbols: repeatedly merge the lowest-ranked adjacent
     * pair.
     */
    static List<String> bpe(List<String> symbols) {
        List<String> s = new ArrayList<>(symbols);
        while (true) {
            int best = -1, rank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < s.size(); i++) {
                for (int r = 0; r < MERGES.length; r++) {
                    if (MERGES[r][0].equals(s.get(i))
                            && MERGES[r][1].equals(s.get(i + 1))
                            && r < rank) {
                        rank = r;
                        best = i;
                    }
                }
            }
            if (best < 0) {
                return s;
            }
            s.set(best, s.get(best) + s.remove(best + 1));
        }
    }

    /**
     * Writes a byte-level BPE tokenizer.json (256 bytes, {@link #MERGES}, then end-of-text);
     * returns its vocabulary.
     */
    public static Map<String, Integer> writeByteLevelBpe(Path f) throws IOException {
        char[] bc = byteChars();
        Map<String, Integer> vocab = new java.util.LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(bc[b]), b);
        }
        JsonArray merges = new JsonArray();
        for (String[] mg : MERGES) {
            vocab.putIfAbsent(mg[0] + mg[1], vocab.size());
            merges.add(mg[0] + " " + mg[1]);
        }
        int eot = vocab.size();
        JsonObject v = new JsonObject();
        vocab.forEach(v::addProperty);
        JsonObject model = type("BPE");
        model.add("dropout", null);
        model.add("unk_token", null);
        model.add("continuing_subword_prefix", null);
        model.add("end_of_word_suffix", null);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.add("vocab", v);
        model.add("merges", merges);
        JsonObject byteLevel = type("ByteLevel");
        byteLevel.addProperty("add_prefix_space", false);
        byteLevel.addProperty("trim_offsets", true);
        byteLevel.addProperty("use_regex", false); // the whole text is one word
        Files.writeString(
                f, skeleton(model, byteLevel, byteLevel, added(eot, "<|endoftext|>")).toString());
        return vocab;
    }

    @Test
    void byteLevelBpeIdsMatchAReferenceBpe(@TempDir Path dir) throws IOException {
        char[] bc = byteChars();
        Path f = dir.resolve("bpe.json");
        Map<String, Integer> vocab = writeByteLevelBpe(f);
        int eot = vocab.size();
        Tokenizer t = Tokenizers.byName(f.toString());
        assertEquals(eot + 1, t.vocabSize());
        assertEquals(eot, t.eotToken());
        // whole inputs that are one vocabulary entry ("the", "he") go through the merges like any
        // other
        for (String text :
                new String[] {
                    "the theme of the other thing",
                    "Thé, 𝄞 and\ttabs\n",
                    "hehe the",
                    "the",
                    "he",
                    "t"
                }) {
            List<String> symbols = new ArrayList<>();
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                symbols.add(String.valueOf(bc[b & 0xff]));
            }
            int[] expect = bpe(symbols).stream().mapToInt(vocab::get).toArray();
            assertArrayEquals(expect, t.encode(text), text);
            assertEquals(text, t.decode(t.encode(text)));
        }
        // a special added token's string is that token, also when it is the whole input
        assertArrayEquals(new int[] {eot}, t.encode("<|endoftext|>"));
        assertArrayEquals(new int[] {eot, eot}, t.encode("<|endoftext|><|endoftext|>"));
        // the end-of-text token decodes to nothing
        int[] ids = t.encode("the");
        int[] withEot = java.util.Arrays.copyOf(ids, ids.length + 1);
        withEot[ids.length] = eot;
        assertEquals("the", t.decode(withEot));

        // through the data pipeline: each document, then end-of-text; cached under the digest tag
        Path txt = Files.writeString(dir.resolve("a.txt"), "the other<|endoftext|>thethe");
        TokenDataset d = DataSets.tokens(txt.toString(), t, dir.resolve("cache"), null, "text");
        int[] got = new int[(int) d.size()];
        d.read(0, got, 0, got.length);
        int[] a = t.encode("the other"), b = t.encode("thethe");
        int[] want = new int[a.length + b.length + 2];
        System.arraycopy(a, 0, want, 0, a.length);
        want[a.length] = eot;
        System.arraycopy(b, 0, want, a.length + 1, b.length);
        want[want.length - 1] = eot;
        assertArrayEquals(want, got);
        try (var s = Files.list(dir.resolve("cache"))) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().contains(t.cacheTag())));
        }

        // many documents: the pipeline encodes them on several threads; the result is the
        // sequential one
        StringBuilder jsonl = new StringBuilder();
        List<Integer> seq = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            String doc = "the " + i + " other thé " + "th".repeat(i % 7);
            jsonl.append("{\"text\": \"").append(doc).append("\"}\n");
            for (int id : t.encode(doc)) {
                seq.add(id);
            }
            seq.add(eot);
        }
        Path many = Files.writeString(dir.resolve("many.jsonl"), jsonl);
        TokenDataset md = DataSets.tokens(many.toString(), t, dir.resolve("cache"), null, "text");
        int[] mgot = new int[(int) md.size()];
        md.read(0, mgot, 0, mgot.length);
        assertArrayEquals(seq.stream().mapToInt(Integer::intValue).toArray(), mgot);
    }

    /**
     * muon4j's exported byte tokenizer.json, read back as {@code --tokenizer PATH}, gives the byte
     * tokenizer's ids, also on an input that is exactly a vocabulary entry such as {@code
     * <|endoftext|>} (plain text to muon4j: its 13 bytes).
     */
    @Test
    void exportedByteTokenizerReadsBackWithTheSameIds(@TempDir Path dir) throws IOException {
        Tokenizer bytes = new ByteTokenizer();
        Files.writeString(
                dir.resolve("tokenizer.json"),
                io.github.muon4j.interop.HfTokenizerJson.tokenizerJson(bytes));
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                io.github.muon4j.interop.HfTokenizerJson.tokenizerConfig(bytes, 64).toString());
        Tokenizer back = Tokenizers.byName(dir.toString());
        assertEquals(bytes.eotToken(), back.eotToken());
        for (String text :
                new String[] {
                    "<|endoftext|>",
                    "a<|endoftext|>",
                    "<|endoftext|>\n",
                    " ",
                    "\n\n",
                    "é",
                    "Hello, world.\n"
                }) {
            assertArrayEquals(bytes.encode(text), back.encode(text), "on the whole input: " + text);
        }
        assertEquals(13, back.encode("<|endoftext|>").length);
    }

    @Test
    void badTokenizerFilesAreNamed(@TempDir Path dir) throws IOException {
        Path notJson = Files.writeString(dir.resolve("x.json"), "not json");
        assertTrue(
                assertThrows(DataException.class, () -> Tokenizers.byName(notJson.toString()))
                        .getMessage()
                        .contains("x.json: not a tokenizer.json"));
        Path missing = dir.resolve("missing.json");
        assertTrue(
                assertThrows(DataException.class, () -> Tokenizers.byName(missing.toString()))
                        .getMessage()
                        .contains("missing.json"));
        JsonObject vocab = new JsonObject();
        vocab.addProperty("a", 0);
        JsonObject model = wordLevel(vocab, "a");
        Path noEot =
                Files.writeString(
                        dir.resolve("noeot.json"),
                        skeleton(model, type("Whitespace"), null).toString());
        String e =
                assertThrows(DataException.class, () -> Tokenizers.byName(noEot.toString()))
                        .getMessage();
        assertTrue(e.contains("noeot.json: no end-of-text token"), e);
        // a tokenizer_config.json beside it names the eos token
        Files.writeString(
                dir.resolve("tokenizer_config.json"), "{\"eos_token\": {\"content\": \"a\"}}");
        assertEquals(0, Tokenizers.byName(noEot.toString()).eotToken());
        assertThrows(IllegalArgumentException.class, () -> Tokenizers.byName("gpt3"));
    }

    /** Ids are read exactly: one beyond int range, negative or with a fraction names its token. */
    @Test
    void tokenIdsOutsideIntRangeAreRefusedNotWrapped(@TempDir Path dir) throws IOException {
        String[][] cases = {
            {"3000000000", "is 3000000000, not a whole number below 2^31"},
            {"2147483647", "is 2147483647, not from 0 to 2147483646"},
            {"-1", "is -1, not from 0 to 2147483646"},
            {"2.5", "is 2.5, not a whole number below 2^31"},
            {"\"7\"", "is \"7\", not a number"}
        };
        for (String[] c : cases) {
            JsonObject vocab = new JsonObject();
            vocab.addProperty("a", 0);
            vocab.add("b", com.google.gson.JsonParser.parseString(c[0]));
            JsonObject model = wordLevel(vocab, "a");
            Path f =
                    Files.writeString(
                            dir.resolve("tokenizer.json"),
                            skeleton(model, type("Whitespace"), null, added(0, "a")).toString());
            String e =
                    assertThrows(DataException.class, () -> Tokenizers.byName(f.toString()))
                            .getMessage();
            assertEquals(f.toAbsolutePath() + ": the id of token \"b\" " + c[1], e);
        }
    }
}
