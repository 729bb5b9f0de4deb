package io.github.muon4j.experiment;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.train.OptimizerRecipe;
import io.github.muon4j.train.TrainStep;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Wall seconds of one optimizer step (forward, backward, clip, update) of a fresh model on random
 * tokens, through {@code train/}'s {@link TrainStep}: what a time budget is divided by to get a
 * step count. Not a benchmark: no ceilings, no statistics beyond the mean of a few steps.
 */
final class StepTime {

    private StepTime() {}

    /**
     * Mean seconds of {@code steps} steps of {@code b x t} tokens after {@code warmup} untimed
     * ones, with Muon ({@code muon}) or AdamW on the matrices.
     */
    static double seconds(ModelConfig mc, boolean muon, int b, int t, int steps, int warmup) {
        try (NDManager manager = Backend.get().newManager()) {
            DecoderLM model = new DecoderLM(mc);
            model.initialize(manager, DataType.FLOAT32);
            MuonWithAdamW optimizer =
                    OptimizerRecipe.of(
                            muon, model.roles(), Tracker.fixed(0.02f), Tracker.fixed(1e-3f), 0.1f);
            TrainStep step = new TrainStep(model, optimizer, manager);
            SplittableRandom rnd = new SplittableRandom(1);
            int v = mc.vocabSize();
            Supplier<int[]> batches = () -> rnd.ints((long) b * (t + 1), 0, v).toArray();
            for (int i = 0; i < warmup; i++) {
                step.run(batches, b, t, 1, 1.0);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                step.run(batches, b, t, 1, 1.0);
            }
            return (System.nanoTime() - t0) / 1e9 / steps;
        }
    }
}
