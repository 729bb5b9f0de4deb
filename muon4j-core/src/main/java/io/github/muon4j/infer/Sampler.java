package io.github.muon4j.infer;

import java.util.Arrays;
import java.util.Random;

/**
 * Draws token ids from logits in Java: greedy argmax, or softmax(logits / temperature) restricted
 * to the top-k and then to the top-p nucleus, from a seeded generator.
 */
public final class Sampler {

    private final SamplingConfig config;
    private final Random random;

    public Sampler(SamplingConfig config) {
        this.config = config;
        this.random = new Random(config.seed());
    }

    /** The next token for one row of logits (vocab). */
    public int sample(float[] logits) {
        if (config.isGreedy()) {
            return argmax(logits);
        }
        int n = logits.length;
        Integer[] order = null;
        int keep = n;
        boolean nucleus = config.topP() < 1;
        if (config.topK() > 0 && config.topK() < n) {
            keep = config.topK();
        }
        if (keep < n || nucleus) {
            order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        }
        double max = logits[argmax(logits)];
        double[] p = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) {
            int id = order == null ? r : order[r];
            p[r] = Math.exp((logits[id] - max) / config.temperature());
            sum += p[r];
        }
        if (nucleus) {
            double acc = 0;
            int cut = keep;
            for (int r = 0; r < keep; r++) {
                acc += p[r] / sum;
                if (acc >= config.topP()) {
                    cut = r + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int r = 0; r < keep; r++) {
                sum += p[r];
            }
        }
        double u = random.nextDouble() * sum;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) {
                return order == null ? r : order[r];
            }
        }
        return order == null ? keep - 1 : order[keep - 1];
    }

    /** Index of the largest value (the first on ties). */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
