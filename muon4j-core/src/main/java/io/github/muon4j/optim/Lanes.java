package io.github.muon4j.optim;

import ai.djl.pytorch.jni.JniUtils;
import io.github.muon4j.Denormals;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Independent pieces of libtorch work run side by side on a CPU, each piece on one thread: n Java
 * threads (the caller and n - 1 pool threads) take the items in order, and while they run
 * libtorch's intra-op thread count is 1, so no product is split over threads. For many small
 * matrices (Muon's Newton-Schulz over 512-wide weights) n products at once keep the cores busier
 * than one product split n ways, whose threads meet at a barrier after every kernel.
 *
 * <p>The intra-op thread count is global to the process: it is set back to its value before the
 * call when the call returns, but another thread running libtorch at the same time runs on one
 * thread meanwhile. Every lane runs with the caller's autograd mode (a per-thread setting in
 * libtorch); other per-thread state the work needs, it carries itself. The pool's threads are
 * daemons, made on first use.
 */
final class Lanes {

    private static ExecutorService pool;
    private static int poolSize;

    private Lanes() {}

    /** libtorch's intra-op threads: how many lanes a CPU call uses by default. */
    static int available() {
        return JniUtils.getNumThreads();
    }

    /**
     * Runs {@code work} on every item, on {@code n} threads, items taken in list order (put the
     * largest first); returns when all are done. The first exception an item throws is rethrown
     * after every thread has stopped. Calls from several threads run one after another.
     */
    static <T> void run(List<T> items, int n, Consumer<T> work) {
        int lanes = Math.min(n, items.size());
        if (lanes <= 1) {
            items.forEach(work);
            return;
        }
        // one call at a time: two overlapping calls would each set back the other's count
        synchronized (Lanes.class) {
            runLanes(items, lanes, work);
        }
    }

    private static <T> void runLanes(List<T> items, int lanes, Consumer<T> work) {
        AtomicInteger next = new AtomicInteger();
        boolean gradMode = JniUtils.isGradMode(); // per thread in libtorch: the caller's for all
        boolean flush = Denormals.active(); // per thread (MXCSR): the caller's for all
        Runnable lane =
                () -> {
                    JniUtils.setNumThreads(1); // this thread's and the process's count
                    JniUtils.setGradMode(gradMode);
                    try (Denormals d = flush ? Denormals.flushToZero() : null) {
                        for (int i = next.getAndIncrement();
                                i < items.size();
                                i = next.getAndIncrement()) {
                            work.accept(items.get(i));
                        }
                    } catch (RuntimeException | Error e) {
                        next.set(items.size()); // the other lanes stop after their current item
                        throw e;
                    }
                };
        int before = JniUtils.getNumThreads();
        List<Future<?>> others = new ArrayList<>(lanes - 1);
        RuntimeException failure = null;
        try {
            ExecutorService p = pool(lanes - 1);
            for (int i = 1; i < lanes; i++) {
                others.add(p.submit(lane));
            }
            lane.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            boolean interrupted = false;
            for (Future<?> f : others) {
                while (true) { // every lane has stopped before the thread count is set back
                    try {
                        f.get();
                        break;
                    } catch (ExecutionException e) {
                        if (failure == null) {
                            failure =
                                    e.getCause() instanceof RuntimeException r
                                            ? r
                                            : new IllegalStateException(e.getCause());
                        }
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            JniUtils.setNumThreads(before);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static ExecutorService pool(int threads) { // under the class lock
        if (pool == null || poolSize < threads) {
            if (pool != null) {
                pool.shutdown();
            }
            AtomicInteger count = new AtomicInteger();
            pool =
                    Executors.newFixedThreadPool(
                            threads,
                            r -> {
                                Thread t = new Thread(r, "muon4j-lane-" + count.incrementAndGet());
                                t.setDaemon(true);
                                return t;
                            });
            poolSize = threads;
        }
        return pool;
    }
}
