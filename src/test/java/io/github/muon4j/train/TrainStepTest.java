package io.github.muon4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.Backend;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Ffn;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every step's temporaries die with the step: the number of live native arrays stays flat. */
class TrainStepTest {

    @Test
    void liveArraysStayFlatOverManySteps() {
        for (Ffn ffn : Ffn.values()) {
            try (NDManager m = Backend.get().newManager()) {
                DecoderLM model = new DecoderLM(ModelConfig.preset("tiny").withFfn(ffn));
                model.initialize(m, DataType.FLOAT32);
                MuonWithAdamW opt = OptimizerRecipe.of(true, model.roles(), Tracker.fixed(0.02f), Tracker.fixed(3e-3f), 0.1f);
                TrainStep step = new TrainStep(model, opt, m);
                SplittableRandom r = new SplittableRandom(3);
                java.util.function.Supplier<int[]> batches = () -> r.ints(2 * 17, 0, 257).toArray();
                double first = 0, last = 0;
                for (int i = 0; i < 3; i++) {
                    first = step.run(batches, 2, 16, 2, 1.0).loss(); // optimizer state is created in the first steps
                }
                int live = m.getManagedArrays().size();
                for (int i = 0; i < 12; i++) {
                    opt.diagnoseNextStep(i % 4 == 0 ? model.roles().keySet().iterator().next() : null);
                    last = step.run(batches, 2, 16, 2, 1.0).loss();
                }
                assertEquals(live, m.getManagedArrays().size(), ffn + ": live native arrays after 12 more steps");
                assertTrue(Double.isFinite(first) && Double.isFinite(last));
            }
        }
    }
}
