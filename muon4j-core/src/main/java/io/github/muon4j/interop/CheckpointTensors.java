package io.github.muon4j.interop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.data.JsonInts;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.optim.MuonWithAdamW;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * muon4j's own checkpoint parts as safetensors: {@code model.safetensors} holds every parameter
 * under its muon4j name ({@code layer0_attention_wq}, ...) in float32, and {@code
 * optimizer.safetensors} every optimizer state array as {@code <group>/<parameter>/<index>} with
 * the per-parameter update counts in the metadata. Both are read and written bit for bit, so a
 * resumed run continues exactly.
 */
public final class CheckpointTensors {

    private CheckpointTensors() {}

    // ------------------------------------------------------------------ weights

    /** Streams every parameter of {@code model} (float32, muon4j names) as safetensors. */
    public static void writeWeights(DecoderLM model, OutputStream out) throws IOException {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getParameters()) {
            NDArray a = p.getValue().getArray();
            if (a.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException(
                        "parameter " + p.getKey() + " is " + a.getDataType() + ", not float32");
            }
            t.put(
                    HfExport.canonical(p.getKey()),
                    new Safetensors.Tensor(a.getShape().getShape(), a.toFloatArray()));
        }
        Safetensors.write(out, t, n -> Safetensors.DType.F32, Map.of("format", "muon4j"));
    }

    /**
     * Copies the weights of a {@link #writeWeights} file into {@code model}'s parameters, in place.
     */
    public static void readWeights(DecoderLM model, Path file) throws IOException {
        try (Safetensors.Reader r = Safetensors.Reader.open(file)) {
            for (Pair<String, Parameter> p : model.getParameters()) {
                String name = HfExport.canonical(p.getKey());
                Safetensors.Entry e = r.entries().get(name);
                NDArray a = p.getValue().getArray();
                if (e == null || !Arrays.equals(e.shape(), a.getShape().getShape())) {
                    throw new IllegalArgumentException(
                            file.getFileName()
                                    + " does not fit this model: parameter "
                                    + name
                                    + (e == null
                                            ? " is missing"
                                            : " has shape "
                                                    + Arrays.toString(e.shape())
                                                    + ", the model's is "
                                                    + a.getShape()));
                }
                replaceValues(a, r.floats(name));
            }
        }
    }

    /**
     * Overwrites the values of {@code target} (a parameter, at least 1-D) with {@code values} of
     * the same shape, bit for bit, in place (tied weights stay tied). {@code NDArray.set(float[])}
     * would copy through a PyTorch path that prints "AutoNonVariableTypeMode is deprecated" on
     * stderr; an indexed put of the whole array prints nothing.
     */
    static void replaceValues(NDArray target, float[] values) {
        try (NDArray fresh = target.getManager().create(values, target.getShape())) {
            target.set(new ai.djl.ndarray.index.NDIndex(":"), fresh);
        }
    }

    // ------------------------------------------------------------------ optimizer state

    private static final int STATE_MAGIC =
            0x4D344A53; // optim.ParamStates' stream: "M4JS", version 1
    private static final int STATE_VERSION = 1;

    /** One parameter's state arrays in the optimizer's stream. */
    private record Slot(String name, int step, List<long[]> shapes, List<Long> offsets) {}

    /** One optimizer group (Muon or AdamW): its kind, arrays per parameter and parameters. */
    private record Group(String kind, int arrays, List<Slot> slots) {}

    /**
     * Streams the optimizer's state as safetensors. The optimizer writes its own stream (a
     * ParamStates stream per group) to a temporary file, which is read twice: once for the header,
     * once to copy the little-endian floats.
     */
    public static void writeOptimizer(MuonWithAdamW optimizer, OutputStream out)
            throws IOException {
        Path tmp = Files.createTempFile("muon4j-optimizer", ".bin");
        try {
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                optimizer.saveState(o);
            }
            List<Group> groups = scan(tmp);
            JsonArray meta = new JsonArray();
            LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
            for (Group g : groups) {
                JsonObject go = new JsonObject();
                go.addProperty("kind", g.kind());
                go.addProperty("arrays", g.arrays());
                JsonObject steps = new JsonObject();
                for (Slot s : g.slots()) {
                    steps.addProperty(s.name(), s.step());
                    for (int i = 0; i < g.arrays(); i++) {
                        shapes.put(g.kind() + "/" + s.name() + "/" + i, s.shapes().get(i));
                    }
                }
                go.add("steps", steps);
                meta.add(go);
            }
            // an ordered map: Map.of iterates in an order that changes from one JVM to the next,
            // and the
            // file of the same state must be the same bytes in every process
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "muon4j-optimizer");
            metadata.put("groups", meta.toString());
            writeHeader(out, shapes, metadata);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                for (Group g : groups) {
                    for (Slot s : g.slots()) {
                        for (int i = 0; i < g.arrays(); i++) {
                            long pos = s.offsets().get(i);
                            long left = 4 * elements(s.shapes().get(i));
                            while (left > 0) {
                                buf.clear().limit((int) Math.min(buf.capacity(), left));
                                int n = ch.read(buf, pos);
                                if (n < 0) {
                                    throw new EOFException("optimizer state stream ended early");
                                }
                                out.write(buf.array(), 0, n);
                                pos += n;
                                left -= n;
                            }
                        }
                    }
                }
            }
            out.flush();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Loads a {@link #writeOptimizer} file into {@code optimizer} (rebuilding its own stream). */
    public static void readOptimizer(MuonWithAdamW optimizer, Path file) throws IOException {
        Path tmp = Files.createTempFile("muon4j-optimizer", ".bin");
        try (Safetensors.Reader r = Safetensors.Reader.open(file)) {
            String groupsJson = r.metadata().get("groups");
            if (!"muon4j-optimizer".equals(r.metadata().get("format")) || groupsJson == null) {
                throw new IllegalArgumentException(
                        file.getFileName() + " is not muon4j optimizer state");
            }
            try (DataOutputStream o =
                    new DataOutputStream(
                            new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
                for (var ge : JsonParser.parseString(groupsJson).getAsJsonArray()) {
                    JsonObject g = ge.getAsJsonObject();
                    String kind = g.get("kind").getAsString();
                    int arrays = count(file, kind + " arrays", g.get("arrays"));
                    JsonObject steps = g.getAsJsonObject("steps");
                    o.writeInt(STATE_MAGIC);
                    o.writeInt(STATE_VERSION);
                    o.writeUTF(kind);
                    o.writeInt(arrays);
                    o.writeInt(steps.size());
                    for (String name : steps.keySet()) {
                        o.writeUTF(name);
                        o.writeInt(count(file, kind + " step of " + name, steps.get(name)));
                        for (int i = 0; i < arrays; i++) {
                            String key = kind + "/" + name + "/" + i;
                            Safetensors.Entry e = r.entries().get(key);
                            if (e == null || e.dtype() != Safetensors.DType.F32) {
                                throw new IllegalArgumentException(
                                        file.getFileName() + ": no float32 tensor " + key);
                            }
                            o.writeInt(e.shape().length);
                            for (long d : e.shape()) {
                                o.writeLong(d);
                            }
                            float[] v = r.floats(key);
                            o.writeInt(v.length);
                            ByteBuffer b =
                                    ByteBuffer.allocate(v.length * 4)
                                            .order(ByteOrder.LITTLE_ENDIAN);
                            b.asFloatBuffer().put(v);
                            o.write(b.array());
                        }
                    }
                }
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(tmp), 1 << 20)) {
                optimizer.loadState(in);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A count of the state's metadata (arrays per parameter, a step): a whole number >= 0. */
    private static int count(Path file, String what, JsonElement v) {
        try {
            return JsonInts.exact(v, 0, Integer.MAX_VALUE);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    file.getFileName() + ": the " + what + " " + e.getMessage());
        }
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Reads the structure of the optimizer's stream: groups, names, counts, shapes, float offsets.
     */
    private static List<Group> scan(Path f) throws IOException {
        List<Group> groups = new ArrayList<>();
        try (CountingInput cin =
                        new CountingInput(
                                new BufferedInputStream(Files.newInputStream(f), 1 << 20));
                DataInputStream in = new DataInputStream(cin)) {
            while (true) {
                int magic;
                try {
                    magic = in.readInt();
                } catch (EOFException end) {
                    break;
                }
                if (magic != STATE_MAGIC || in.readInt() != STATE_VERSION) {
                    throw new IOException("optimizer state stream: unknown format");
                }
                String kind = in.readUTF();
                int arrays = in.readInt();
                int n = in.readInt();
                List<Slot> slots = new ArrayList<>();
                for (int p = 0; p < n; p++) {
                    String name = in.readUTF();
                    int step = in.readInt();
                    List<long[]> shapes = new ArrayList<>();
                    List<Long> offsets = new ArrayList<>();
                    for (int i = 0; i < arrays; i++) {
                        long[] shape = new long[in.readInt()];
                        for (int d = 0; d < shape.length; d++) {
                            shape[d] = in.readLong();
                        }
                        int len = in.readInt();
                        if (len != elements(shape)) {
                            throw new IOException(
                                    "optimizer state stream: "
                                            + name
                                            + " has "
                                            + len
                                            + " values for its shape");
                        }
                        shapes.add(shape);
                        offsets.add(cin.count);
                        in.skipNBytes(4L * len);
                    }
                    slots.add(new Slot(name, step, shapes, offsets));
                }
                groups.add(new Group(kind, arrays, slots));
            }
        }
        return groups;
    }

    /** A safetensors header for float32 tensors of these shapes, data in this order. */
    private static void writeHeader(
            OutputStream out, Map<String, long[]> shapes, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        metadata.forEach(meta::addProperty);
        header.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = 4 * elements(e.getValue());
            JsonObject o = new JsonObject();
            o.addProperty("dtype", "F32");
            JsonArray shape = new JsonArray();
            for (long d : e.getValue()) {
                shape.add(d);
            }
            o.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + bytes);
            o.add("data_offsets", off);
            header.add(e.getKey(), o);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
    }

    /** Counts the bytes read through it (skips included). */
    private static final class CountingInput extends java.io.FilterInputStream {
        long count;

        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = in.skip(n);
            count += s;
            return s;
        }
    }
}
