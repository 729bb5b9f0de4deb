package io.github.muon4j.experiment;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;

/**
 * The compact record of one finished training run that the experiments keep (and commit) instead of
 * the run directory: what was trained, its validation curve, its costs and how long it took. Every
 * number of a report is computed from these.
 *
 * @param key hash of the training configuration (run directory, threads and logging excluded)
 * @param label readable name, unique within an experiment
 * @param config the training configuration as trained (snake_case JSON)
 * @param cost model and Newton-Schulz FLOPs, parameter counts
 * @param evalWindows validation windows of seq_len tokens per evaluation (the same at every
 *     evaluation)
 * @param steps, tokens, seconds, valLoss the validation curve: step, tokens trained, training
 *     seconds (optimizer steps only, evaluation excluded) and validation loss at each evaluation
 * @param trainLoss training loss at every step 1..n (NaN for a skipped step)
 * @param diverged the run stopped on non-finite losses, or its last validation loss is not finite
 *     or above its first
 * @param stoppedEarly the trainer stopped the run (too many non-finite steps in a row)
 * @param wallSeconds wall time of the whole run, evaluations included
 * @param loadAvg the machine's 1-minute load average at the start and end of the run
 * @param finished UTC time the run finished
 * @param spec the study's own description of the run (the settings its key hashes); null outside
 *     the study
 */
public record RunSummary(
        String key,
        String label,
        JsonObject config,
        Cost cost,
        int evalWindows,
        double[] steps,
        double[] tokens,
        double[] seconds,
        double[] valLoss,
        double[] trainLoss,
        boolean diverged,
        boolean stoppedEarly,
        double wallSeconds,
        double[] loadAvg,
        String finished,
        JsonObject spec) {

    static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    public RunSummary withSpec(JsonObject s) {
        return new RunSummary(
                key,
                label,
                config,
                cost,
                evalWindows,
                steps,
                tokens,
                seconds,
                valLoss,
                trainLoss,
                diverged,
                stoppedEarly,
                wallSeconds,
                loadAvg,
                finished,
                s);
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static RunSummary fromJson(String json) {
        return GSON.fromJson(json, RunSummary.class);
    }

    public String optimizer() {
        return config.get("optimizer").getAsString();
    }

    public double lr() {
        return config.get("lr").getAsDouble();
    }

    public long seed() {
        return config.get("seed").getAsLong();
    }

    public int batchSize() {
        return config.get("batch_size").getAsInt();
    }

    public int seqLen() {
        return config.get("seq_len").getAsInt();
    }

    public double finalValLoss() {
        return valLoss.length == 0 ? Double.NaN : valLoss[valLoss.length - 1];
    }

    /** The validation curve, FLOPs = model FLOPs + Newton-Schulz FLOPs. */
    public Curve curve() {
        double[] fl = new double[steps.length];
        for (int i = 0; i < fl.length; i++) {
            fl[i] = cost.totalFlops(steps[i], tokens[i]);
        }
        double[] ts = new double[trainLoss.length];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = i + 1;
        }
        return new Curve(steps, tokens, fl, seconds, valLoss, ts, trainLoss);
    }

    /**
     * Loss spikes: training steps whose loss exceeds 1.5x the lowest loss so far, after the first
     * 10% of steps.
     */
    public int spikes() {
        double min = Double.POSITIVE_INFINITY;
        int n = 0;
        for (int i = 0; i < trainLoss.length; i++) {
            double l = trainLoss[i];
            if (!Double.isFinite(l)) {
                continue;
            }
            if (i > trainLoss.length / 10 && l > 1.5 * min) {
                n++;
            }
            min = Math.min(min, l);
        }
        return n;
    }

    /** Steps skipped for a non-finite loss. */
    public int skippedSteps() {
        int n = 0;
        for (double l : trainLoss) {
            if (!Double.isFinite(l)) {
                n++;
            }
        }
        return n;
    }
}
