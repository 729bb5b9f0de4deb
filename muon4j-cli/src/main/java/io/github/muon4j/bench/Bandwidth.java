package io.github.muon4j.bench;

import io.github.muon4j.infer.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Memory bandwidth as the benchmark's own threads see it: a streaming sum (the decode kernels'
 * {@link Kernels#sum}) over a buffer well above the last-level cache, each thread over its own
 * slice, so that every pass reads from DRAM. A {@link #sample()} makes several passes and keeps the
 * best (the ceiling at that moment) and the median (how steady it was); the samples are taken in
 * the same run as the measurement they bound, next to it.
 *
 * <p>Buffer: four times the last-level cache read from sysfs, at least 256 MB and at most 1 GB, and
 * at most a quarter of the Java heap.
 */
public final class Bandwidth {

    /** The smallest buffer: above any last-level cache of the CPUs we know of, VMs included. */
    public static final long MIN_BYTES = 256L << 20;

    /** The largest buffer (the JVM holds it for the whole run). */
    public static final long MAX_BYTES = 1L << 30;

    /** One sample: bytes/s of its best, median and worst pass. */
    public record Sample(double best, double median, double worst) {}

    private final int threads;
    private final int passes;
    private final long bytes;
    private final Kernels k = Kernels.get();
    private final List<Sample> samples = new ArrayList<>();
    private float[][] buffer;
    private double sink;

    /** A sampler on {@code threads} threads making {@code passes} passes per sample. */
    public Bandwidth(int threads, int passes) {
        this(threads, passes, bufferBytes(llcBytes(), Runtime.getRuntime().maxMemory()));
    }

    Bandwidth(int threads, int passes, long bytes) {
        if (threads < 1 || passes < 1) {
            throw new IllegalArgumentException("threads and passes must be at least 1");
        }
        this.threads = threads;
        this.passes = passes;
        this.bytes = bytes / (4L * threads) * 4L * threads;
    }

    /**
     * The buffer for a last-level cache of {@code llc} bytes (0: unknown) and a heap of at most
     * {@code maxHeap} bytes: 4 x llc within [MIN_BYTES, MAX_BYTES], then at most maxHeap / 4.
     */
    static long bufferBytes(long llc, long maxHeap) {
        long b = Math.max(MIN_BYTES, Math.min(MAX_BYTES, 4 * llc));
        return Math.min(b, maxHeap / 4);
    }

    /** Takes one sample ({@code passes} passes over the buffer); returns it. */
    public Sample sample() {
        int per = (int) (bytes / 4 / threads);
        if (buffer == null) {
            buffer = new float[threads][per];
            Measure.onThreads(threads, i -> Arrays.fill(buffer[i], 1f)); // pages touched
            pass(); // and the sum compiled, before the timed passes
        }
        double[] rates = new double[passes];
        for (int p = 0; p < passes; p++) {
            rates[p] = bytes / pass();
        }
        Sample s = new Sample(Measure.max(rates), Measure.median(rates), Measure.min(rates));
        samples.add(s);
        return s;
    }

    private double pass() {
        double[] part = new double[threads];
        double sec =
                Measure.onThreads(threads, i -> part[i] = k.sum(buffer[i], 0, buffer[i].length));
        sink += part[0];
        return sec;
    }

    /** Frees the buffer; the samples stay. */
    public void release() {
        buffer = null;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The best pass of the run (bytes/s). */
    public double best() {
        return Measure.max(samples.stream().map(Sample::best).toList());
    }

    /** Median over the samples of each sample's best pass (bytes/s): what rooflines use. */
    public double median() {
        return Measure.median(samples.stream().map(Sample::best).toList());
    }

    /** Lowest and highest of the samples' best passes. */
    public double min() {
        return Measure.min(samples.stream().map(Sample::best).toList());
    }

    public double max() {
        return best();
    }

    /** Bytes read per pass. */
    public long bufferBytes() {
        return bytes;
    }

    public int passes() {
        return passes;
    }

    /** One line: "median 21.3 GB/s, best 25.0 (12 samples, 18.2-25.0; each the best of ...)". */
    public String describe() {
        return describe(samples, passes, bytes, llcBytes());
    }

    /**
     * The line of {@link #describe()} for {@code samples} of {@code passes} passes over {@code
     * bytes}, with a last-level cache of {@code llc} bytes (0: unknown).
     */
    public static String describe(List<Sample> samples, int passes, long bytes, long llc) {
        List<Double> best = samples.stream().map(Sample::best).toList();
        return String.format(
                Locale.ROOT,
                "median %.1f GB/s, best %.1f (%d samples, %.1f-%.1f; each the best of %d passes of a streaming sum over %d MB, %s)",
                Measure.median(best) / 1e9,
                Measure.max(best) / 1e9,
                best.size(),
                Measure.min(best) / 1e9,
                Measure.max(best) / 1e9,
                passes,
                bytes >> 20,
                llc > 0
                        ? String.format(
                                Locale.ROOT,
                                "%.1fx the %d MB last-level cache",
                                (double) bytes / llc,
                                llc >> 20)
                        : "last-level cache size unknown");
    }

    /** The largest cache of cpu0 from sysfs, in bytes; 0 where there is none. */
    public static long llcBytes() {
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        long best = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path index :
                    s.filter(p -> p.getFileName().toString().startsWith("index")).toList()) {
                try {
                    best = Math.max(best, ByteSize.parse(Files.readString(index.resolve("size"))));
                } catch (IOException | RuntimeException e) {
                    // an index without a readable size
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return best;
    }
}
