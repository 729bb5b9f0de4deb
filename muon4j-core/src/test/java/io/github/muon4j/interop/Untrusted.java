package io.github.muon4j.interop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The contract of every reader of a file users download: it reads the file, or refuses it with an
 * {@link IllegalArgumentException} whose message is one line naming the file. Any other exception
 * (a NullPointerException, an OutOfMemoryError, an index out of bounds...) is a finding.
 */
public final class Untrusted {

    private Untrusted() {}

    /** Reads an untrusted file. */
    @FunctionalInterface
    public interface Read {
        void run() throws IOException;
    }

    /** Runs {@code read}; a refusal must be one line containing {@code name}. */
    public static void check(String name, Read read) throws IOException {
        try {
            read.run();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            if (m == null || m.contains("\n") || !m.contains(name)) {
                throw new AssertionError(
                        "a refusal must be one line naming " + name + ", got: " + m, e);
            }
        }
    }

    /** A fresh directory for one fuzzing session's files. */
    public static Path scratch(String prefix) {
        try {
            Path d = Files.createTempDirectory(prefix);
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
