package io.github.muon4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the machine and this process were doing while a benchmark ran: the load average, resident
 * memory and CPU time (Linux /proc; NaN or 0 elsewhere).
 */
public final class Machine {

    private Machine() {}

    /** The 1-minute load average from /proc/loadavg, NaN where there is none. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(
                    Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Resident set size of this process in MB (NaN where there is none). */
    public static double rssMb() {
        return rssMb(Path.of("/proc/self/status"));
    }

    /** Resident set size of process {@code pid} in MB (NaN when it is gone, or off Linux). */
    public static double rssMb(long pid) {
        return rssMb(Path.of("/proc", Long.toString(pid), "status"));
    }

    private static double rssMb(Path status) {
        return kbField(status, "VmRSS:") / 1024.0;
    }

    /** Memory available to new allocations in MB ({@code MemAvailable}; NaN off Linux). */
    public static double availableMb() {
        return kbField(Path.of("/proc/meminfo"), "MemAvailable:") / 1024.0;
    }

    /** The kB figure of the line starting with {@code key} in a /proc file; NaN where none. */
    private static double kbField(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return Double.NaN;
    }

    /**
     * CPU time of this process's Java threads in nanoseconds, each read from its own clock
     * (nanoseconds, where the process total from the OS bean advances in 10 ms ticks, longer than a
     * short benchmark repetition); the JVM's own threads (compiler, GC) are not counted. 0 where
     * the JVM does not tell.
     */
    public static long cpuNanos() {
        java.lang.management.ThreadMXBean t =
                java.lang.management.ManagementFactory.getThreadMXBean();
        if (!t.isThreadCpuTimeSupported() || !t.isThreadCpuTimeEnabled()) {
            return 0;
        }
        long sum = 0;
        for (long id : t.getAllThreadIds()) {
            sum += Math.max(0, t.getThreadCpuTime(id)); // -1: the thread has ended
        }
        return sum;
    }
}
