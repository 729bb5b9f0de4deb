package io.github.muon4j.report;

import com.google.gson.JsonObject;
import io.github.muon4j.train.Metrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code loss.png}: train and validation loss against steps, from {@code metrics.jsonl}. */
public final class LossPlots {

    private LossPlots() {}

    public static void write(Path metrics, Path png, String title) throws IOException {
        List<JsonObject> rows = Metrics.read(metrics);
        List<double[]> train = new ArrayList<>(), val = new ArrayList<>();
        for (JsonObject r : rows) {
            int step = r.get("step").getAsInt();
            if (r.has("train_loss") && !r.get("train_loss").isJsonNull()) {
                train.add(new double[] {step, r.get("train_loss").getAsDouble()});
            }
            if (r.has("val_loss")) {
                val.add(new double[] {step, r.get("val_loss").getAsDouble()});
            }
        }
        LinePlot plot = new LinePlot(title, "step", "loss (nats/token)");
        plot.line(
                "train",
                column(train, 0),
                smooth(column(train, 1), Math.min(0.9, Math.max(0.0, 1.0 - 10.0 / train.size()))));
        plot.dashed("validation", column(val, 0), column(val, 1));
        plot.write(png);
    }

    private static double[] column(List<double[]> rows, int c) {
        double[] out = new double[rows.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = rows.get(i)[c];
        }
        return out;
    }

    /** Exponential moving average with bias correction, as loss curves are usually shown. */
    static double[] smooth(double[] y, double beta) {
        double[] out = new double[y.length];
        double m = 0;
        for (int i = 0; i < y.length; i++) {
            m = beta * m + (1 - beta) * y[i];
            out[i] = m / (1 - Math.pow(beta, i + 1));
        }
        return out;
    }
}
