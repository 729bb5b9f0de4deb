package io.github.muon4j.train;

import com.google.gson.JsonArray;

/** MoE expert-load summaries for the metrics log. */
final class ExpertLoad {

    private ExpertLoad() {}

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
