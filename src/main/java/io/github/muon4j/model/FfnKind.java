package io.github.muon4j.model;

/** The feed-forward kind of the (non-leading) layers. */
public enum FfnKind {
    /** one SwiGLU feed-forward of hidden size {@code ffn_hidden} */
    DENSE,
    /** shared plus top-k routed fine-grained SwiGLU experts */
    MOE
}
