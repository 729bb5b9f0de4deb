package io.github.muon4j.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Path;

/** A model read back from a checkpoint, with the settings and tokenizer it was trained with. */
public record TrainedModel(
        Checkpoint checkpoint,
        TrainConfig train,
        ModelConfig config,
        Tokenizer tokenizer,
        DecoderLM model) {

    /**
     * Loads weights (and MoE balancing biases) into a new model in {@code manager}. {@code dir} is
     * a checkpoint or a run directory (its newest intact checkpoint; damaged newer ones are skipped
     * with one warning line on stderr).
     */
    public static TrainedModel load(Path dir, NDManager manager) {
        return load(dir, manager, System.err::println);
    }

    /** As {@link #load(Path, NDManager)}, with the warning line given to {@code warn}. */
    public static TrainedModel load(
            Path dir, NDManager manager, java.util.function.Consumer<String> warn) {
        Checkpoint ck = Checkpoint.openNewestIntact(dir, warn);
        try {
            RunDirectory.Saved saved = RunDirectory.Saved.of(ck);
            TrainConfig tc = saved.train();
            ModelConfig mc = saved.model();
            Tokenizer tok = Tokenizers.byName(saved.tokenizer());
            DecoderLM model = new DecoderLM(mc);
            model.initialize(manager, DataType.FLOAT32);
            Run.loadWeights(model, manager, ck);
            return new TrainedModel(ck, tc, mc, tok, model);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalArgumentException(
                    "checkpoint " + ck.dir() + " could not be loaded: " + e.getMessage());
        }
    }
}
