package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported tokenizer.json gives muon4j's ids: read by the Hugging Face tokenizers library
 * itself (Rust, through DJL) and by the independent Python BPE of scripts/hf_forward.py.
 */
class HfTokenizerJsonTest {

    /** Texts that exercise the pre-tokenizer regexes, merges, bytes and special strings. */
    static List<String> texts() {
        List<String> t =
                new ArrayList<>(
                        List.of(
                                "The Commission's proposal wasn't adopted; they'll vote again in 2026.",
                                "  leading spaces, trailing spaces   \n\n\tand tabs\r\nCRLF lines\r\n\r\n",
                                "Numbers: 1 12 123 1234 12345 3.14159 -42 1e-9 0x7fff",
                                "UTF-8: naïve café, Zürich, Ελληνικά, русский, 日本語のテキスト, 한국어, עברית, العربية",
                                "Emoji 👩‍💻🚀🇪🇺 and symbols ©®™ ∑∫√ — “quotes” ‘single’ … «guillemets»",
                                "code: for (int i = 0; i < n; i++) { x[i] += y[i] * 2; } // done\n    return x;",
                                "I'M SHOUTING, YOU'RE LOUD, HE'D SAY, WE'VE SEEN, IT'S 'QUOTED'",
                                "<|endoftext|> is plain text to muon4j, as are <|fim_prefix|> and <s></s>",
                                "a",
                                " ",
                                "\n",
                                "",
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                "          many            spaces                 "));
        Random r = new Random(5); // random code points, including rare scripts and controls
        for (int k = 0; k < 4; k++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 300; i++) {
                int cp = r.nextInt(10) < 6 ? 32 + r.nextInt(95) : r.nextInt(0x2FFFF);
                if (Character.isValidCodePoint(cp) && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                    sb.appendCodePoint(cp);
                }
            }
            t.add(sb.toString());
        }
        return t;
    }

    /**
     * Inputs that are exactly one vocabulary entry or special string: a BPE model that looks such a
     * word up whole ({@code ignore_merges}) would give one id where muon4j gives several.
     */
    static List<String> wholeInputs() {
        return List.of(
                HfTokenizerJson.EOT,
                "<|fim_prefix|>",
                "<|endofprompt|>",
                "<s>",
                "</s>",
                "the",
                " the",
                "Commission",
                "\u0120",
                "\u00e9",
                "ab",
                "<|endoftext|><|endoftext|>");
    }

    private static long[] toLong(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }

    @Test
    void huggingFaceTokenizersGivesMuon4jIds(@TempDir Path dir) throws Exception {
        for (String name : new String[] {"byte", "gpt2", "cl100k"}) {
            Tokenizer tok = Tokenizers.byName(name);
            Path f = dir.resolve(name + ".json");
            Files.writeString(f, HfTokenizerJson.tokenizerJson(tok));
            int n = 0;
            try (HuggingFaceTokenizer hf =
                    HuggingFaceTokenizer.builder()
                            .optTokenizerPath(f)
                            .optAddSpecialTokens(false)
                            .optTruncation(false)
                            .optPadding(false)
                            .build()) {
                for (String text : texts()) {
                    int[] want = tok.encode(text);
                    Encoding e = hf.encode(text, false, false);
                    assertArrayEquals(toLong(want), e.getIds(), name + " on: " + text);
                    assertEquals(
                            tok.decode(want),
                            hf.decode(e.getIds(), false),
                            name + " decode of: " + text);
                    n += want.length;
                }
                for (String text : wholeInputs()) {
                    assertArrayEquals(
                            toLong(tok.encode(text)),
                            hf.encode(text, false, false).getIds(),
                            name + " on the whole input: " + text);
                }
                long[] eot = {tok.eotToken()};
                assertEquals(HfTokenizerJson.EOT, hf.decode(eot, false), name + " end-of-text id");
            }
            System.out.printf(
                    "tokenizer %s: HF tokenizers (DJL) = muon4j on %d texts, %d tokens%n",
                    name, texts().size(), n);
        }
    }

    @Test
    void independentPythonBpeGivesMuon4jIds(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(
                Python.available(), "needs python3 with the regex module (scripts/hf_forward.py)");
        for (String name : new String[] {"byte", "gpt2", "cl100k"}) {
            Tokenizer tok = Tokenizers.byName(name);
            Path d = dir.resolve(name);
            Files.createDirectories(d);
            Files.writeString(d.resolve("tokenizer.json"), HfTokenizerJson.tokenizerJson(tok));
            String all = String.join("\u2029", texts()); // one file, one Python start
            Path txt = d.resolve("text.txt");
            Files.writeString(txt, all);
            JsonArray got =
                    Python.run("encode", d.toString(), txt.toString()).getAsJsonArray("ids");
            int[] want = tok.encode(all);
            int[] g = new int[got.size()];
            for (int i = 0; i < g.length; i++) {
                g[i] = got.get(i).getAsInt();
            }
            assertArrayEquals(want, g, name);
            System.out.printf(
                    "tokenizer %s: Python BPE over tokenizer.json = muon4j on %d tokens%n",
                    name, want.length);
        }
    }

    /**
     * Llama 3's layout: every pre-tokenizer a Sequence ending in ByteLevel without its regex; bytes
     * never merge whole.
     */
    @Test
    void layoutIsLlama3s() throws Exception {
        for (String name : new String[] {"byte", "gpt2", "cl100k"}) {
            JsonObject root =
                    JsonParser.parseString(HfTokenizerJson.tokenizerJson(Tokenizers.byName(name)))
                            .getAsJsonObject();
            JsonObject pre = root.getAsJsonObject("pre_tokenizer");
            assertEquals("Sequence", pre.get("type").getAsString(), name);
            JsonArray steps = pre.getAsJsonArray("pretokenizers");
            JsonObject last = steps.get(steps.size() - 1).getAsJsonObject();
            assertEquals("ByteLevel", last.get("type").getAsString(), name);
            assertFalse(last.get("use_regex").getAsBoolean(), name);
            if (name.equals("byte")) {
                assertEquals(1, steps.size());
                assertFalse(root.getAsJsonObject("model").get("ignore_merges").getAsBoolean());
            } else {
                assertEquals(2, steps.size(), name);
                assertEquals(
                        "Isolated",
                        steps.get(0).getAsJsonObject().get("behavior").getAsString(),
                        name);
            }
        }
    }

    @Test
    void mergesAreDerivedFromRanks() {
        Map<String, Integer> ranks = HfTokenizerJson.ranks("r50k_base");
        assertEquals(50256, ranks.size());
        // GPT-2's first merge is "Ġ t" (space + t): the token " t" has the lowest multi-byte rank
        String[] m = HfTokenizerJson.mergeOf(" t", ranks.get(" t"), ranks);
        assertArrayEquals(new String[] {" ", "t"}, m);
        // " the" = " t" + "he" in GPT-2's merges.txt
        assertArrayEquals(
                new String[] {" t", "he"},
                HfTokenizerJson.mergeOf(" the", ranks.get(" the"), ranks));
        assertEquals(256, (int) ranks.get(" t"));
    }
}
