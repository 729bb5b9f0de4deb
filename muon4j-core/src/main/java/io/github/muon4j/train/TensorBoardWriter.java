package io.github.muon4j.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * TensorBoard event files ({@code events.out.tfevents.*}), which TensorBoard reads and W&amp;B
 * imports ({@code wandb sync --sync-tensorboard}), written with no dependency: TFRecord framing
 * around hand-encoded protobuf {@code tensorflow.Event} messages.
 *
 * <p>TFRecord: {@code uint64 length, uint32 masked_crc32c(length), data, uint32
 * masked_crc32c(data)}, little-endian, where {@code masked(c) = ((c >>> 15) | (c << 17)) +
 * 0xa282ead8} over CRC-32C (Castagnoli). The first record is {@code Event{wall_time, file_version:
 * "brain.Event:2"}}; then one {@code Event{wall_time (1, double), step (2, int64), summary
 * (5){value (1){tag (1), simple_value (2, float)}}}} per metrics record, one scalar per number
 * (nested objects give "outer/inner" tags). A resumed run starts a new file whose first event after
 * the version is a {@code session_log (7){status (1): START}} at the first step it will write,
 * which tells TensorBoard to drop the older files' points from that step on (the steps redone after
 * the checkpoint).
 */
final class TensorBoardWriter implements AutoCloseable {

    static final String FILE_VERSION = "brain.Event:2";
    private static final int MASK_DELTA = 0xa282ead8;

    private final Path file;
    private final OutputStream out;

    private TensorBoardWriter(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens a new event file in {@code dir}. {@code restartStep} >= 0 marks a resumed run (a
     * session-log START at that step); -1 a fresh one.
     */
    public static TensorBoardWriter open(Path dir, long restartStep) throws IOException {
        long secs = System.currentTimeMillis() / 1000;
        String host =
                System.getenv()
                        .getOrDefault("HOSTNAME", "localhost")
                        .replaceAll("[^A-Za-z0-9.-]", "_");
        Path file;
        int n = 0;
        do {
            file =
                    dir.resolve(
                            String.format(
                                    "events.out.tfevents.%010d.%s.%d.%d.muon4j",
                                    secs, host, ProcessHandle.current().pid(), n++));
        } while (Files.exists(file));
        OutputStream o =
                new BufferedOutputStream(
                        Files.newOutputStream(
                                file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        TensorBoardWriter w = new TensorBoardWriter(file, o);
        double now = System.currentTimeMillis() / 1000.0;
        w.record(event(now, 0, proto -> proto.string(3, FILE_VERSION)));
        if (restartStep >= 0) {
            w.record(
                    event(
                            now,
                            restartStep,
                            proto ->
                                    proto.message(
                                            7, new Proto().varint(1, 1)))); // SessionLog.START
        }
        w.out.flush();
        return w;
    }

    public Path file() {
        return file;
    }

    /** Writes the numbers of a metrics record (its "step" is the event's step) and flushes. */
    public void log(JsonObject record) throws IOException {
        if (!record.has("step")) {
            return;
        }
        long step = record.get("step").getAsLong();
        Proto summary = new Proto();
        int[] count = {0};
        scalars(
                "",
                record,
                (tag, v) -> {
                    summary.message(
                            1, new Proto().string(1, tag).fixed32(2, Float.floatToIntBits(v)));
                    count[0]++;
                });
        if (count[0] == 0) {
            return;
        }
        record(
                event(
                        System.currentTimeMillis() / 1000.0,
                        step,
                        proto -> proto.message(5, summary)));
        out.flush();
    }

    interface Scalar {
        void accept(String tag, float value);
    }

    private static void scalars(String prefix, JsonObject o, Scalar sink) {
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            String tag = prefix + e.getKey();
            JsonElement v = e.getValue();
            if (prefix.isEmpty() && e.getKey().equals("step")) {
                continue;
            }
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                sink.accept(tag, v.getAsFloat());
            } else if (v.isJsonObject()) {
                scalars(tag + "/", v.getAsJsonObject(), sink);
            }
        }
    }

    private static byte[] event(
            double wallTime, long step, java.util.function.Consumer<Proto> body) {
        Proto p = new Proto().fixed64(1, Double.doubleToLongBits(wallTime));
        if (step != 0) {
            p.varint(2, step);
        }
        body.accept(p);
        return p.bytes();
    }

    /** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
    private void record(byte[] data) throws IOException {
        ByteBuffer len =
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, data.length);
        ByteBuffer crc = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        out.write(len.array());
        out.write(crc.putInt(0, maskedCrc32c(len.array())).array());
        out.write(data);
        out.write(crc.putInt(0, maskedCrc32c(data)).array());
    }

    /** TFRecord's masked CRC-32C. */
    static int maskedCrc32c(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** A protobuf message being encoded: fields appended in order. */
    static final class Proto {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                b.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            b.write((int) v);
        }

        Proto varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Proto fixed64(int field, long v) {
            raw((long) field << 3 | 1);
            for (int i = 0; i < 8; i++) {
                b.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Proto fixed32(int field, int v) {
            raw((long) field << 3 | 5);
            for (int i = 0; i < 4; i++) {
                b.write(v >>> (8 * i));
            }
            return this;
        }

        Proto bytes(int field, byte[] v) {
            raw((long) field << 3 | 2);
            raw(v.length);
            b.writeBytes(v);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.bytes());
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }
}
