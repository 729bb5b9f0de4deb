package io.github.muon4j.train;

import java.io.PrintStream;

/**
 * Training progress: a redrawn bar on a terminal (step, loss, tokens/s, ETA), plain lines otherwise
 * (logs, CI, pipes).
 */
public final class Progress {

    private final PrintStream out;
    private final boolean terminal;
    private final int total;
    private final long startNanos = System.nanoTime();
    private final int firstStep;
    private long lastPlain;

    public Progress(PrintStream out, int firstStep, int total) {
        this.out = out;
        this.terminal = System.console() != null && System.getenv("CI") == null;
        this.firstStep = firstStep;
        this.total = total;
    }

    /** Reports step {@code step} (1-based) with its loss and throughput. */
    public void step(int step, double loss, double tokensPerSecond) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        int done = step - firstStep;
        double eta = done > 0 ? elapsed / done * (total - step) : Double.NaN;
        String stats =
                String.format(
                        "step %d/%d  loss %.4f  %s tok/s  ETA %s",
                        step, total, loss, human(tokensPerSecond), clock(eta));
        if (terminal) {
            int width = 24;
            int filled = (int) Math.round(width * (double) step / total);
            out.print(
                    "\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + stats + "   ");
            if (step == total) {
                out.println();
            }
            out.flush();
        } else if (step == total
                || step == firstStep + 1
                || System.nanoTime() - lastPlain > 10_000_000_000L) {
            lastPlain = System.nanoTime();
            out.println(stats);
        }
    }

    /** A message on its own line, never inside the bar. */
    public void line(String message) {
        if (terminal) {
            out.print("\r" + " ".repeat(110) + "\r");
        }
        out.println(message);
    }

    static String human(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        return v >= 1e6
                ? String.format("%.2fM", v / 1e6)
                : v >= 1e3 ? String.format("%.1fk", v / 1e3) : String.format("%.0f", v);
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "--:--";
        }
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format("%d:%02d", s / 60, s % 60);
    }
}
