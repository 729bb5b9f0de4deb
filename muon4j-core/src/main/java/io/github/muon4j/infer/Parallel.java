package io.github.muon4j.infer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of worker threads that share a range of work items: the range is cut into a few
 * blocks per thread, and the caller and the workers claim blocks until none is left, so a worker
 * that the OS does not schedule (a shared machine) delays nobody for more than one block. Workers
 * spin briefly between sections (decode steps issue them back to back) and then park; the caller
 * spins briefly on completion and then yields. Nothing is allocated per call.
 */
final class Parallel implements AutoCloseable {

    /** Work on items [from, to), on the thread numbered {@code thread} (0 = the caller). */
    interface Body {
        void run(int thread, int from, int to);
    }

    private static final long WORKER_SPIN_NANOS = 50_000;
    private static final long CALLER_SPIN_NANOS = 20_000;
    private static final int BLOCKS_PER_THREAD = 4;

    private final int threads;
    private final Thread[] workers;

    /**
     * (section number << 32) | (blocks of the section << 16) | next unclaimed block: a claim checks
     * its block against the count of the same section (a worker that read a finished section's
     * counter must not take it for a block of the next one, which may have more).
     */
    private final AtomicLong state = new AtomicLong();

    /** Blocks per section at most (16 bits of {@link #state}). */
    private static final int MAX_BLOCKS = 0xFFFF;

    private final AtomicInteger completed = new AtomicInteger();
    private volatile boolean closed;
    private volatile Body body;
    private volatile int items;
    private volatile Throwable failure;
    private int section;

    /**
     * @param threads threads taking part, the caller included (at least 1)
     */
    Parallel(int threads) {
        this.threads = Math.max(1, threads);
        workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int id = i + 1;
            workers[i] = new Thread(() -> work(id), "muon4j-decode-" + id);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n); on the calling thread alone when {@code n * costPerItem} is
     * below {@code minCost} (too little work to share).
     */
    void forRange(int n, long costPerItem, long minCost, Body b) {
        if (threads == 1 || n < 2 || n * costPerItem < minCost) {
            b.run(0, 0, n);
            return;
        }
        int nb = Math.min(n, Math.min(threads * BLOCKS_PER_THREAD, MAX_BLOCKS));
        body = b;
        items = n;
        failure = null;
        completed.set(0);
        section++;
        state.set(((long) section << 32) | ((long) nb << 16));
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        claim(0, section);
        long spinUntil = System.nanoTime() + CALLER_SPIN_NANOS;
        while (completed.get() < nb) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        body = null;
        Throwable f = failure;
        if (f != null) {
            throw new IllegalStateException("decode worker failed: " + f, f);
        }
    }

    /** Claims and runs blocks of section {@code sec} until none is left; false if it has ended. */
    private boolean claim(int id, int sec) {
        boolean any = false;
        while (true) {
            long v = state.get();
            if ((int) (v >>> 32) != sec) {
                return any;
            }
            int nb = (int) (v >>> 16) & MAX_BLOCKS, blk = (int) v & MAX_BLOCKS;
            if (blk >= nb) {
                return any;
            }
            // if the compareAndSet below succeeds, state was v throughout (it only grows): the
            // section was not done, so body and items were still its own
            Body b = body;
            int n = items;
            if (!state.compareAndSet(v, v + 1)) {
                continue;
            }
            any = true;
            try {
                int from = (int) ((long) n * blk / nb);
                int to = (int) ((long) n * (blk + 1) / nb);
                b.run(id, from, to);
            } catch (Throwable t) {
                failure = t;
            } finally {
                completed.incrementAndGet();
            }
        }
    }

    private void work(int id) {
        int done = 0;
        while (!closed) {
            long spinUntil = System.nanoTime() + WORKER_SPIN_NANOS;
            int sec;
            while ((sec = (int) (state.get() >>> 32)) == done && !closed) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            claim(id, sec);
            done = sec;
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
