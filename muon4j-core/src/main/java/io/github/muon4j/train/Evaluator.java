package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.muon4j.Denormals;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.model.DecoderLM;

/**
 * Validation loss: the mean next-token loss over the first N windows of the held-out data, no
 * gradients. Window i covers tokens [i T, i T + T] and predicts tokens i T + 1 .. i T + T, so the
 * predicted tokens of different windows never overlap and no held-out token is counted twice in one
 * evaluation; when the held-out data is shorter than N windows, fewer are used (never wrapping
 * around). The windows depend only on the data and T, so every run with the same data, T and N is
 * scored on exactly the same tokens, whatever its batch size.
 */
public final class Evaluator {

    private Evaluator() {}

    /** Windows requested by {@code eval_batches} batches of {@code b} sequences. */
    public static int windowCount(int evalBatches, int b) {
        return evalBatches * b;
    }

    /**
     * Start of each window used: 0, T, 2T, ... while a whole window of T + 1 tokens fits, at most
     * {@code maxWindows}.
     */
    public static long[] windowStarts(long size, int t, int maxWindows) {
        long fit = size < t + 1L ? 0 : (size - 1) / t;
        int n = (int) Math.min(maxWindows, fit);
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = (long) i * t;
        }
        return s;
    }

    /**
     * @return mean cross-entropy in nats per predicted token over at most {@code maxWindows}
     *     windows of T tokens, evaluated {@code b} windows at a time
     */
    public static double loss(
            DecoderLM model, TokenDataset data, int b, int t, int maxWindows, NDManager parent) {
        long[] starts = windowStarts(data.size(), t, maxWindows);
        if (starts.length == 0) {
            throw new IllegalArgumentException(
                    "validation data: "
                            + data.size()
                            + " tokens, fewer than one window of seq_len "
                            + t
                            + " + 1");
        }
        ParameterStore ps = new ParameterStore(parent, false);
        double sum = 0;
        for (int from = 0; from < starts.length; from += b) {
            int rows = Math.min(b, starts.length - from);
            int[] buf = new int[rows * (t + 1)];
            for (int r = 0; r < rows; r++) {
                data.read(starts[from + r], buf, r * (t + 1), t + 1);
            }
            // denormals flushed as in a training step (see TrainStep#flushDenormals)
            try (NDManager sm = parent.newSubManager();
                    Denormals d = Denormals.flushToZero()) {
                NDArray all = sm.create(buf, new Shape(rows, t + 1));
                NDArray x = all.get(":, :-1");
                NDArray y = all.get(":, 1:");
                DecoderLM.Output out = model.forward(ps, x, false);
                // the loss is a mean over rows x T tokens: weight each batch by its rows
                sum += rows * (double) LmLoss.crossEntropy(out.logits(), y).getFloat();
            }
        }
        return sum / starts.length;
    }
}
