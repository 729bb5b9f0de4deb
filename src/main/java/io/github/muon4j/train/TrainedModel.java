package io.github.muon4j.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Path;

/** A model read back from a checkpoint, with the settings and tokenizer it was trained with. */
public record TrainedModel(Checkpoint checkpoint, TrainConfig train, ModelConfig config, Tokenizer tokenizer, DecoderLM model) {

    /** Loads weights (and MoE balancing biases) into a new model in {@code manager}. */
    public static TrainedModel load(Path dir, NDManager manager) {
        Checkpoint ck = Checkpoint.open(dir);
        try {
            JsonObject saved = JsonParser.parseString(ck.partText("config.json")).getAsJsonObject();
            TrainConfig tc = TrainConfig.fromJson(saved.get("train").toString(), ck.dir() + "/config.json");
            ModelConfig mc = ModelConfig.fromJson(saved.get("model").toString());
            Tokenizer tok = Tokenizers.byName(saved.get("tokenizer").getAsString());
            DecoderLM model = new DecoderLM(mc);
            model.initialize(manager, DataType.FLOAT32);
            Run.loadWeights(model, manager, ck);
            return new TrainedModel(ck, tc, mc, tok, model);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalArgumentException("checkpoint " + ck.dir() + " could not be loaded: " + e.getMessage());
        }
    }
}
