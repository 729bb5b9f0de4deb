package io.github.muon4j.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Tokenizers by name. */
public final class Tokenizers {

    private Tokenizers() {}

    /** True for the names of the built-in tokenizers. */
    public static boolean isBuiltin(String name) {
        return switch (name) {
            case "byte", "gpt2", "r50k_base", "cl100k", "cl100k_base" -> true;
            default -> false;
        };
    }

    /**
     * True for a name that {@link #byName} reads as a tokenizer.json path (an existing path, a name
     * ending in ".json", or one with a directory separator).
     */
    public static boolean isPath(String name) {
        return !isBuiltin(name)
                && (name.endsWith(".json")
                        || name.contains("/")
                        || name.contains(java.io.File.separator)
                        || Files.exists(Path.of(name)));
    }

    /**
     * The name {@link Tokenizer#name()} will have for {@code spec}: aliases resolved, a
     * tokenizer.json path made absolute (a directory stands for its tokenizer.json), without
     * loading anything.
     */
    public static String canonicalName(String spec) {
        switch (spec) {
            case "r50k_base":
                return "gpt2";
            case "cl100k_base":
                return "cl100k";
            default:
                if (!isPath(spec)) {
                    return spec;
                }
                Path p = Path.of(spec);
                return (Files.isDirectory(p) ? p.resolve("tokenizer.json") : p)
                        .toAbsolutePath()
                        .normalize()
                        .toString();
        }
    }

    /**
     * "byte", "gpt2" (r50k_base), "cl100k" (cl100k_base), or the path of any Hugging Face
     * tokenizer.json (or of a directory holding one), see {@link HfTokenizer}.
     */
    public static Tokenizer byName(String name) {
        if (name == null) {
            throw new IllegalArgumentException(
                    "tokenizer: a name is required (byte, gpt2 or cl100k)");
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
                if (isPath(name)) {
                    return HfTokenizer.load(Path.of(name));
                }
                throw new IllegalArgumentException(
                        "tokenizer: unknown name '"
                                + name
                                + "' (expected byte, gpt2, cl100k or the path of a tokenizer.json)");
        }
    }
}
