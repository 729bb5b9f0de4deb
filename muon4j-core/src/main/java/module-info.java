/**
 * muon4j-core: train decoder-only language models with the Muon optimizer, Multi-head Latent
 * Attention and Mixture-of-Experts on DJL's PyTorch engine.
 *
 * <p>The public API: {@code io.github.muon4j.optim} (Muon, MuonWithAdamW, DecoupledAdamW,
 * NewtonSchulz, parameter roles), {@code io.github.muon4j.model} (DecoderLM and its blocks,
 * ModelConfig), {@code io.github.muon4j.data} (tokenizers, token data, the DJL Dataset), {@code
 * io.github.muon4j.train} (TrainStep, TrainLoop, LmLoss, TrainConfig, checkpoints), {@code
 * io.github.muon4j.infer} (generation) and {@code io.github.muon4j.interop} (safetensors, Hugging
 * Face export and import). Types not declared {@code public} are internal.
 */
module io.github.muon4j.core {
    requires transitive ai.djl.api;
    requires ai.djl.pytorch_engine;
    requires ai.djl.tokenizers;
    requires transitive com.google.gson;
    requires jtokkit;
    requires jdk.unsupported;
    requires com.sun.jna;
    requires static jdk.incubator.vector;

    exports io.github.muon4j;
    exports io.github.muon4j.optim;
    exports io.github.muon4j.model;
    exports io.github.muon4j.data;
    exports io.github.muon4j.train;
    exports io.github.muon4j.infer;
    exports io.github.muon4j.interop;

    // Gson reads and writes the run files' records reflectively
    opens io.github.muon4j.train to
            com.google.gson;
    opens io.github.muon4j.model to
            com.google.gson;
    opens io.github.muon4j.interop to
            com.google.gson;

    uses io.github.muon4j.data.Corpus;
}
