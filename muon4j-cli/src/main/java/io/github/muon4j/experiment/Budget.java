package io.github.muon4j.experiment;

/** A training budget: tokens ("2M", "500k", "1200000") or minutes ("20m", "1.5h"). */
public record Budget(double tokens, double minutes) {

    /** "20m", "20min", "1.5h": minutes; "2M" (capital M: million), "500k", "1200000": tokens. */
    public static Budget parse(String s) {
        String t = s == null ? "" : s.trim();
        try {
            if (t.endsWith("min")) {
                return positive(
                        new Budget(Double.NaN, Double.parseDouble(t.substring(0, t.length() - 3))),
                        s);
            }
            if (t.endsWith("m")) {
                return positive(
                        new Budget(Double.NaN, Double.parseDouble(t.substring(0, t.length() - 1))),
                        s);
            }
            if (t.endsWith("h")) {
                return positive(
                        new Budget(
                                Double.NaN,
                                60 * Double.parseDouble(t.substring(0, t.length() - 1))),
                        s);
            }
            double mult = 1;
            if (t.endsWith("M")) {
                mult = 1e6;
                t = t.substring(0, t.length() - 1);
            } else if (t.endsWith("k") || t.endsWith("K")) {
                mult = 1e3;
                t = t.substring(0, t.length() - 1);
            }
            return positive(new Budget(mult * Double.parseDouble(t), Double.NaN), s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--budget '"
                            + s
                            + "': expected tokens (2000000, 500k, 2M) or minutes (20m, 1.5h)");
        }
    }

    private static Budget positive(Budget b, String s) {
        double v = Double.isNaN(b.tokens) ? b.minutes : b.tokens;
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("--budget '" + s + "' must be positive");
        }
        return b;
    }

    public boolean isTime() {
        return !Double.isNaN(minutes);
    }
}
