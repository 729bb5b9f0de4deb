package io.github.muon4j.infer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of worker threads that split a range of work items into contiguous chunks, one per
 * thread, the caller taking the first. Workers spin briefly between calls (decode steps issue
 * sections back to back) and then park, so an idle team costs no CPU. Nothing is allocated per
 * call.
 */
final class Parallel implements AutoCloseable {

    /** Work on items [from, to), as chunk number {@code chunk} (0 = the calling thread). */
    interface Body {
        void run(int chunk, int from, int to);
    }

    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private volatile Body body;
    private volatile int items;
    private volatile Throwable failure;

    /** @param threads threads taking part, the caller included (at least 1) */
    Parallel(int threads) {
        this.threads = Math.max(1, threads);
        workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int chunk = i + 1;
            workers[i] = new Thread(() -> work(chunk), "muon4j-decode-" + chunk);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) in up to {@code threads} chunks; sequentially, as one chunk,
     * when {@code n * costPerItem} is below {@code minCost} (too little work to share).
     */
    void forRange(int n, long costPerItem, long minCost, Body b) {
        if (threads == 1 || n < 2 || n * costPerItem < minCost) {
            b.run(0, 0, n);
            return;
        }
        body = b;
        items = n;
        failure = null;
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        int parts = threads;
        b.run(0, 0, n / parts);
        while (pending.get() > 0) {
            Thread.onSpinWait();
        }
        body = null;
        Throwable f = failure;
        if (f != null) {
            throw new IllegalStateException("decode worker failed: " + f, f);
        }
    }

    private void work(int chunk) {
        int seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            int n = items;
            try {
                int from = (int) ((long) n * chunk / threads);
                int to = (int) ((long) n * (chunk + 1) / threads);
                if (from < to) {
                    body.run(chunk, from, to);
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
