package io.github.muon4j.train;

import java.util.Locale;

/**
 * Which optimizer trains the hidden matrices; the embedding, head, norms and routers use AdamW
 * either way.
 */
public enum OptimizerKind {
    /** Muon for the hidden matrices and expert stacks, AdamW for the rest */
    MUON,
    /** AdamW for every parameter (the matrices at their own learning rate) */
    ADAMW;

    /** The lower-case name, as in {@code config.json} and on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
