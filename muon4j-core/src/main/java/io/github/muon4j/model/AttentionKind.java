package io.github.muon4j.model;

/** The attention kind of every layer. */
public enum AttentionKind {
    /** multi-head attention: per-head keys and values are cached */
    MHA,
    /** multi-head latent attention (DeepSeek-V2): a shared low-rank latent and one rotary key */
    MLA;

    /** The lower-case name, as in {@code config.json} and on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
