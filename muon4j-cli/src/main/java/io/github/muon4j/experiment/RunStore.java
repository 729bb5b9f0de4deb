package io.github.muon4j.experiment;

import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * A study's shared results directory: one summary per finished run, {@code
 * <dir>/<label>-<key>.json}, found by its key; several processes (on one machine or many, sharing
 * the directory) train into it.
 *
 * <ul>
 *   <li>A summary is written to a temporary file named after the writing process, then renamed into
 *       place (atomic), so a reader never sees half a summary.
 *   <li>A run is claimed by an exclusive lock ({@code fcntl}, through {@link FileChannel#tryLock})
 *       on {@code <dir>/.claims/<key>.lock}, held while it trains: no two processes train one run.
 *       The kernel (or the network file system's lock manager) drops the lock when its process
 *       dies, so the claim of a crashed run is simply taken by the next process that tries it.
 * </ul>
 */
public final class RunStore {

    private final Path dir;
    private final Path scratch;
    private final PrintStream log;
    private final Map<String, RunSummary> index = new HashMap<>();
    private final String owner;
    private int trained;
    private long deadlineNanos = Long.MAX_VALUE;

    /** How a run is trained into its summary (tests replace it). */
    public interface Training {
        RunSummary train(String label, String key, TrainConfig c, Path runDir) throws IOException;
    }

    private Training training = RunStore::trainForReal;

    /** Trains with {@code t} instead of the trainer. */
    public RunStore training(Training t) {
        training = t;
        return this;
    }

    /** Trains the run in {@code runDir}, summarizes it and deletes the directory. */
    static RunSummary trainForReal(String label, String key, TrainConfig c, Path runDir)
            throws IOException {
        RunSummary s = RunCache.trainOnce(key, label, c, runDir);
        Compare.clear(runDir);
        return s;
    }

    public RunStore(Path dir, Path scratch, PrintStream log) {
        this.dir = dir;
        this.scratch = scratch;
        this.log = log;
        this.owner = ManagementFactory.getRuntimeMXBean().getName(); // pid@host
    }

    public Path dir() {
        return dir;
    }

    /** Start no new run after this {@link System#nanoTime()}. */
    public void deadline(long nanos) {
        deadlineNanos = nanos;
    }

    public boolean pastDeadline() {
        return System.nanoTime() > deadlineNanos;
    }

    public int trained() {
        return trained;
    }

    /** The finished run with this key, as of the last {@link #refresh} (or trained here since). */
    public synchronized RunSummary get(String key) {
        return index.get(key);
    }

    /** Reads the summaries that appeared in the directory since the last look. */
    public synchronized void refresh() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f :
                    files.filter(
                                    q ->
                                            q.getFileName().toString().endsWith(".json")
                                                    && !q.getFileName().toString().startsWith("."))
                            .sorted()
                            .toList()) {
                String n = f.getFileName().toString();
                String key = n.substring(n.lastIndexOf('-') + 1, n.length() - 5);
                if (!index.containsKey(key)) {
                    index.put(key, RunSummary.fromJson(Files.readString(f)));
                }
            }
        }
    }

    /** Every summary in the directory, by key. */
    public synchronized Map<String, RunSummary> all() throws IOException {
        refresh();
        return Map.copyOf(index);
    }

    /** Whether some process holds the run's claim now. */
    public boolean claimed(String key) throws IOException {
        try (Claim c = Claim.take(claimFile(key), owner)) {
            return c == null;
        }
    }

    private Path claimFile(String key) {
        return dir.resolve(".claims").resolve(key + ".lock");
    }

    /** What {@link #train} did. */
    public enum Outcome {
        TRAINED,
        ALREADY_DONE,
        CLAIMED_ELSEWHERE
    }

    /**
     * Trains a run unless it is finished or another process holds its claim; writes its summary.
     *
     * @param json the study's spec of the run (stored beside the full configuration)
     */
    public Outcome train(String label, String key, TrainConfig c, com.google.gson.JsonObject json)
            throws IOException {
        if (get(key) != null) {
            return Outcome.ALREADY_DONE;
        }
        Files.createDirectories(claimFile(key).getParent());
        try (Claim claim = Claim.take(claimFile(key), owner)) {
            if (claim == null) {
                return Outcome.CLAIMED_ELSEWHERE;
            }
            refresh();
            if (get(key) != null) { // finished by another process between our look and our claim
                return Outcome.ALREADY_DONE;
            }
            log.printf("  train %s [%s] ...%n", label, key);
            RunSummary s = training.train(label, key, c, scratch.resolve(label + "-" + key));
            s = s.withSpec(json);
            write(dir.resolve(label + "-" + key + ".json"), s.toJson());
            index.put(key, s);
            trained++;
            log.printf(
                    "    %s: final val loss %.4f%s, %.0f s%n",
                    label,
                    s.finalValLoss(),
                    Plan.diverged(s) ? " (diverged)" : "",
                    s.wallSeconds());
            return Outcome.TRAINED;
        }
    }

    /** Writes a file atomically: a temporary file of this process beside it, then a rename. */
    public static void write(Path f, String text) throws IOException {
        Files.createDirectories(f.toAbsolutePath().getParent());
        Path tmp =
                f.resolveSibling(
                        "." + f.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * An exclusive lock on a claim file, held until closed; null from {@link #take} when another
     * process holds it.
     */
    record Claim(FileChannel channel, FileLock lock) implements AutoCloseable {

        static Claim take(Path f, String owner) throws IOException {
            Files.createDirectories(f.getParent());
            FileChannel ch =
                    FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // this process holds it already (another thread)
            }
            if (lock == null) {
                ch.close();
                return null;
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((owner + "\n").getBytes(StandardCharsets.UTF_8)));
            return new Claim(ch, lock);
        }

        @Override
        public void close() throws IOException {
            lock.release();
            channel.close();
        }
    }
}
