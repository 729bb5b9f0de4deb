package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.model.DecoderLM;

/** Validation loss: the mean next-token loss over the first N sequential windows, no gradients. */
public final class Evaluator {

    private Evaluator() {}

    /**
     * @return mean cross-entropy in nats per token over {@code batches} batches of (B, T) windows,
     *     always the same windows, so evaluations are comparable across steps and runs
     */
    public static double loss(DecoderLM model, TokenDataset data, int b, int t, int batches, NDManager parent) {
        ParameterStore ps = new ParameterStore(parent, false);
        double sum = 0;
        int n = 0;
        try (BatchLoader loader = new BatchLoader(data, b, t, 0L, BatchLoader.Order.SEQUENTIAL, 0)) {
            for (int i = 0; i < batches; i++) {
                try (NDManager sm = parent.newSubManager()) {
                    NDArray all = sm.create(loader.next(), new Shape(b, t + 1));
                    NDArray x = all.get(":, :-1");
                    NDArray y = all.get(":, 1:");
                    DecoderLM.Output out = model.forward(ps, x, false);
                    sum += LmLoss.crossEntropy(out.logits(), y).getFloat();
                    n++;
                }
            }
        }
        return sum / n;
    }
}
