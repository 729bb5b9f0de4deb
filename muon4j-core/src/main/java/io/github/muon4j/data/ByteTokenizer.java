package io.github.muon4j.data;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokens: the 256 UTF-8 byte values, plus end-of-text as 256. For tiny models and tests.
 */
public final class ByteTokenizer implements Tokenizer {

    public static final int EOT = 256;

    @Override
    public String name() {
        return "byte";
    }

    @Override
    public int vocabSize() {
        return 257;
    }

    @Override
    public int eotToken() {
        return EOT;
    }

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < 256) {
                b[n++] = (byte) id;
            }
        }
        // the String constructor replaces malformed UTF-8 with U+FFFD
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
