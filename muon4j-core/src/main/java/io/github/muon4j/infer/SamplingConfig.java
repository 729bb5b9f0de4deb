package io.github.muon4j.infer;

/**
 * How the next token is drawn from the last logits row.
 *
 * @param temperature 0 (or less) for greedy argmax; otherwise logits are divided by it
 * @param topK keep only the k most likely tokens (0 = all)
 * @param topP keep the smallest set of most likely tokens whose probability reaches p (1 = all)
 * @param seed seed of the sampler's random generator
 * @param stopToken generation ends after this token is produced (-1 = none)
 */
public record SamplingConfig(double temperature, int topK, double topP, long seed, int stopToken) {

    public SamplingConfig {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "sampling temperature: must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("sampling top_k: must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("sampling top_p: must be in (0, 1], got " + topP);
        }
    }

    /** Greedy decoding (argmax), no stop token. */
    public static SamplingConfig greedy() {
        return new SamplingConfig(0, 0, 1, 0, -1);
    }

    /** Sampling with temperature, top-k and top-p, seeded; no stop token. */
    public static SamplingConfig of(double temperature, int topK, double topP, long seed) {
        return new SamplingConfig(temperature, topK, topP, seed, -1);
    }

    public SamplingConfig withStopToken(int token) {
        return new SamplingConfig(temperature, topK, topP, seed, token);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }
}
