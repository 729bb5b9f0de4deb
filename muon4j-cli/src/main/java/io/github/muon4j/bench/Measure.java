package io.github.muon4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;

/** Order statistics of measured samples, and the machine's load when they were taken. */
public final class Measure {

    private Measure() {}

    /**
     * The q-quantile (0 = min, 0.5 = median, 1 = max) with linear interpolation; NaN when empty.
     */
    public static double quantile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }

    public static double quantile(Collection<Double> values, double q) {
        return quantile(values.stream().mapToDouble(Double::doubleValue).toArray(), q);
    }

    public static double median(double[] values) {
        return quantile(values, 0.5);
    }

    public static double median(Collection<Double> values) {
        return quantile(values, 0.5);
    }

    /** The 1-minute load average from /proc/loadavg, NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
