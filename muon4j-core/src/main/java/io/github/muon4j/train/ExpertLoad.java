package io.github.muon4j.train;

import com.google.gson.JsonArray;
import java.util.ArrayList;
import java.util.List;

/** MoE expert-load summaries for the metrics log. */
final class ExpertLoad {

    private ExpertLoad() {}

    /**
     * {@code acc + add}, layer by layer and expert by expert (a new list; {@code acc} may be null):
     * the load of a whole step from its micro-batches.
     */
    static List<float[]> sum(List<float[]> acc, List<float[]> add) {
        if (acc == null) {
            return add == null ? null : add.stream().map(float[]::clone).toList();
        }
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < acc.size(); i++) {
            float[] a = acc.get(i).clone();
            float[] b = add.get(i);
            for (int e = 0; e < a.length; e++) {
                a[e] += b[e];
            }
            out.add(a);
        }
        return out;
    }

    /** Per MoE layer, tokens per routed expert. */
    static JsonArray toJson(float[][] loads) {
        JsonArray layers = new JsonArray();
        for (float[] layer : loads) {
            JsonArray a = new JsonArray();
            for (float v : layer) {
                a.add(Math.round(v));
            }
            layers.add(a);
        }
        return layers;
    }

    /** The busiest expert's load over the mean load, worst layer: 1.0 is perfect balance. */
    static double maxOverMean(float[][] loads) {
        double worst = 0;
        for (float[] layer : loads) {
            double sum = 0, max = 0;
            for (float v : layer) {
                sum += v;
                max = Math.max(max, v);
            }
            if (sum > 0) {
                worst = Math.max(worst, max / (sum / layer.length));
            }
        }
        return worst;
    }
}
