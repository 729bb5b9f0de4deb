package io.github.muon4j.model;

/** The feed-forward kind of the (non-leading) layers. */
public enum FfnKind {
    /** one SwiGLU feed-forward of hidden size {@code ffn_hidden} */
    DENSE,
    /** shared plus top-k routed fine-grained SwiGLU experts */
    MOE;

    /** The lower-case name, as in {@code config.json} and on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
