package io.github.muon4j.data;

/** Bad input data: the message is one line naming the file and what is wrong with it. */
public final class DataException extends IllegalArgumentException {

    public DataException(String message) {
        super(message);
    }
}
