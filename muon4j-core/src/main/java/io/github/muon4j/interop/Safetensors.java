package io.github.muon4j.interop;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON ({@code
 * name -> {dtype, shape, data_offsets: [begin, end]}} plus an optional {@code "__metadata__"}
 * string map), then the raw little-endian tensor bytes, contiguous and in header order.
 *
 * <p>Writing streams (nothing larger than one chunk is held beyond the caller's floats), so a file
 * may be far larger than 2 GiB; reading is positional through a {@link FileChannel}, one tensor at
 * a time.
 */
public final class Safetensors {

    private Safetensors() {}

    /** Element types muon4j writes and reads. */
    public enum DType {
        F32(4),
        BF16(2),
        F16(2);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** "f32" | "bf16" | "f16" (case-insensitive), as the {@code --dtype} flag spells them. */
        public static DType parse(String s) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "f32":
                case "float32":
                    return F32;
                case "bf16":
                case "bfloat16":
                    return BF16;
                case "f16":
                case "float16":
                    return F16;
                default:
                    throw new IllegalArgumentException(
                            "--dtype must be f32, bf16 or f16, got '" + s + "'");
            }
        }
    }

    /** A float32 tensor to write: row-major {@code data} of {@code shape}. */
    public record Tensor(long[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException(
                        "tensor of shape "
                                + java.util.Arrays.toString(shape)
                                + " needs "
                                + n
                                + " values, got "
                                + data.length);
            }
        }
    }

    /** One tensor of a file being read: its type, shape and byte range within the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final int CHUNK = 1 << 20; // elements per write

    /** The largest header read (the format's reference reader allows 100 MB). */
    static final long MAX_HEADER = 100_000_000;

    /**
     * Streams a safetensors file to {@code out}.
     *
     * @param tensors in file order
     * @param dtype element type of each tensor, by name (values are converted from float32,
     *     round-to-nearest-even)
     * @param metadata the {@code "__metadata__"} strings (e.g. {@code format: pt})
     */
    public static void write(
            OutputStream out,
            Map<String, Tensor> tensors,
            Function<String, DType> dtype,
            Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            DType t = dtype.apply(e.getKey());
            long bytes = (long) e.getValue().data().length * t.bytes;
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.name());
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            o.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            o.add("data_offsets", offsets);
            header.add(e.getKey(), o);
            offset += bytes;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(len.array());
        out.write(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
        ByteBuffer buf = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            DType t = dtype.apply(e.getKey());
            float[] v = e.getValue().data();
            for (int off = 0; off < v.length; off += CHUNK) {
                int n = Math.min(CHUNK, v.length - off);
                buf.clear();
                for (int i = 0; i < n; i++) {
                    float f = v[off + i];
                    switch (t) {
                        case F32 -> buf.putFloat(f);
                        case BF16 -> buf.putShort(toBf16(f));
                        case F16 -> buf.putShort(toF16(f));
                    }
                }
                out.write(buf.array(), 0, buf.position());
            }
        }
        out.flush();
    }

    /** A safetensors file opened for reading. */
    public static final class Reader implements AutoCloseable {
        private final Path path;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Reader(Path path) throws IOException {
            this.path = path;
            channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                long size = channel.size();
                if (size < 8) {
                    throw bad("shorter than its 8-byte header length (" + size + " bytes)");
                }
                ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(0, lb);
                long n = lb.flip().getLong();
                // checked against the file's size before anything is allocated for it
                if (n <= 1 || n > MAX_HEADER || n > size - 8) {
                    throw bad(
                            "header length "
                                    + Long.toUnsignedString(n)
                                    + " does not fit a file of "
                                    + size
                                    + " bytes");
                }
                ByteBuffer hb = ByteBuffer.allocate((int) n);
                readFully(8, hb);
                JsonObject header;
                try {
                    JsonElement h =
                            JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8));
                    header = h.getAsJsonObject();
                } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
                    throw bad("header is not a JSON object");
                }
                dataStart = 8 + n;
                long dataSize = size - dataStart;
                for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                    if (e.getKey().equals("__metadata__")) {
                        if (!e.getValue().isJsonObject()) {
                            throw bad("__metadata__ is not an object of strings");
                        }
                        for (Map.Entry<String, JsonElement> m :
                                e.getValue().getAsJsonObject().entrySet()) {
                            if (!m.getValue().isJsonPrimitive()
                                    || !m.getValue().getAsJsonPrimitive().isString()) {
                                throw bad(
                                        "__metadata__ value '" + m.getKey() + "' is not a string");
                            }
                            metadata.put(m.getKey(), m.getValue().getAsString());
                        }
                        continue;
                    }
                    if (!e.getValue().isJsonObject()) {
                        throw bad("tensor " + e.getKey() + " is not described by an object");
                    }
                    entries.put(
                            e.getKey(),
                            entry(e.getKey(), e.getValue().getAsJsonObject(), dataSize));
                }
                checkTiling(dataSize);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        /**
         * The tensors must cover the data section exactly: no overlap, no gap, nothing after the
         * last.
         */
        private void checkTiling(long dataSize) {
            Entry[] byStart = entries.values().toArray(new Entry[0]);
            java.util.Arrays.sort(
                    byStart,
                    java.util.Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long at = 0;
            Entry previous = null;
            for (Entry e : byStart) {
                if (e.begin() < at) {
                    throw bad(
                            "tensors "
                                    + previous.name()
                                    + " and "
                                    + e.name()
                                    + " overlap (bytes "
                                    + e.begin()
                                    + " to "
                                    + at
                                    + ")");
                }
                if (e.begin() > at) {
                    throw bad(
                            "a gap of "
                                    + (e.begin() - at)
                                    + " bytes before tensor "
                                    + e.name()
                                    + " (tensors must tile the data exactly)");
                }
                at = e.end();
                previous = e;
            }
            if (at != dataSize) {
                throw bad(
                        "the tensors cover "
                                + at
                                + " of the "
                                + dataSize
                                + " data bytes (they must tile the data exactly)");
            }
        }

        private Entry entry(String name, JsonObject o, long dataSize) {
            JsonElement t = o.get("dtype");
            if (t == null || !t.isJsonPrimitive() || !t.getAsJsonPrimitive().isString()) {
                throw bad("tensor " + name + " has no dtype");
            }
            DType dtype;
            try {
                dtype = DType.valueOf(t.getAsString());
            } catch (IllegalArgumentException e) {
                throw bad(
                        "tensor "
                                + name
                                + " has dtype "
                                + t.getAsString()
                                + " (supported: F32, BF16, F16)");
            }
            long[] shape = longs(o.get("shape"), -1, name, "shape");
            long[] off = longs(o.get("data_offsets"), 2, name, "data_offsets");
            long elements = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw bad("tensor " + name + " has a negative dimension");
                }
                // a shape whose byte size exceeds the file is refused before any multiplication can
                // overflow
                if (d != 0 && elements > dataSize / d) {
                    elements = Long.MAX_VALUE;
                } else {
                    elements *= d;
                }
            }
            if (off[0] < 0 || off[1] < off[0] || off[1] > dataSize) {
                throw bad(
                        "tensor "
                                + name
                                + " has data_offsets ["
                                + off[0]
                                + ", "
                                + off[1]
                                + "] outside the "
                                + dataSize
                                + " data bytes");
            }
            if (elements == Long.MAX_VALUE
                    || elements > dataSize / dtype.bytes
                    || off[1] - off[0] != elements * dtype.bytes) {
                throw bad(
                        "tensor "
                                + name
                                + " has data_offsets ["
                                + off[0]
                                + ", "
                                + off[1]
                                + "] that do not match its shape "
                                + java.util.Arrays.toString(shape)
                                + " and dtype "
                                + dtype);
            }
            return new Entry(name, dtype, shape, off[0], off[1]);
        }

        /** A JSON array of integers ({@code n} of them, or any number when n < 0). */
        private long[] longs(JsonElement e, int n, String name, String field) {
            if (e == null
                    || !e.isJsonArray()
                    || (n >= 0 && e.getAsJsonArray().size() != n)
                    || e.getAsJsonArray().size() > 64) {
                throw bad("tensor " + name + " has no valid " + field);
            }
            JsonArray a = e.getAsJsonArray();
            long[] out = new long[a.size()];
            for (int i = 0; i < out.length; i++) {
                JsonElement x = a.get(i);
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                    throw bad(
                            "tensor "
                                    + name
                                    + " has a "
                                    + field
                                    + " that is not a list of integers");
                }
                try {
                    // exactly a long, checked before any arithmetic on it (a huge exponent is
                    // refused, not expanded)
                    out[i] = new java.math.BigDecimal(x.getAsString()).longValueExact();
                } catch (NumberFormatException | ArithmeticException notALong) {
                    throw bad(
                            "tensor "
                                    + name
                                    + " has a "
                                    + field
                                    + " that is not a list of integers in range");
                }
                if (out[i] < 0) {
                    throw bad("tensor " + name + " has a negative " + field + " value");
                }
            }
            return out;
        }

        /** Opens {@code path}; a file that is not safetensors fails with one line naming it. */
        public static Reader open(Path path) throws IOException {
            return new Reader(path);
        }

        public Map<String, Entry> entries() {
            return Collections.unmodifiableMap(entries);
        }

        public Map<String, String> metadata() {
            return Collections.unmodifiableMap(metadata);
        }

        /** The tensor's values as float32 (widened exactly from bf16/f16). */
        public float[] floats(String name) throws IOException {
            Entry e = entries.get(name);
            if (e == null) {
                throw new IllegalArgumentException(path + ": no tensor '" + name + "'");
            }
            if (e.elements() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(
                        path + ": tensor " + name + " is too large for one Java array");
            }
            float[] out = new float[(int) e.elements()];
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart + e.begin();
            int done = 0;
            while (done < out.length) {
                int n = Math.min(CHUNK * 4 / e.dtype().bytes, out.length - done);
                buf.clear().limit(n * e.dtype().bytes);
                readFully(pos, buf);
                buf.flip();
                for (int i = 0; i < n; i++) {
                    out[done + i] =
                            switch (e.dtype()) {
                                case F32 -> buf.getFloat();
                                case BF16 -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
                                case F16 -> fromF16(buf.getShort());
                            };
                }
                pos += (long) n * e.dtype().bytes;
                done += n;
            }
            return out;
        }

        private void readFully(long pos, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                int r = channel.read(b, pos);
                if (r < 0) {
                    throw bad("truncated");
                }
                pos += r;
            }
        }

        private IllegalArgumentException bad(String why) {
            // tensor names come from the file: control characters are shown as spaces, so the
            // message stays one line
            return new IllegalArgumentException(
                    path
                            + " is not a valid safetensors file: "
                            + why.replaceAll("\\p{Cntrl}+", " "));
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** float32 -> bfloat16 bits, round to nearest even; NaN stays NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** float32 -> IEEE half bits, round to nearest even, with subnormals, infinities and NaN. */
    static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00); // overflow to infinity
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign; // underflow to signed zero
            }
            int m = mant | 0x800000; // implicit bit
            int shift = 14 - e; // 24-bit significand to the subnormal position
            int half = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) == 1)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) {
            half++; // may carry into the exponent, which is the correct rounding (up to infinity)
        }
        return (short) (sign | half);
    }

    /** IEEE half bits -> float32 (exact). */
    static float fromF16(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
