package io.github.muon4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.annotations.SerializedName;
import io.github.muon4j.data.BatchLoader;
import java.util.List;

/**
 * A run's progress, as a checkpoint's {@code state.json} holds it: the last finished step, tokens
 * trained on, non-finite steps in a row, the step-0 validation loss, training seconds so far, the
 * data loader's position and the MoE balancing biases (one array per MoE layer; empty when dense).
 *
 * @param step the last step done (skipped ones included); 0 before the first
 * @param firstValLoss validation loss at step 0; NaN until it is measured
 * @param data the loader position (null in memory: taken from the loader when saved)
 * @param balanceBiases null in memory: taken from the model when saved
 */
record RunState(
        int step,
        long tokens,
        @SerializedName("bad_streak") int badStreak,
        @SerializedName("first_val_loss") double firstValLoss,
        @SerializedName("elapsed_s") double elapsedSeconds,
        BatchLoader.State data,
        @SerializedName("balance_biases") List<float[]> balanceBiases) {

    private static final Gson GSON =
            new GsonBuilder().serializeSpecialFloatingPointValues().create();

    /** A run that has not started. */
    public static RunState fresh() {
        return new RunState(0, 0, 0, Double.NaN, 0, null, null);
    }

    /** Step {@code step} done: {@code tokenDelta} more tokens (0 for a skipped step). */
    public RunState advance(int step, long tokenDelta, int badStreak, double elapsedSeconds) {
        return new RunState(
                step,
                tokens + tokenDelta,
                badStreak,
                firstValLoss,
                elapsedSeconds,
                data,
                balanceBiases);
    }

    public RunState withFirstValLoss(double v) {
        return new RunState(step, tokens, badStreak, v, elapsedSeconds, data, balanceBiases);
    }

    /** This progress with the loader position and balancing biases, as a checkpoint saves it. */
    public RunState withSnapshot(BatchLoader.State data, List<float[]> balanceBiases) {
        return new RunState(
                step, tokens, badStreak, firstValLoss, elapsedSeconds, data, balanceBiases);
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * Only the balancing biases of a {@code state.json} (what a model needs to be used, not
     * trained).
     */
    public static List<float[]> balanceBiasesOf(String json) {
        RunState s;
        try {
            s = GSON.fromJson(json, RunState.class);
        } catch (JsonParseException | NumberFormatException | IllegalStateException e) {
            throw new IllegalArgumentException("state.json: a field has the wrong type");
        }
        if (s == null || s.balanceBiases == null) {
            throw new IllegalArgumentException("state.json: missing balance_biases");
        }
        return s.balanceBiases;
    }

    /**
     * Reads a {@code state.json}; a missing or ill-typed field is an {@link
     * IllegalArgumentException}.
     */
    public static RunState fromJson(String json) {
        RunState s;
        try {
            s = GSON.fromJson(json, RunState.class);
        } catch (JsonParseException | NumberFormatException | IllegalStateException e) {
            throw new IllegalArgumentException("state.json: a field has the wrong type");
        }
        if (s == null
                || s.step < 0
                || s.tokens < 0
                || s.data == null
                || s.data.order() == null
                || s.balanceBiases == null) {
            throw new IllegalArgumentException(
                    "state.json: missing step, tokens, data or balance_biases");
        }
        return s;
    }
}
