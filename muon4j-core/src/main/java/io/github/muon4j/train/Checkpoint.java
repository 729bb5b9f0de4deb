package io.github.muon4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint directory {@code ckpt-000123/}: one file per part (weights, optimizer state, data
 * position, trainer state, config) and {@code manifest.json} with the SHA-256 and size of each.
 *
 * <p>Crash safety: parts go to a hidden temporary directory, each file is fsynced, the manifest is
 * written last, and the directory is renamed into place atomically. A crash at any moment leaves
 * either no new checkpoint or a complete one, and the previous checkpoint untouched. Only the
 * newest {@code keep} checkpoints are kept. {@link #open} verifies every checksum before anything
 * is read.
 *
 * <p>Recovery: readers call {@link #openNewestIntact}, which skips damaged checkpoints of a run
 * with one warning line. A failed write (a full disk) removes its temporary directory and names the
 * newest intact checkpoint; a killed writer's leftovers go at the next start ({@link
 * #removeTemporaries}). Checkpoints order by step, numerically, past {@code ckpt-999999}.
 */
public final class Checkpoint {

    /** Writes one part of a checkpoint. */
    @FunctionalInterface
    public interface Part {
        void write(OutputStream out) throws IOException;
    }

    static final String MANIFEST = "manifest.json";
    static final String FORMAT = "muon4j-checkpoint";
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d{6,})");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final Path dir;
    private final int step;
    private final Map<String, Path> parts;

    private Checkpoint(Path dir, int step, Map<String, Path> parts) {
        this.dir = dir;
        this.step = step;
        this.parts = parts;
    }

    public Path dir() {
        return dir;
    }

    public int step() {
        return step;
    }

    /** The verified bytes of a part, streamed from its file (parts may be larger than 2 GiB). */
    public InputStream part(String name) {
        try {
            return new BufferedInputStream(Files.newInputStream(partFile(name)), 1 << 16);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "checkpoint " + dir + ": cannot read " + name + " (" + e.getMessage() + ")");
        }
    }

    /** The file of a verified part, for random access (safetensors). */
    public Path partFile(String name) {
        Path p = parts.get(name);
        if (p == null) {
            throw new IllegalArgumentException(
                    "checkpoint "
                            + dir
                            + " has no part '"
                            + name
                            + "': not a muon4j checkpoint of this version");
        }
        return p;
    }

    /** Whether the checkpoint holds a part of this name. */
    public boolean hasPart(String name) {
        return parts.containsKey(name);
    }

    public String partText(String name) {
        try (InputStream in = part(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a checkpoint for {@code step} into {@code runDir} and prunes to the newest {@code
     * keep}.
     */
    public static Path write(Path runDir, int step, Map<String, Part> parts, int keep)
            throws IOException {
        Files.createDirectories(runDir);
        String name = String.format("ckpt-%06d", step);
        Path tmp = runDir.resolve("." + name + ".tmp");
        deleteTree(tmp);
        try {
            writeParts(tmp, step, parts);
        } catch (IOException | RuntimeException e) {
            // disk full, or any failure: leave no partial directory; the previous checkpoints are
            // untouched
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // the next start removes it (removeTemporaries)
            }
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new CheckpointWriteException(
                    "saving checkpoint "
                            + runDir.resolve(name)
                            + " failed ("
                            + why
                            + "); nothing was written, "
                            + newestIntactNote(runDir),
                    e);
        }
        Path target = runDir.resolve(name);
        deleteTree(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        fsyncDir(runDir);
        List<Path> all = list(runDir);
        for (int i = 0; i < all.size() - Math.max(1, keep); i++) {
            deleteTree(all.get(i));
        }
        return target;
    }

    /** Thrown when a checkpoint could not be written; the message names the newest intact one. */
    public static final class CheckpointWriteException extends IOException {
        public CheckpointWriteException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** "the newest intact checkpoint is DIR (step N)", or that there is none yet. */
    static String newestIntactNote(Path runDir) {
        try {
            Checkpoint c = openNewestIntact(runDir, w -> {});
            return "the newest intact checkpoint is " + c.dir() + " (step " + c.step() + ")";
        } catch (RuntimeException none) {
            return "there is no intact checkpoint in " + runDir + " yet";
        }
    }

    /** Where checkpoint files are opened for writing; tests swap it to inject write failures. */
    @FunctionalInterface
    interface Storage {
        FileChannel create(Path file) throws IOException;
    }

    static final Storage DISK =
            f -> FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    static volatile Storage storage = DISK;

    private static void writeParts(Path tmp, int step, Map<String, Part> parts) throws IOException {
        Files.createDirectories(tmp);
        JsonObject files = new JsonObject();
        for (Map.Entry<String, Part> e : parts.entrySet()) {
            Path f = tmp.resolve(e.getKey());
            MessageDigest md = sha256();
            long size;
            try (FileChannel ch = storage.create(f);
                    OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
                    CountingOutputStream cnt = new CountingOutputStream(raw);
                    DigestOutputStream out = new DigestOutputStream(cnt, md)) {
                e.getValue().write(out);
                out.flush();
                ch.force(true);
                size = cnt.count;
            }
            JsonObject meta = new JsonObject();
            meta.addProperty("sha256", HexFormat.of().formatHex(md.digest()));
            meta.addProperty("bytes", size);
            files.add(e.getKey(), meta);
        }
        JsonObject manifest = new JsonObject();
        manifest.addProperty("format", FORMAT);
        manifest.addProperty("version", 1);
        manifest.addProperty("step", step);
        manifest.add("files", files);
        Path mf = tmp.resolve(MANIFEST);
        try (FileChannel ch = storage.create(mf)) {
            java.nio.ByteBuffer buf =
                    java.nio.ByteBuffer.wrap(
                            GSON.toJson(manifest).getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /**
     * Opens a checkpoint: {@code path} is a checkpoint directory, or a run directory whose newest
     * checkpoint is taken. Every part's checksum is verified.
     */
    public static Checkpoint open(Path path) {
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException("checkpoint " + path + ": no such directory");
        }
        Path dir = path;
        if (!Files.exists(path.resolve(MANIFEST))) {
            List<Path> all = listOrFail(path);
            if (all.isEmpty()) {
                throw new IllegalArgumentException(
                        "checkpoint "
                                + path
                                + ": not a muon4j checkpoint (no manifest.json and no ckpt-* inside)");
            }
            dir = all.get(all.size() - 1);
        }
        JsonObject manifest;
        try {
            manifest = GSON.fromJson(Files.readString(dir.resolve(MANIFEST)), JsonObject.class);
        } catch (IOException | JsonParseException e) {
            throw new IllegalArgumentException("checkpoint " + dir + ": unreadable manifest.json");
        }
        if (manifest == null
                || !manifest.has("format")
                || !FORMAT.equals(jsonString(manifest.get("format")))) {
            throw new IllegalArgumentException("checkpoint " + dir + ": not a muon4j checkpoint");
        }
        Map<String, String> sums = manifestSums(dir, manifest);
        Map<String, Path> parts = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : sums.entrySet()) {
            Path f = dir.resolve(e.getKey());
            String got;
            try {
                got = sha256Of(f); // streamed: a part may be larger than a byte[]
            } catch (IOException ex) {
                throw new IllegalArgumentException(
                        "checkpoint " + dir + " is corrupt: " + e.getKey() + " is missing");
            }
            String want = e.getValue();
            if (!want.equals(got)) {
                throw new IllegalArgumentException(
                        "checkpoint " + dir + " is corrupt: checksum mismatch in " + e.getKey());
            }
            parts.put(e.getKey(), f);
        }
        return new Checkpoint(dir, manifest.get("step").getAsInt(), parts);
    }

    /**
     * The SHA-256 of each part that {@code manifest} lists, after checking its fields: {@code step}
     * a whole number, {@code files} an object of plain file names each with a 64-digit {@code
     * sha256}.
     */
    private static Map<String, String> manifestSums(Path dir, JsonObject manifest) {
        String where = "checkpoint " + dir + ": malformed manifest.json (";
        com.google.gson.JsonElement step = manifest.get("step");
        if (step == null
                || !step.isJsonPrimitive()
                || !step.getAsJsonPrimitive().isNumber()
                || step.getAsDouble() != Math.rint(step.getAsDouble())
                || step.getAsDouble() < 0
                || step.getAsDouble() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where + "'step' must be a whole number)");
        }
        long named = stepOf(dir);
        if (named >= 0 && named != step.getAsLong()) {
            throw new IllegalArgumentException(
                    where + "'step' is " + step.getAsLong() + " in " + dir.getFileName() + ")");
        }
        com.google.gson.JsonElement files = manifest.get("files");
        if (files == null || !files.isJsonObject() || files.getAsJsonObject().size() == 0) {
            throw new IllegalArgumentException(
                    where + "'files' must be an object naming each part)");
        }
        Map<String, String> sums = new LinkedHashMap<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e :
                files.getAsJsonObject().entrySet()) {
            String name = e.getKey();
            if (name.isEmpty()
                    || name.contains("/")
                    || name.contains("\\")
                    || name.startsWith(".")
                    || MANIFEST.equals(name)) {
                throw new IllegalArgumentException(where + "bad part name '" + name + "')");
            }
            String sha =
                    e.getValue().isJsonObject()
                            ? jsonString(e.getValue().getAsJsonObject().get("sha256"))
                            : null;
            if (sha == null || !sha.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(
                        where + "part '" + name + "' has no valid 'sha256')");
            }
            sums.put(name, sha);
        }
        return sums;
    }

    private static String jsonString(com.google.gson.JsonElement e) {
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()
                ? e.getAsString()
                : null;
    }

    /**
     * The checkpoint every reader uses ({@code train --resume}, {@code eval}, {@code generate},
     * {@code export}). {@code path} is a checkpoint directory (opened as is: damage is an error) or
     * a run directory: its newest intact checkpoint, where each newer damaged one (a checksum
     * mismatch, a missing part, a malformed manifest) is skipped and named in one warning line
     * given to {@code warn}. No intact checkpoint: one {@link IllegalArgumentException} naming what
     * is wrong.
     */
    public static Checkpoint openNewestIntact(Path path, java.util.function.Consumer<String> warn) {
        if (!Files.isDirectory(path) || Files.exists(path.resolve(MANIFEST))) {
            return open(path);
        }
        List<Path> all = listOrFail(path);
        if (all.isEmpty()) {
            return open(path); // the "not a muon4j checkpoint" error
        }
        List<String> damaged = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                Checkpoint c = open(all.get(i));
                if (!damaged.isEmpty()) {
                    warn.accept(
                            "muon4j: warning: skipped damaged "
                                    + String.join("; ", damaged)
                                    + "; using the newest intact checkpoint "
                                    + c.dir()
                                    + " (step "
                                    + c.step()
                                    + ")");
                }
                return c;
            } catch (IllegalArgumentException e) {
                damaged.add(e.getMessage().replaceFirst("^checkpoint ", "checkpoint "));
            }
        }
        throw new IllegalArgumentException(
                "no intact checkpoint in " + path + ": " + String.join("; ", damaged));
    }

    /**
     * Removes temporary checkpoint directories ({@code .ckpt-*.tmp}) that a crash or a full disk
     * left in {@code runDir}; returns how many. Call only while holding the run's lock.
     */
    public static int removeTemporaries(Path runDir) throws IOException {
        int n = 0;
        if (!Files.isDirectory(runDir)) {
            return 0;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, ".ckpt-*.tmp")) {
            for (Path p : ds) {
                deleteTree(p);
                n++;
            }
        }
        return n;
    }

    /** {@link #list}, with an unreadable directory as a one-line user error. */
    private static List<Path> listOrFail(Path path) {
        try {
            return list(path);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "checkpoint " + path + ": cannot list it (" + e.getMessage() + ")");
        }
    }

    /** Checkpoint directories of a run, oldest first. */
    public static List<Path> list(Path runDir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(runDir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir, "ckpt-*")) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.exists(p.resolve(MANIFEST))) {
                    out.add(p);
                }
            }
        }
        // by step, numerically: ckpt-1000000 is newer than ckpt-999999
        out.sort(java.util.Comparator.comparingLong(Checkpoint::stepOf));
        return out;
    }

    private static String sha256Of(Path f) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long stepOf(Path ckpt) {
        Matcher m = NAME.matcher(ckpt.getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        String digits = m.group(1);
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // not every file system lets a directory be opened for sync; the rename is still atomic
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            List<Path> all = walk.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path q : all) {
                Files.deleteIfExists(q);
            }
        }
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
