package io.github.muon4j.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (what Slurm, Kubernetes and systemd send before stopping a job) and SIGINT (Ctrl-C) for
 * {@code train}. While the training loop runs ({@link #arm}), the first signal asks it to finish the
 * current step, write a checkpoint and return; the command then exits 143 (TERM) or 130 (INT). A
 * second signal, or any signal while the loop is not running (start-up, the end-of-run samples),
 * exits at once with the same code: every file muon4j writes is replaced atomically, so the newest
 * checkpoint stays usable.
 */
public final class StopSignals implements AutoCloseable {

    private final PrintStream log;
    private final IntConsumer halt;
    private final List<Signal> installed = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile String received;
    private volatile boolean armed;
    private volatile int step;

    /** For tests: {@code halt} stands in for {@link Runtime#halt}. */
    public StopSignals(PrintStream log, IntConsumer halt) {
        this.log = log;
        this.halt = halt;
    }

    /** Handles SIGTERM and SIGINT in this process until {@link #close}. */
    public static StopSignals install(PrintStream log) {
        StopSignals s = new StopSignals(log, code -> Runtime.getRuntime().halt(code));
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal sig = new Signal(name);
                s.previous.add(Signal.handle(sig, x -> s.deliver(name)));
                s.installed.add(sig);
            } catch (IllegalArgumentException unavailable) {
                // e.g. SIGINT when the JVM runs with -Xrs, or a platform without it: default handling
            }
        }
        return s;
    }

    /** The exit code for a signal: 128 + its number (TERM 15, INT 2). */
    public static int exitCode(String signal) {
        return "INT".equals(signal) ? 130 : 143;
    }

    /** A signal arrived: the first one while armed asks for a stop, anything else exits now. */
    public void deliver(String name) {
        synchronized (this) {
            if (received == null && armed) {
                received = name;
                log.println("muon4j: SIG" + name + " received: finishing step " + step
                        + ", then saving a checkpoint and stopping (send it again to abort at once)");
                log.flush();
                return;
            }
        }
        String first = received != null ? received : name;
        log.println("muon4j: SIG" + name + (received != null ? " again: aborting at once" : " received: stopping")
                + " (the newest checkpoint on disk is intact)");
        log.flush();
        halt.accept(exitCode(first));
    }

    /** The training loop is running step {@code step}: a first signal now asks it to stop after it. */
    void arm(int step) {
        this.step = step;
        armed = true;
    }

    /** The loop is done: signals exit at once again. */
    void disarm() {
        armed = false;
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
    }
}
