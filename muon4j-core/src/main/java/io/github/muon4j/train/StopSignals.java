package io.github.muon4j.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (what Slurm, Kubernetes and systemd send before stopping a job) and SIGINT (Ctrl-C).
 *
 * <p>While a training loop runs ({@link #arm}), or for the whole of a command that trains many runs
 * ({@link #stopBetweenRuns}), the first signal only asks for a stop: the loop finishes the current
 * step, writes a checkpoint and returns; the command then exits 143 (TERM) or 130 (INT). A second
 * signal, or any signal while nothing can stop cleanly (start-up, the end-of-run samples), ends the
 * process at once with the same code.
 *
 * <p>"At once" never means {@code System.exit} or {@link Runtime#halt}: both run the C library's
 * {@code exit()}, which destroys libtorch's static objects while the training thread may still be
 * inside libtorch (a backward pass) and makes it jump through a destroyed function table ({@code
 * SIGSEGV at pc=0 in at::accelerator::getAccelerator}). The process ends through {@code
 * ImmediateExit} ({@code _exit}), which skips those destructors. Every file muon4j writes is
 * replaced atomically, so the newest checkpoint stays usable.
 *
 * <p>A command that trains several runs (compare, sweep, study) installs this, calls {@link
 * #stopBetweenRuns}, and lets {@link TrainLoop} (which finds the installed instance through {@link
 * #active}) stop mid-run; {@link #throwIfRequested} between runs turns a stop into {@link Stopped},
 * which the command maps to its exit code with {@link Stopped#exitCode}.
 */
public final class StopSignals implements AutoCloseable {

    /** A stop was asked for by a signal; the command should end with {@link #exitCode}. */
    public static final class Stopped extends RuntimeException {
        private final String signal;

        public Stopped(String signal) {
            super("stopped by SIG" + signal);
            this.signal = signal;
        }

        public String signal() {
            return signal;
        }

        public int exitCode() {
            return StopSignals.exitCode(signal);
        }
    }

    private static volatile StopSignals active;

    private final PrintStream log;
    private final IntConsumer halt;
    private final List<Signal> installed = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile String received;
    private volatile boolean armed;
    private volatile boolean betweenRuns;
    private volatile int step;

    /** For tests: {@code halt} stands in for {@code ImmediateExit.now}. */
    public StopSignals(PrintStream log, IntConsumer halt) {
        this.log = log;
        this.halt = halt;
    }

    /** Handles SIGTERM and SIGINT in this process until {@link #close}. */
    public static StopSignals install(PrintStream log) {
        StopSignals s = new StopSignals(log, ImmediateExit::now);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal sig = new Signal(name);
                s.previous.add(Signal.handle(sig, x -> s.deliver(name)));
                s.installed.add(sig);
            } catch (IllegalArgumentException unavailable) {
                // e.g. SIGINT when the JVM runs with -Xrs, or a platform without it: default
                // handling
            }
        }
        active = s;
        return s;
    }

    /** The instance installed in this process, or null. */
    public static StopSignals active() {
        return active;
    }

    /** The exit code for a signal: 128 + its number (TERM 15, INT 2). */
    public static int exitCode(String signal) {
        return "INT".equals(signal) ? 130 : 143;
    }

    /**
     * A signal arrived: the first one while a stop is possible asks for it, anything else exits
     * now.
     */
    public void deliver(String name) {
        synchronized (this) {
            if (received == null && (armed || betweenRuns)) {
                received = name;
                log.println(
                        "muon4j: SIG"
                                + name
                                + " received: "
                                + (armed
                                        ? "finishing step "
                                                + step
                                                + ", then saving a checkpoint and stopping"
                                        : "stopping before the next run")
                                + " (send it again to abort at once)");
                log.flush();
                return;
            }
        }
        String first = received != null ? received : name;
        log.println(
                "muon4j: SIG"
                        + name
                        + (received != null ? " again: aborting at once" : " received: stopping")
                        + " (the newest checkpoint on disk is intact)");
        log.flush();
        halt.accept(exitCode(first));
    }

    /**
     * The training loop is running step {@code step}: a first signal now asks it to stop after it.
     */
    void arm(int step) {
        this.step = step;
        armed = true;
    }

    /** The loop is done: signals exit at once again (unless {@link #stopBetweenRuns}). */
    void disarm() {
        armed = false;
    }

    /**
     * For commands that train several runs: from now on a first signal is only recorded; the
     * running {@link TrainLoop} stops after its step and the command checks {@link
     * #throwIfRequested}.
     */
    public StopSignals stopBetweenRuns() {
        betweenRuns = true;
        return this;
    }

    /** Throws {@link Stopped} when a signal asked for a stop. */
    public void throwIfRequested() {
        String s = received;
        if (s != null) {
            throw new Stopped(s);
        }
    }

    /** {@link #throwIfRequested} on the installed instance, if any. */
    public static void throwIfStopRequested() {
        StopSignals s = active;
        if (s != null) {
            s.throwIfRequested();
        }
    }

    /**
     * Runs a command that trains several runs (compare, sweep, study) with signals handled: a first
     * SIGTERM/SIGINT stops the running training after its step (its checkpoint is written, no
     * summary is stored for it) or before the next run; finished runs keep their summaries. Returns
     * the command's exit code, 143/130 when stopped.
     */
    public static int runStoppable(PrintStream log, java.util.concurrent.Callable<Integer> command)
            throws Exception {
        try (StopSignals s = install(log).stopBetweenRuns()) {
            return command.call();
        } catch (Stopped e) {
            log.println(
                    "muon4j: "
                            + e.getMessage()
                            + ": finished runs are kept; the same command continues from them");
            log.flush();
            return e.exitCode();
        }
    }

    /** Whether a stop was asked for. */
    public boolean requested() {
        return received != null;
    }

    /** "TERM" or "INT", or null. */
    public String signal() {
        return received;
    }

    /** Restores the handlers that were there before {@link #install}. */
    @Override
    public void close() {
        for (int i = 0; i < installed.size(); i++) {
            Signal.handle(installed.get(i), previous.get(i));
        }
        installed.clear();
        previous.clear();
        if (active == this) {
            active = null;
        }
    }
}
