package io.github.muon4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where training steps go: per phase, wall time, the process's user and kernel CPU time, and its
 * minor page faults (each a page of memory touched for the first time since it was mapped: the cost
 * of large temporaries that the allocator hands back to the OS and maps again), summed over the
 * steps it was passed to. CPU times and faults come from {@code /proc/self/stat} (Linux; elsewhere
 * only wall time is filled in). PyTorch runs CPU operators synchronously, so the wall time between
 * two marks is the time of the operators called in between.
 */
public final class StepProfile {

    /** Phases of {@link TrainStep#run}, in order. */
    public enum Phase {
        /** token windows into a native array */
        DATA,
        /** embedding, layers and final norm */
        FORWARD,
        /** LM head and cross-entropy (forward, and the fused head's own gradient) */
        HEAD_LOSS,
        /** autograd backward through the layers (and the plain head) */
        BACKWARD,
        /** global gradient norm and clipping */
        CLIP,
        /** the optimizer's update */
        OPTIMIZER,
        /** zeroing gradients and balancing biases */
        ZERO,
        /** closing the step's manager: freeing its native arrays */
        FREE
    }

    /** Totals of one phase. */
    public static final class Totals {
        public double wallSeconds;
        public double userSeconds;
        public double sysSeconds;
        public long minorFaults;
        public int steps;
    }

    /** Clock ticks per second of /proc/self/stat (USER_HZ: 100 on Linux x86 and arm). */
    private static final double TICKS = 100.0;

    private final Map<Phase, Totals> totals = new EnumMap<>(Phase.class);
    private Phase current;
    private long wall0;
    private long[] proc0;

    public StepProfile() {
        for (Phase p : Phase.values()) {
            totals.put(p, new Totals());
        }
    }

    /** Ends the running phase (if any) and starts {@code next} (null: none). */
    public void mark(Phase next) {
        long now = System.nanoTime();
        long[] proc = procStat();
        if (current != null) {
            Totals t = totals.get(current);
            t.wallSeconds += (now - wall0) / 1e9;
            if (proc != null && proc0 != null) {
                t.userSeconds += (proc[0] - proc0[0]) / TICKS;
                t.sysSeconds += (proc[1] - proc0[1]) / TICKS;
                t.minorFaults += proc[2] - proc0[2];
            }
            t.steps++;
        }
        current = next;
        wall0 = now;
        proc0 = proc;
    }

    /** Totals per phase (live view). */
    public Map<Phase, Totals> totals() {
        return totals;
    }

    /** Sum over phases of wall time. */
    public double wallSeconds() {
        return totals.values().stream().mapToDouble(t -> t.wallSeconds).sum();
    }

    /** Clears all totals. */
    public void reset() {
        for (Phase p : Phase.values()) {
            totals.put(p, new Totals());
        }
        current = null;
    }

    /**
     * {utime, stime, minflt} of this process in ticks and faults, or null where /proc is missing.
     */
    public static long[] procStat() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            // fields after the command name, which is in parentheses and may contain spaces
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state): minflt is field 10, utime 14, stime 15
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[7])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
