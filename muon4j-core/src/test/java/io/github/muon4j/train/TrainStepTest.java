package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every step's temporaries die with the step: the number of live native arrays stays flat. */
class TrainStepTest {

    @Test
    void liveArraysStayFlatOverManySteps() {
        for (FfnKind ffn : FfnKind.values()) {
            try (NDManager m = Backend.get().newManager()) {
                DecoderLM model = new DecoderLM(ModelConfig.preset("tiny").withFfn(ffn));
                model.initialize(m, DataType.FLOAT32);
                MuonWithAdamW opt =
                        io.github.muon4j.train.OptimizerRecipe.of(
                                true,
                                model.roles(),
                                Tracker.fixed(0.02f),
                                Tracker.fixed(3e-3f),
                                0.1f);
                TrainStep step = new TrainStep(model, opt, m);
                SplittableRandom r = new SplittableRandom(3);
                java.util.function.Supplier<int[]> batches = () -> r.ints(2 * 17, 0, 257).toArray();
                double first = 0, last = 0;
                for (int i = 0; i < 3; i++) {
                    first =
                            step.run(batches, 2, 16, 2, 1.0)
                                    .loss(); // optimizer state is created in the first steps
                }
                int live = m.getManagedArrays().size();
                for (int i = 0; i < 12; i++) {
                    opt.diagnoseNextStep(
                            i % 4 == 0 ? model.roles().keySet().iterator().next() : null);
                    last = step.run(batches, 2, 16, 2, 1.0).loss();
                }
                assertEquals(
                        live,
                        m.getManagedArrays().size(),
                        ffn + ": live native arrays after 12 more steps");
                assertTrue(Double.isFinite(first) && Double.isFinite(last));
            }
        }
    }

    /**
     * bf16 products over float32 weights train like float32: the same seed and batches give losses
     * within bf16's rounding of each other over a few steps, and not bit-equal ones (bf16 ran).
     */
    @Test
    void bf16StepsFollowFloat32Steps() {
        Backend.init(1, "cpu");
        double[][] losses = new double[2][];
        for (io.github.muon4j.model.Precision p : io.github.muon4j.model.Precision.values()) {
            try (NDManager m = Backend.get().newManager()) {
                ModelConfig.Builder c = ModelConfig.preset("tiny").toBuilder();
                c.nLayers = 2;
                c.dModel = 64;
                c.nHeads = 4;
                c.deriveDefaults();
                DecoderLM model = new DecoderLM(c.build());
                model.initialize(m, DataType.FLOAT32);
                MuonWithAdamW opt =
                        io.github.muon4j.train.OptimizerRecipe.of(
                                true,
                                model.roles(),
                                Tracker.fixed(0.02f),
                                Tracker.fixed(3e-3f),
                                0.1f);
                TrainStep step = new TrainStep(model, opt, m);
                step.setPrecision(p);
                SplittableRandom r = new SplittableRandom(5);
                java.util.function.Supplier<int[]> batches = () -> r.ints(4 * 33, 0, 257).toArray();
                double[] l = new double[6];
                for (int i = 0; i < l.length; i++) {
                    l[i] = step.run(batches, 4, 32, 1, 1.0).loss();
                }
                losses[p.ordinal()] = l;
            }
        }
        double[] fp32 = losses[0], bf16 = losses[1];
        double maxDiff = 0;
        for (int i = 0; i < fp32.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(fp32[i] - bf16[i]));
        }
        // loss ~ ln 257 = 5.55; bf16 keeps 8 bits of mantissa (relative rounding 2^-9 = 0.002)
        assertTrue(
                maxDiff < 0.02,
                "bf16 losses "
                        + java.util.Arrays.toString(bf16)
                        + " vs fp32 "
                        + java.util.Arrays.toString(fp32));
        assertTrue(
                maxDiff > 0,
                "bf16 and fp32 losses are bit-equal: the products did not run in bf16");
        assertTrue(
                fp32[fp32.length - 1] < fp32[0] && bf16[bf16.length - 1] < bf16[0],
                "both losses fall");
    }
}
