package io.github.muon4j.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class TokenizerTest {

    static final String[] TEXTS = {
        "Hello, world!",
        "Européen Parlement: déjà vu, naïve façade",
        "Ελληνικά κείμενα και αριθμοί 123",
        "中文文本和日本語のテキスト",
        "emoji 🚀🎉 and tabs\tand\nnewlines",
        ""
    };

    @Test
    void everyTokenizerRoundTrips() {
        for (String name : new String[] {"byte", "gpt2", "cl100k"}) {
            Tokenizer t = Tokenizers.byName(name);
            for (String s : TEXTS) {
                int[] ids = t.encode(s);
                for (int id : ids) {
                    assertTrue(
                            id >= 0 && id < t.vocabSize() && id != t.eotToken(),
                            name + " id " + id);
                }
                assertEquals(s, t.decode(ids), name + " round trip");
            }
        }
    }

    @Test
    void vocabulariesAndEndOfText() {
        assertEquals(257, Tokenizers.byName("byte").vocabSize());
        assertEquals(256, Tokenizers.byName("byte").eotToken());
        assertEquals(50257, Tokenizers.byName("gpt2").vocabSize());
        assertEquals(50256, Tokenizers.byName("gpt2").eotToken());
        assertEquals(100257, Tokenizers.byName("cl100k").eotToken());
        // GPT-2 BPE: "Hello world" is two tokens, 15496 and 995 (published r50k ids)
        assertArrayEquals(new int[] {15496, 995}, Tokenizers.byName("gpt2").encode("Hello world"));
        Tokenizer b = Tokenizers.byName("byte");
        assertEquals(
                "ab",
                b.decode(new int[] {'a', b.eotToken(), 'b'}),
                "end-of-text decodes to nothing");
    }

    @Test
    void invalidUtf8DecodesGracefully() {
        Tokenizer b = Tokenizers.byName("byte");
        String s = b.decode(new int[] {0xe4, 0xb8}); // a cut-off 3-byte sequence
        assertTrue(s.contains("\uFFFD"), s);
    }

    @Test
    void unknownNameIsOneLine() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> Tokenizers.byName("sentencepiece"));
        assertTrue(e.getMessage().contains("sentencepiece") && !e.getMessage().contains("\n"));
    }
}
