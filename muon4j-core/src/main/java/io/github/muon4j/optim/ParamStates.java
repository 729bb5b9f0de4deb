package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-parameter optimizer state keyed by parameter name: an update count and a fixed number of
 * float32 arrays of the weight's shape (Muon: momentum; AdamW: first and second moments).
 *
 * <p>Arrays live in the weight's manager and are created on the parameter's first update. State
 * read back by {@link #load} is held as plain Java floats until the parameter's next update, when
 * it is copied bit for bit into the weight's manager: loading needs no manager, and a resumed run
 * continues exactly.
 */
final class ParamStates {

    private static final int MAGIC = 0x4D344A53; // "M4JS"
    private static final int VERSION = 1;
    private static final int CHUNK = 1 << 20; // floats per write

    /** One parameter's state. */
    static final class Slot {
        int step;
        NDArray[] arrays;
        float[][] pending;
        long[][] pendingShapes;
    }

    private final String kind;
    private final int arraysPerParam;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    ParamStates(String kind, int arraysPerParam) {
        this.kind = kind;
        this.arraysPerParam = arraysPerParam;
    }

    /** Updates done so far for {@code name} (0 before the first). */
    synchronized int step(String name) {
        Slot s = slots.get(name);
        return s == null ? 0 : s.step;
    }

    /**
     * The slot of {@code name} with its arrays in the weight's manager, created as zeros on first
     * use or materialized from loaded state.
     */
    synchronized Slot slot(String name, NDArray weight) {
        Slot s = slots.computeIfAbsent(name, k -> new Slot());
        if (s.pending != null) {
            NDArray[] arrays = new NDArray[arraysPerParam];
            for (int i = 0; i < arraysPerParam; i++) {
                Shape shape = new Shape(s.pendingShapes[i]);
                if (!shape.equals(weight.getShape())) {
                    throw new IllegalArgumentException(
                            "optimizer state of parameter '" + name + "' has shape " + shape
                                    + " but the weight has shape " + weight.getShape());
                }
                arrays[i] = weight.getManager().create(s.pending[i], shape);
            }
            s.arrays = arrays;
            s.pending = null;
            s.pendingShapes = null;
        } else if (s.arrays == null) {
            NDArray[] arrays = new NDArray[arraysPerParam];
            for (int i = 0; i < arraysPerParam; i++) {
                arrays[i] = weight.zerosLike();
            }
            s.arrays = arrays;
        }
        return s;
    }

    /** Closes all state arrays and forgets every parameter. */
    synchronized void clear() {
        for (Slot s : slots.values()) {
            if (s.arrays != null) {
                for (NDArray a : s.arrays) {
                    a.close();
                }
            }
        }
        slots.clear();
    }

    /** Writes every parameter's count and arrays; does not close the stream. */
    synchronized void save(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(kind);
        out.writeInt(arraysPerParam);
        out.writeInt(slots.size());
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            out.writeUTF(e.getKey());
            out.writeInt(s.step);
            for (int i = 0; i < arraysPerParam; i++) {
                long[] shape;
                float[] data;
                if (s.pending != null) {
                    shape = s.pendingShapes[i];
                    data = s.pending[i];
                } else {
                    if (s.arrays[i].getDataType() != DataType.FLOAT32) {
                        throw new IllegalArgumentException(
                                "optimizer state of '" + e.getKey() + "' must be float32");
                    }
                    shape = s.arrays[i].getShape().getShape();
                    data = s.arrays[i].toFloatArray();
                }
                out.writeInt(shape.length);
                for (long d : shape) {
                    out.writeLong(d);
                }
                writeFloats(out, data);
            }
        }
        out.flush();
    }

    /** Replaces all state with what {@link #save} wrote; does not close the stream. */
    synchronized void load(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IllegalArgumentException("optimizer state: not a muon4j state stream");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IllegalArgumentException(
                    "optimizer state: version " + version + " is not supported (" + VERSION + ")");
        }
        String k = in.readUTF();
        int n = in.readInt();
        if (!k.equals(kind) || n != arraysPerParam) {
            throw new IllegalArgumentException(
                    "optimizer state: stream holds '" + k + "' state, expected '" + kind + "'");
        }
        clear();
        int params = in.readInt();
        for (int p = 0; p < params; p++) {
            String name = in.readUTF();
            Slot s = new Slot();
            s.step = in.readInt();
            s.pending = new float[n][];
            s.pendingShapes = new long[n][];
            for (int i = 0; i < n; i++) {
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                s.pendingShapes[i] = shape;
                s.pending[i] = readFloats(in);
            }
            slots.put(name, s);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] data) throws IOException {
        out.writeInt(data.length);
        ByteBuffer buf = ByteBuffer.allocate(Math.min(data.length, CHUNK) * 4);
        buf.order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off < data.length; off += CHUNK) {
            int len = Math.min(CHUNK, data.length - off);
            buf.clear();
            buf.asFloatBuffer().put(data, off, len);
            out.write(buf.array(), 0, len * 4);
        }
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        float[] data = new float[in.readInt()];
        byte[] bytes = new byte[Math.min(data.length, CHUNK) * 4];
        for (int off = 0; off < data.length; off += CHUNK) {
            int len = Math.min(CHUNK, data.length - off);
            in.readFully(bytes, 0, len * 4);
            FloatBuffer fb = ByteBuffer.wrap(bytes, 0, len * 4)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer();
            fb.get(data, off, len);
        }
        return data;
    }

    @Override
    public String toString() {
        return kind + " state " + Arrays.toString(slots.keySet().toArray());
    }
}
