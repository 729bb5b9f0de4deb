package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Small;
import org.junit.jupiter.api.Test;

class IncrementalDecoderTest {

    static {
        Small.init();
    }

    /** Logits of prefill(first `prefill` tokens) + one token per step, (B, T, V) flattened. */
    private static float[] incremental(
            DecoderLM lm, NDManager m, int[] tokens, int b, int t, int prefill, boolean absorb) {
        float[] out = new float[b * t * lm.config().vocabSize()];
        int v = lm.config().vocabSize();
        try (NDManager s = m.newSubManager();
                IncrementalDecoder dec = new IncrementalDecoder(lm, b, t, absorb)) {
            NDArray all = s.create(tokens, new Shape(b, t));
            int pos = 0;
            while (pos < t) {
                int len = pos == 0 ? prefill : 1;
                NDArray chunk = all.get(new NDIndex(":, {}:{}", pos, pos + len));
                float[] l = dec.step(chunk, s).toFloatArray(); // (B, len, V)
                for (int i = 0; i < b; i++) {
                    System.arraycopy(l, i * len * v, out, (i * t + pos) * v, len * v);
                }
                pos += len;
                assertEquals(pos, dec.position());
            }
        }
        return out;
    }

    private static float[] full(DecoderLM lm, NDManager m, int[] tokens, int b, int t) {
        try (NDManager s = m.newSubManager()) {
            return lm.forward(Small.store(m), s.create(tokens, new Shape(b, t)), false)
                    .logits()
                    .toFloatArray();
        }
    }

    @Test
    void incrementalLogitsEqualTheFullForwardPass() {
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                ModelConfig c = Small.config(a, f);
                try (NDManager m = Small.newManager()) {
                    DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                    int b = 2;
                    int t = 10;
                    int[] tokens = Small.tokens(m, b, t, c.vocabSize(), 5).toIntArray();
                    float[] want = full(lm, m, tokens, b, t);
                    float[] got = incremental(lm, m, tokens, b, t, 4, true);
                    double err = maxDiff(want, got);
                    assertTrue(err < 1e-4, a + "/" + f + " max |diff| " + err);
                }
            }
        }
    }

    @Test
    void mlaAbsorbedEqualsMlaPlain() {
        ModelConfig.Builder cb = Small.config(AttentionKind.MLA, FfnKind.DENSE).toBuilder();
        cb.qLoraRank = 12; // low-rank query path too
        ModelConfig c = cb.build();
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
            int t = 9;
            int[] tokens = Small.tokens(m, 1, t, c.vocabSize(), 8).toIntArray();
            float[] absorbed = incremental(lm, m, tokens, 1, t, 3, true);
            float[] plain = incremental(lm, m, tokens, 1, t, 3, false);
            assertTrue(
                    maxDiff(absorbed, plain) < 1e-4,
                    "absorbed vs plain " + maxDiff(absorbed, plain));
            assertTrue(maxDiff(full(lm, m, tokens, 1, t), absorbed) < 1e-4);
            float[] ones = incremental(lm, m, tokens, 1, t, 1, true); // no prefill chunk at all
            assertTrue(maxDiff(ones, absorbed) < 1e-4);
        }
    }

    @Test
    void cacheHoldsTheFormulaBytesAndNothingGrowsPerToken() {
        for (AttentionKind a : AttentionKind.values()) {
            ModelConfig c = Small.config(a, FfnKind.DENSE);
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                int before = m.getManagedArrays().size();
                try (IncrementalDecoder dec = new IncrementalDecoder(lm, 1, 12, true)) {
                    KvCache kv = dec.cache();
                    assertEquals(4.0 * c.kvCacheValuesPerToken(), kv.bytesPerToken(), 0.0);
                    assertEquals(12L * 4 * c.kvCacheValuesPerToken(), kv.bytes());
                    dec.next(new int[] {1, 2, 3});
                    int afterPrefill = m.getManagedArrays().size();
                    for (int i = 0; i < 5; i++) {
                        dec.next(new int[] {i});
                    }
                    // cache and absorbed weights only: no per-token arrays are left behind
                    assertEquals(afterPrefill, m.getManagedArrays().size());
                    IllegalStateException e =
                            assertThrows(
                                    IllegalStateException.class,
                                    () -> dec.next(new int[] {1, 2, 3, 4, 5}));
                    assertTrue(e.getMessage().contains("kv cache full"));
                }
                assertEquals(before, m.getManagedArrays().size(), "close frees cache and weights");
            }
        }
        // MLA at d=32, 4 heads: latent 16 + rope 4 = 20 values vs MHA 2 * 4 * 8 = 64
        assertEquals(
                20,
                Small.config(AttentionKind.MLA, FfnKind.DENSE)
                        .size()
                        .kvCacheValuesPerTokenPerLayer());
        assertEquals(
                64,
                Small.config(AttentionKind.MHA, FfnKind.DENSE)
                        .size()
                        .kvCacheValuesPerTokenPerLayer());
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double mx = 0;
        for (int i = 0; i < a.length; i++) {
            mx = Math.max(mx, Math.abs(a[i] - b[i]));
        }
        return mx;
    }
}
