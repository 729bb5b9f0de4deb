package io.github.muon4j.experiment;

import com.google.gson.JsonObject;
import io.github.muon4j.train.Metrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's validation curve: at each evaluation, the step, tokens seen, training FLOPs, wall time
 * and validation loss; and the first point where it reaches a target loss.
 */
public record Curve(
        double[] steps,
        double[] tokens,
        double[] flops,
        double[] seconds,
        double[] valLoss,
        double[] trainSteps,
        double[] trainLoss) {

    /** Where a curve first reaches a target: steps, tokens, FLOPs and seconds (NaN if never). */
    public record Hit(double steps, double tokens, double flops, double seconds) {
        public boolean reached() {
            return !Double.isNaN(steps);
        }
    }

    /** Reads a run's metrics.jsonl; FLOPs = flopsPerToken x tokens. */
    public static Curve read(Path metrics, double flopsPerToken) throws IOException {
        List<double[]> val = new ArrayList<>(), train = new ArrayList<>();
        for (JsonObject o : Metrics.read(metrics)) {
            double step = o.get("step").getAsDouble();
            if (o.has("val_loss")) {
                double tok = o.has("tokens") ? o.get("tokens").getAsDouble() : 0;
                double sec = o.has("time_s") ? o.get("time_s").getAsDouble() : 0;
                val.add(
                        new double[] {
                            step, tok, tok * flopsPerToken, sec, o.get("val_loss").getAsDouble()
                        });
            }
            if (o.has("train_loss") && !o.get("train_loss").isJsonNull()) {
                train.add(new double[] {step, o.get("train_loss").getAsDouble()});
            }
        }
        return new Curve(
                col(val, 0),
                col(val, 1),
                col(val, 2),
                col(val, 3),
                col(val, 4),
                col(train, 0),
                col(train, 1));
    }

    private static double[] col(List<double[]> rows, int c) {
        return rows.stream().mapToDouble(r -> r[c]).toArray();
    }

    public double finalValLoss() {
        return valLoss.length == 0 ? Double.NaN : valLoss[valLoss.length - 1];
    }

    /**
     * The first crossing of {@code target} by the validation curve, linearly interpolated between
     * the two evaluations around it (a point at or below the target at the first evaluation counts
     * as reached there). NaN everywhere when the curve never reaches the target.
     */
    public Hit reach(double target) {
        for (int i = 0; i < valLoss.length; i++) {
            if (valLoss[i] <= target) {
                if (i == 0) {
                    return new Hit(steps[0], tokens[0], flops[0], seconds[0]);
                }
                double f = (valLoss[i - 1] - target) / (valLoss[i - 1] - valLoss[i]);
                return new Hit(
                        lerp(steps, i, f),
                        lerp(tokens, i, f),
                        lerp(flops, i, f),
                        lerp(seconds, i, f));
            }
        }
        return new Hit(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private static double lerp(double[] a, int i, double f) {
        return a[i - 1] + f * (a[i] - a[i - 1]);
    }
}
