package io.github.muon4j.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Key/value cache for incremental decoding, preallocated for {@code capacity} positions and written
 * in place.
 *
 * <pre>
 * MHA, per layer: keys (B, n_heads, capacity, head_dim) and values (B, n_heads, capacity, head_dim)
 * MLA, per layer: latent c (B, capacity, kv_lora_rank) after its RMSNorm and the shared rotary
 *                 key k_pe (B, capacity, qk_rope_head_dim)
 * </pre>
 */
public final class KvCache {

    private final AttentionKind kind;
    private final int capacity;
    private final List<NDArray[]> layers = new ArrayList<>();
    private int length;

    /** Allocates zeroed caches in {@code m} (the generation's manager). */
    public KvCache(ModelConfig c, NDManager m, DataType type, int batch, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException(
                    "kv cache capacity: must be positive, got " + capacity);
        }
        this.kind = c.attention();
        this.capacity = capacity;
        for (int l = 0; l < c.nLayers(); l++) {
            if (kind == AttentionKind.MHA) {
                Shape s = new Shape(batch, c.nHeads(), capacity, c.headDim());
                layers.add(new NDArray[] {m.zeros(s, type), m.zeros(s, type)});
            } else {
                layers.add(
                        new NDArray[] {
                            m.zeros(new Shape(batch, capacity, c.kvLoraRank()), type),
                            m.zeros(new Shape(batch, capacity, c.qkRopeHeadDim()), type)
                        });
            }
        }
    }

    public AttentionKind kind() {
        return kind;
    }

    /** Positions written so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Marks {@code t} more positions as written (after all layers wrote them). */
    void advance(int t) {
        length += t;
    }

    /**
     * Writes a layer's entries for positions start..start+T-1. MHA: a = k, b = v (B, h, T, hd);
     * MLA: a = c (B, T, kv_lora_rank), b = k_pe (B, T, rope).
     */
    void write(int layer, NDArray a, NDArray b, int start) {
        int end = start + (int) a.getShape().get(kind == AttentionKind.MHA ? 2 : 1);
        if (end > capacity) {
            throw new IllegalStateException(
                    "kv cache full: capacity " + capacity + " positions, need " + end);
        }
        NDArray[] arrays = layers.get(layer);
        arrays[0].set(index(start, end), a);
        arrays[1].set(index(start, end), b);
    }

    /** The first {@code end} positions of a layer's two arrays, as views in {@code m}. */
    NDArray[] read(int layer, int end, NDManager m) {
        NDArray[] arrays = layers.get(layer);
        return new NDArray[] {arrays[0].get(m, index(0, end)), arrays[1].get(m, index(0, end))};
    }

    /**
     * The first {@code end} positions of a layer's two arrays, copied to Java (batch row-major).
     */
    float[][] copyOut(int layer, int end) {
        NDArray[] arrays = layers.get(layer);
        float[][] out = new float[2][];
        for (int i = 0; i < 2; i++) {
            try (NDArray v = arrays[i].get(index(0, end))) {
                out[i] = v.toFloatArray();
            }
        }
        return out;
    }

    private NDIndex index(int start, int end) {
        return kind == AttentionKind.MHA
                ? new NDIndex(":, :, {}:{}, :", start, end)
                : new NDIndex(":, {}:{}, :", start, end);
    }

    /** Bytes of all cache arrays as allocated (elements times element size). */
    public long bytes() {
        long b = 0;
        for (NDArray[] arrays : layers) {
            for (NDArray a : arrays) {
                b += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return b;
    }

    /**
     * Measured bytes per cached position: {@link #bytes()} / capacity (per sequence of the batch).
     */
    public double bytesPerToken() {
        long batch = layers.get(0)[0].getShape().get(0);
        return bytes() / (double) capacity / batch;
    }
}
