package io.github.muon4j.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Optimizer state per parameter and device: an update count and a fixed number of float32 arrays of
 * the weight's shape (Muon: momentum; AdamW: first and second moments), keyed by the parameter's
 * name, never by DJL's per-process id, so that a saved state is found again in another process.
 *
 * <p>Arrays live in the weight's manager on the weight's device and are created on the parameter's
 * first update there: when DJL trains on several devices each copy of a parameter has its own
 * state, as in DJL's own optimizers. {@link #save} writes one state per name (the copies receive
 * the same summed gradient, so they agree). State read back by {@link #load} is held as plain Java
 * floats until the parameter's first update on each device, when it is copied bit for bit into the
 * weight's manager: loading needs no manager, and a resumed run continues exactly.
 */
final class ParamStates {

    private static final int MAGIC = 0x4D344A53; // "M4JS"
    private static final int VERSION = 1;
    private static final int CHUNK = 1 << 20; // floats per write

    /** One parameter's state on one device. */
    static final class Slot {
        int step;
        NDArray[] arrays;
    }

    /** State read by {@link #load}: its update count, shapes and values. */
    private record Loaded(int step, long[][] shapes, float[][] data) {}

    /** One parameter: its slot on each device, and loaded state not yet copied to all of them. */
    private static final class Param {
        final Map<Device, Slot> devices = new LinkedHashMap<>();
        Loaded loaded;
    }

    private final String kind;
    private final int arraysPerParam;
    private final Map<String, Param> params = new LinkedHashMap<>();

    ParamStates(String kind, int arraysPerParam) {
        this.kind = kind;
        this.arraysPerParam = arraysPerParam;
    }

    /** Updates done so far for {@code name} (0 before the first), on its first device. */
    synchronized int step(String name) {
        Param p = params.get(name);
        if (p == null) {
            return 0;
        }
        return p.devices.isEmpty() ? p.loaded.step() : p.devices.values().iterator().next().step;
    }

    /** Updates done so far for {@code name} on {@code device} (0 before the first). */
    synchronized int step(String name, Device device) {
        Param p = params.get(name);
        if (p == null) {
            return 0;
        }
        Slot s = p.devices.get(device);
        return s != null ? s.step : p.loaded != null ? p.loaded.step() : 0;
    }

    /**
     * The slot of {@code name} on the weight's device with its arrays in the weight's manager,
     * created as zeros on first use or copied from loaded state.
     */
    synchronized Slot slot(String name, NDArray weight) {
        Param p = params.computeIfAbsent(name, k -> new Param());
        Slot s = p.devices.get(weight.getDevice());
        if (s != null) {
            // a second update on one device: every device has taken its copy of loaded state
            p.loaded = null;
            return s;
        }
        s = new Slot();
        s.arrays = new NDArray[arraysPerParam];
        for (int i = 0; i < arraysPerParam; i++) {
            if (p.loaded == null) {
                s.arrays[i] = weight.zerosLike();
                continue;
            }
            Shape shape = new Shape(p.loaded.shapes()[i]);
            if (!shape.equals(weight.getShape())) {
                throw new IllegalArgumentException(
                        "optimizer state of parameter '"
                                + name
                                + "' has shape "
                                + shape
                                + " but the weight has shape "
                                + weight.getShape());
            }
            s.arrays[i] = weight.getManager().create(p.loaded.data()[i], shape);
        }
        s.step = p.loaded != null ? p.loaded.step() : 0;
        p.devices.put(weight.getDevice(), s);
        return s;
    }

    /** Whether no parameter has state. */
    synchronized boolean isEmpty() {
        return params.isEmpty();
    }

    /** Closes all state arrays and forgets every parameter. */
    synchronized void clear() {
        for (Param p : params.values()) {
            for (Slot s : p.devices.values()) {
                for (NDArray a : s.arrays) {
                    a.close();
                }
            }
        }
        params.clear();
    }

    /**
     * Writes every parameter's count and arrays by name (one device's copy); does not close the
     * stream.
     *
     * @throws IllegalStateException when a parameter is known only by a DJL id: such state could
     *     not be found again in another process
     */
    synchronized void save(DataOutputStream out) throws IOException {
        for (String name : params.keySet()) {
            if (ParamNames.isDjlId(name)) {
                throw new IllegalStateException(
                        "optimizer state of parameter "
                                + name
                                + " is keyed by a DJL id, which"
                                + " changes in every process; build the optimizer with"
                                + " optBlock(block) so that state is saved by parameter name");
            }
        }
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(kind);
        out.writeInt(arraysPerParam);
        out.writeInt(params.size());
        for (Map.Entry<String, Param> e : params.entrySet()) {
            Param p = e.getValue();
            Slot s = p.devices.isEmpty() ? null : p.devices.values().iterator().next();
            out.writeUTF(e.getKey());
            out.writeInt(s != null ? s.step : p.loaded.step());
            for (int i = 0; i < arraysPerParam; i++) {
                long[] shape;
                float[] data;
                if (s == null) {
                    shape = p.loaded.shapes()[i];
                    data = p.loaded.data()[i];
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
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
            String name = in.readUTF();
            int step = in.readInt();
            long[][] shapes = new long[n][];
            float[][] data = new float[n][];
            for (int a = 0; a < n; a++) {
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                shapes[a] = shape;
                data[a] = readFloats(in);
            }
            Param p = new Param();
            p.loaded = new Loaded(step, shapes, data);
            params.put(name, p);
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
            FloatBuffer fb =
                    ByteBuffer.wrap(bytes, 0, len * 4)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer();
            fb.get(data, off, len);
        }
        return data;
    }

    @Override
    public String toString() {
        return kind + " state " + params.keySet();
    }
}
