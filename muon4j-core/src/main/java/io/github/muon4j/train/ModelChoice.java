package io.github.muon4j.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.interop.HfImport;
import io.github.muon4j.model.ModelConfig;

/**
 * The model of a run: the preset with the flags and {@code model} overrides, or an {@code
 * --init-from} directory's.
 */
public final class ModelChoice {

    private ModelChoice() {}

    /** The preset with the flags applied, then the {@code model} overrides; validated. */
    public static ModelConfig of(TrainConfig c, Tokenizer tok) {
        ModelConfig mc =
                ModelConfig.preset(c.preset())
                        .withAttention(c.attention())
                        .withFfn(c.ffn())
                        .withVocab(tok.vocabSize())
                        .withSeed(c.seed());
        if (c.model() != null && c.model().size() > 0) {
            JsonObject flags = JsonParser.parseString(mc.toJson()).getAsJsonObject();
            JsonObject o = new JsonObject();
            o.addProperty("preset", c.preset());
            for (String k : new String[] {"attention", "ffn", "vocab_size", "seed"}) {
                o.add(k, flags.get(k));
            }
            for (var e : c.model().entrySet()) {
                o.add(e.getKey(), e.getValue());
            }
            mc = ModelConfig.fromJson(o.toString());
            if (mc.vocabSize() < tok.vocabSize()) {
                throw new IllegalArgumentException(
                        "vocab_size "
                                + mc.vocabSize()
                                + " is smaller than the vocabulary of tokenizer '"
                                + tok.name()
                                + "' ("
                                + tok.vocabSize()
                                + ")");
            }
        }
        if (c.seqLen() > mc.contextLength()) {
            throw new IllegalArgumentException(
                    "seq_len "
                            + c.seqLen()
                            + " exceeds the model's context_length "
                            + mc.contextLength()
                            + " (preset "
                            + c.preset()
                            + ")");
        }
        return mc;
    }

    /**
     * The model of an {@code --init-from} directory; the tokenizer and sequence length must fit it.
     */
    static ModelConfig initFrom(TrainConfig c, HfImport hf, Tokenizer tok) {
        ModelConfig mc = hf.modelConfig(c.seed());
        if (c.tokenizer() != null && !c.tokenizer().equals(tok.name())) {
            throw new IllegalArgumentException(
                    "--tokenizer "
                            + c.tokenizer()
                            + " differs from the tokenizer of --init-from "
                            + c.initFrom()
                            + " ("
                            + tok.name()
                            + ")");
        }
        if (mc.vocabSize() < tok.vocabSize()) {
            throw new IllegalArgumentException(
                    "--init-from "
                            + c.initFrom()
                            + ": vocab_size "
                            + mc.vocabSize()
                            + " is smaller than its tokenizer's vocabulary ("
                            + tok.vocabSize()
                            + ")");
        }
        if (c.seqLen() > mc.contextLength()) {
            throw new IllegalArgumentException(
                    "seq_len "
                            + c.seqLen()
                            + " exceeds max_position_embeddings "
                            + mc.contextLength()
                            + " of --init-from "
                            + c.initFrom());
        }
        return mc;
    }
}
