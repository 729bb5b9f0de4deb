package io.github.muon4j.data;

import com.google.gson.Gson;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batches of (B, T+1) token windows, row-major in one {@code int[]}, from a {@link TokenDataset}.
 *
 * <p>Batch {@code i} is a pure function of (seed, order, i): RANDOM draws each window start from a
 * hash of (seed, i*B + row), uniform over the {@code size - T} possible starts; SEQUENTIAL walks
 * windows with stride T from token 0 (each window's last token is the next one's first), wrapping
 * at the end. So the position a checkpoint needs is just the next batch index ({@link State}), and
 * a restored loader yields exactly the batches an uninterrupted one would. A background thread
 * keeps {@code prefetch} batches ready so the trainer never waits.
 */
public final class BatchLoader implements AutoCloseable {

    /** Window order. */
    public enum Order {
        RANDOM,
        SEQUENTIAL
    }

    /** The loader's position: the index of the batch {@link #next} returns next. */
    public record State(long seed, Order order, long nextBatch) {
        private static final Gson GSON = new Gson();

        public String toJson() {
            return GSON.toJson(this);
        }

        public static State fromJson(String json) {
            State s = GSON.fromJson(json, State.class);
            if (s == null || s.order() == null) {
                throw new IllegalArgumentException("data position: not a loader state: " + json);
            }
            return s;
        }
    }

    private final TokenDataset data;
    private final int b;
    private final int t;
    private final long seed;
    private final Order order;
    private final int prefetch;
    private final ExecutorService worker;
    private final ArrayDeque<Future<int[]>> ready = new ArrayDeque<>();
    private long next; // index of the batch next() returns
    private long queued; // index of the next batch to hand to the worker

    public BatchLoader(
            TokenDataset data, int batch, int seqLen, long seed, Order order, int prefetch) {
        if (batch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch size and sequence length must be at least 1");
        }
        if (data.size() < seqLen + 1L) {
            throw new DataException(
                    "data: "
                            + data.size()
                            + " tokens, but one window of seq_len "
                            + seqLen
                            + " needs at least "
                            + (seqLen + 1));
        }
        this.data = data;
        this.b = batch;
        this.t = seqLen;
        this.seed = seed;
        this.order = order;
        this.prefetch = Math.max(0, prefetch);
        this.worker =
                this.prefetch == 0
                        ? null
                        : Executors.newSingleThreadExecutor(
                                r -> {
                                    Thread th = new Thread(r, "muon4j-prefetch");
                                    th.setDaemon(true);
                                    return th;
                                });
        fill();
    }

    /** The next batch: B*(T+1) tokens. */
    public int[] next() {
        int[] out;
        if (worker == null) {
            out = batch(next);
        } else {
            try {
                out = ready.removeFirst().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("prefetch failed: " + e.getCause(), e.getCause());
            }
        }
        next++;
        fill();
        return out;
    }

    public State state() {
        return new State(seed, order, next);
    }

    /** Continues from {@code s}: prefetched batches are dropped and made again from there. */
    public void restore(State s) {
        if (s.seed() != seed || s.order() != order) {
            throw new IllegalArgumentException(
                    "data position: saved for seed "
                            + s.seed()
                            + " "
                            + s.order()
                            + ", this loader has seed "
                            + seed
                            + " "
                            + order);
        }
        for (Future<int[]> f : ready) {
            f.cancel(false);
        }
        ready.clear();
        next = s.nextBatch();
        queued = next;
        fill();
    }

    private void fill() {
        if (worker == null) {
            return;
        }
        if (queued < next) {
            queued = next;
        }
        while (ready.size() < prefetch) {
            long i = queued++;
            ready.addLast(worker.submit(() -> batch(i)));
        }
    }

    /** Batch {@code i}, computed from scratch. */
    int[] batch(long i) {
        int[] out = new int[b * (t + 1)];
        long starts = data.size() - t; // possible window starts
        for (int r = 0; r < b; r++) {
            long w = i * b + r;
            long start =
                    order == Order.RANDOM
                            ? Math.floorMod(mix(seed, w), starts)
                            : Math.floorMod(w * t, starts);
            data.read(start, out, r * (t + 1), t + 1);
        }
        return out;
    }

    /** SplitMix64 of (seed, counter): a seeded, stateless stream of well-mixed longs. */
    static long mix(long seed, long counter) {
        long z = seed * 0x9E3779B97F4A7C15L + counter * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        if (worker != null) {
            worker.shutdownNow();
        }
    }
}
