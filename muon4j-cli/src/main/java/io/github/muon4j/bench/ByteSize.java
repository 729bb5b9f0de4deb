package io.github.muon4j.bench;

import java.util.Locale;

/** A size in bytes as people and sysfs write it: "1024", "64k", "491520K", "512m", "1.5g". */
public final class ByteSize {

    private ByteSize() {}

    /**
     * The bytes of {@code s}: a positive number with an optional suffix k, m or g (binary: 2^10,
     * 2^20, 2^30; either case), surrounding white space ignored.
     *
     * @throws NumberFormatException when s is not such a size, or above 10^15 bytes
     */
    public static long parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            mult = t.endsWith("k") ? 1L << 10 : t.endsWith("m") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        double v = Double.parseDouble(t);
        if (!(v > 0) || v * mult > 1e15) {
            throw new NumberFormatException("not a positive size of at most 1e15 bytes: " + s);
        }
        return (long) (v * mult);
    }
}
