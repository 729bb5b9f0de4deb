package io.github.muon4j.bench;

import io.github.muon4j.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fp32 matmul ceiling, sampled many times during a benchmark (before, between and after the
 * timed work), so that a figure is divided by the rate the machine offered while it ran, and the
 * spread of that rate is reported beside it. Each sample is a few 1024^3 products ({@link
 * Backend#matmulGflops}), about a tenth of a second; each also records the 1-minute load average
 * of {@code /proc/loadavg}, to say what else the machine was doing.
 */
public final class Ceiling {

    private final Backend backend;
    private final int reps;
    private final List<Double> gflops = new ArrayList<>();
    private final List<Double> load = new ArrayList<>();

    /** A sampler doing {@code reps} 1024^3 products per sample. */
    public Ceiling(Backend backend, int reps) {
        this.backend = backend;
        this.reps = reps;
    }

    /** Takes one sample; returns its GFLOP/s. */
    public double sample() {
        double g = backend.matmulGflops(1024, reps);
        gflops.add(g);
        double l = loadAverage();
        if (!Double.isNaN(l)) {
            load.add(l);
        }
        return g;
    }

    public int samples() {
        return gflops.size();
    }

    /** Median of the samples (GFLOP/s). */
    public double median() {
        return quantile(gflops, 0.5);
    }

    public double min() {
        return quantile(gflops, 0);
    }

    public double max() {
        return quantile(gflops, 1);
    }

    /** (max - min) / median of the samples. */
    public double spread() {
        return (max() - min()) / median();
    }

    /** Lowest and highest 1-minute load average seen at the samples (NaN off Linux). */
    public double loadMin() {
        return quantile(load, 0);
    }

    public double loadMax() {
        return quantile(load, 1);
    }

    /** "median GFLOP/s (min-max, n samples)". */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%.1f GFLOP/s (%.1f-%.1f over %d samples), load %.2f-%.2f",
                median(), min(), max(), samples(), loadMin(), loadMax());
    }

    /** The 1-minute load average from /proc/loadavg, NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static double quantile(List<Double> values, double q) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }
}
