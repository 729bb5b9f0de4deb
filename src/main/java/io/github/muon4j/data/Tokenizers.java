package io.github.muon4j.data;

/** Tokenizers by name. */
public final class Tokenizers {

    private Tokenizers() {}

    /** "byte", "gpt2" (r50k_base) or "cl100k" (cl100k_base). */
    public static Tokenizer byName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("tokenizer: a name is required (byte, gpt2 or cl100k)");
        }
        switch (name) {
            case "byte":
                return new ByteTokenizer();
            case "gpt2":
            case "r50k_base":
                return BpeTokenizer.gpt2();
            case "cl100k":
            case "cl100k_base":
                return BpeTokenizer.cl100k();
            default:
                throw new IllegalArgumentException("tokenizer: unknown name '" + name + "' (expected byte, gpt2 or cl100k)");
        }
    }
}
