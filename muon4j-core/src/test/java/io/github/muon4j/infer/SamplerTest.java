package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final float[] LOGITS = {1.0f, 3.0f, 0.5f, 2.0f, -1.0f};

    private static double[] frequencies(SamplingConfig s, int n) {
        Sampler sampler = new Sampler(s);
        double[] f = new double[LOGITS.length];
        for (int i = 0; i < n; i++) {
            f[sampler.sample(LOGITS)] += 1.0 / n;
        }
        return f;
    }

    private static double[] softmax(double temperature, boolean[] keep) {
        double[] p = new double[LOGITS.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = keep[i] ? Math.exp(LOGITS[i] / temperature) : 0;
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void greedyAndDegenerateFiltersPickTheArgmax() {
        assertEquals(1, new Sampler(SamplingConfig.greedy()).sample(LOGITS));
        assertEquals(1, new Sampler(SamplingConfig.of(1.0, 1, 1.0, 3)).sample(LOGITS));
        assertEquals(1, new Sampler(SamplingConfig.of(1.0, 0, 1e-6, 3)).sample(LOGITS));
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        boolean[] all = {true, true, true, true, true};
        for (double temp : new double[] {0.7, 1.5}) {
            double[] want = softmax(temp, all);
            double[] got = frequencies(SamplingConfig.of(temp, 0, 1.0, 11), 40_000);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 0.01, "T=" + temp + " token " + i);
            }
        }
    }

    @Test
    void topKAndTopPRestrictTheSupport() {
        // top-2: tokens 1 and 3 only, renormalised
        double[] want = softmax(1.0, new boolean[] {false, true, false, true, false});
        double[] got = frequencies(SamplingConfig.of(1.0, 2, 1.0, 5), 20_000);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 0.012, "top-k token " + i);
        }
        // nucleus 0.8: sorted probabilities 0.62, 0.23, 0.08, ... -> tokens 1 and 3 cover 0.85
        double[] full = softmax(1.0, new boolean[] {true, true, true, true, true});
        assertTrue(full[1] < 0.8 && full[1] + full[3] >= 0.8);
        got = frequencies(SamplingConfig.of(1.0, 0, 0.8, 6), 20_000);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 0.012, "top-p token " + i);
        }
    }

    @Test
    void aSeedReproducesTheDraws() {
        Sampler a = new Sampler(SamplingConfig.of(1.0, 0, 1.0, 9));
        Sampler b = new Sampler(SamplingConfig.of(1.0, 0, 1.0, 9));
        for (int i = 0; i < 50; i++) {
            assertEquals(a.sample(LOGITS), b.sample(LOGITS));
        }
    }
}
