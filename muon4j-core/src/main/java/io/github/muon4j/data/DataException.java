package io.github.muon4j.data;

/** Bad input data: the message is one line naming the file and what is wrong with it. */
public final class DataException extends IllegalArgumentException {

    public DataException(String message) {
        super(oneLine(message));
    }

    /**
     * Line breaks and other control characters (from a file's own text, say) shown as spaces: one
     * line, always.
     */
    static String oneLine(String s) {
        return s == null ? null : s.replaceAll("\\p{Cntrl}+", " ");
    }
}
