package io.github.muon4j.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code run.lock} in a run directory: only one process trains in it at a time. The file holds the
 * holder's pid; the operating system's lock on it is the authority (it dies with its process, even
 * on {@code kill -9}). A lock file left by a dead process is taken over. A lock file naming another
 * live Java process is respected even where the file system does not lock (some network mounts).
 */
final class RunLock implements AutoCloseable {

    static final String FILE = "run.lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code runDir} (created if needed). Another holder: an {@link
     * IllegalArgumentException} naming its pid and the lock file.
     */
    public static RunLock acquire(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path file = runDir.resolve(FILE);
        FileChannel ch =
                FileChannel.open(
                        file,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
        FileLock lock = null;
        boolean held;
        try {
            lock = ch.tryLock();
            held = lock == null;
        } catch (OverlappingFileLockException sameProcess) {
            held = true;
        } catch (IOException noLocking) {
            held = false; // a file system without locks: the pid rule below decides alone
        }
        long me = ProcessHandle.current().pid();
        long holder = readPid(file);
        if (held || (holder >= 0 && holder != me && isLiveJava(holder))) {
            if (lock != null) {
                lock.release();
            }
            ch.close();
            throw inUse(runDir, file, holder >= 0 ? holder : me);
        }
        byte[] pid = (me + "\n").getBytes(StandardCharsets.US_ASCII);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(pid), 0);
        ch.force(true);
        return new RunLock(file, ch, lock);
    }

    private static IllegalArgumentException inUse(Path runDir, Path file, long pid) {
        return new IllegalArgumentException(
                runDir
                        + " is in use by another muon4j process (pid "
                        + pid
                        + ", lock file "
                        + file
                        + ")");
    }

    /** The pid written in a lock file, or -1. */
    static long readPid(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static boolean isLiveJava(long pid) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(p -> p.info().command().map(c -> c.contains("java")).orElse(false))
                .orElse(false);
    }

    /** Releases the lock and removes the file. */
    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(file);
        } finally {
            try {
                if (lock != null) {
                    lock.release();
                }
            } finally {
                channel.close();
            }
        }
    }
}
