package io.github.muon4j.data;

/**
 * Text to token ids and back. The end-of-text token separates documents. The name is recorded with
 * every dataset and checkpoint, so that tokens are never read back with another tokenizer.
 */
public interface Tokenizer {

    /** "byte", "gpt2", "cl100k", or the absolute path of a tokenizer.json ({@link HfTokenizer}). */
    String name();

    /** A short file-name-safe tag for token caches: the name, or a digest of a tokenizer.json. */
    default String cacheTag() {
        return name();
    }

    /** Number of token ids, the end-of-text token included. */
    int vocabSize();

    /** The id that separates documents. */
    int eotToken();

    /** Tokens of plain text (special-token strings in it are treated as ordinary text). */
    int[] encode(String text);

    /** Text of tokens; the end-of-text token decodes to nothing, invalid UTF-8 to U+FFFD. */
    String decode(int[] ids);
}
