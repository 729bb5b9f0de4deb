package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import io.github.muon4j.model.Small;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchDecoderTest {

    static {
        Small.init();
    }

    /**
     * MHA and MLA (plain and low-rank queries) with dense and MoE (softmax and sigmoid routers).
     */
    static List<ModelConfig> configs() {
        List<ModelConfig> cs = new ArrayList<>();
        for (AttentionKind a : AttentionKind.values()) {
            for (FfnKind f : FfnKind.values()) {
                cs.add(Small.config(a, f));
            }
        }
        ModelConfig.Builder b = Small.config(AttentionKind.MLA, FfnKind.MOE).toBuilder();
        b.qLoraRank = 12;
        b.scoreFunction = ScoreFunction.SIGMOID;
        b.nDenseLayers = 1;
        b.tiedEmbeddings = false;
        cs.add(b.build());
        return cs;
    }

    /** Full-forward logits (B, T, V) flattened. */
    static float[] full(DecoderLM lm, NDManager m, int[] tokens, int b, int t) {
        try (NDManager s = m.newSubManager()) {
            return lm.forward(Small.store(m), s.create(tokens, new Shape(b, t)), false)
                    .logits()
                    .toFloatArray();
        }
    }

    /**
     * Every position of b sequences fed through a BatchDecoder: the first {@code prefill} tokens
     * through the DJL prefill (0 = none), the rest one step at a time; logits (B, T, V) flattened.
     */
    static float[] decode(
            DecoderLM lm, int[] tokens, int b, int t, int prefill, int threads, Kernels k) {
        int v = lm.config().vocabSize();
        float[] out = new float[b * t * v];
        try (BatchDecoder dec = new BatchDecoder(lm, new DecoderWeights(lm), b, t, threads, k)) {
            dec.parallelMin(1); // share even these tiny sections between the threads
            if (prefill > 0) {
                for (int i = 0; i < b; i++) {
                    float[] l = dec.prefill(i, Arrays.copyOfRange(tokens, i * t, i * t + prefill));
                    System.arraycopy(l, 0, out, (i * t + prefill - 1) * v, v);
                }
            }
            int[] step = new int[b];
            for (int p = prefill; p < t; p++) {
                for (int i = 0; i < b; i++) {
                    step[i] = tokens[i * t + p];
                }
                float[] l = dec.step(step);
                for (int i = 0; i < b; i++) {
                    System.arraycopy(l, i * v, out, (i * t + p) * v, v);
                    assertEquals(p + 1, dec.position(i));
                }
            }
        }
        return out;
    }

    @Test
    void decodeLogitsEqualTheFullForwardPass() {
        Kernels simd = Kernels.simd();
        assertNotNull(simd, "the tests run with --add-modules jdk.incubator.vector (pom.xml)");
        for (ModelConfig c : configs()) {
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                int b = 3, t = 11;
                int[] tokens = Small.tokens(m, b, t, c.vocabSize(), 5).toIntArray();
                float[] want = full(lm, m, tokens, b, t);
                String what = c.attention() + "/" + c.ffn() + " q_lora " + c.qLoraRank();
                for (Kernels k : new Kernels[] {simd, Kernels.plain()}) {
                    for (int threads : new int[] {1, 2}) {
                        float[] got = decode(lm, tokens, b, t, 0, threads, k);
                        double err = IncrementalDecoderTest.maxDiff(want, got);
                        assertTrue(err < 1e-4, what + " " + k.name() + " x" + threads + ": " + err);
                    }
                }
                // prefill through DJL, then Java steps: only the positions both produce
                float[] got = decode(lm, tokens, b, t, 4, 2, simd);
                int v = c.vocabSize();
                for (int i = 0; i < b; i++) {
                    for (int p = 3; p < t; p++) {
                        float[] w = Arrays.copyOfRange(want, (i * t + p) * v, (i * t + p + 1) * v);
                        float[] g = Arrays.copyOfRange(got, (i * t + p) * v, (i * t + p + 1) * v);
                        assertTrue(
                                IncrementalDecoderTest.maxDiff(w, g) < 1e-4,
                                what + " prefill, pos " + p);
                    }
                }
            }
        }
    }

    /**
     * MLA with 16 heads over one block of the online softmax and 8 positions more: enough heads for
     * the SIMD scores kernel to put heads in its lanes (a group of 16 heads for 3 sequences, two
     * groups of 8 for one sequence on two threads), and a second, partial block.
     */
    @Test
    void mlaWithManyHeadsAndSeveralBlocksEqualsTheFullForwardPass() {
        ModelConfig.Builder cb = Small.config(AttentionKind.MLA, FfnKind.DENSE).toBuilder();
        cb.dModel = 64;
        cb.nHeads = 16;
        int t = MlaAttention.BLOCK + 8;
        cb.contextLength = t + 8;
        cb.deriveDefaults();
        ModelConfig c = cb.build();
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
            for (int b : new int[] {1, 3}) {
                int[] tokens = Small.tokens(m, b, t, c.vocabSize(), 11).toIntArray();
                float[] want = full(lm, m, tokens, b, t);
                for (Kernels k : new Kernels[] {Kernels.simd(), Kernels.plain()}) {
                    float[] got = decode(lm, tokens, b, t, 0, 2, k);
                    double err = IncrementalDecoderTest.maxDiff(want, got);
                    assertTrue(err < 1e-4, "batch " + b + " " + k.name() + ": " + err);
                }
            }
        }
    }

    @Test
    void batchedDecodeEqualsSingleDecode() {
        for (ModelConfig c : configs()) {
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                DecoderWeights w = new DecoderWeights(lm);
                int v = c.vocabSize();
                Random r = new Random(3);
                int[] lengths = {2, 6, 3, 9}; // sequences at different positions, and joining late
                int[][] seqTokens = new int[4][];
                for (int i = 0; i < 4; i++) {
                    seqTokens[i] = r.ints(lengths[i] + 5, 0, v).toArray();
                }
                // single: each sequence alone, prefilled then 5 steps
                float[][][] single = new float[4][5][];
                for (int i = 0; i < 4; i++) {
                    try (BatchDecoder one = new BatchDecoder(lm, w, 1, 16, 1)) {
                        one.prefill(0, Arrays.copyOf(seqTokens[i], lengths[i]));
                        for (int s = 0; s < 5; s++) {
                            single[i][s] =
                                    one.step(new int[] {seqTokens[i][lengths[i] + s]}).clone();
                        }
                    }
                }
                // batched: all four, with sequence 2 sitting out the first two steps
                try (BatchDecoder all = new BatchDecoder(lm, w, 4, 16, 2)) {
                    all.parallelMin(1);
                    for (int i = 0; i < 4; i++) {
                        all.prefill(i, Arrays.copyOf(seqTokens[i], lengths[i]));
                    }
                    int[] done = new int[4];
                    for (int step = 0; step < 7; step++) {
                        int[] seqs = new int[4], toks = new int[4];
                        int n = 0;
                        for (int i = 3; i >= 0; i--) { // rows in another order than sequences
                            if (done[i] < 5 && !(i == 2 && step < 2)) {
                                seqs[n] = i;
                                toks[n++] = seqTokens[i][lengths[i] + done[i]];
                            }
                        }
                        if (n == 0) {
                            break;
                        }
                        float[] l = all.step(toks, seqs, n);
                        for (int j = 0; j < n; j++) {
                            int i = seqs[j];
                            float[] got = Arrays.copyOfRange(l, j * v, (j + 1) * v);
                            assertTrue(
                                    IncrementalDecoderTest.maxDiff(single[i][done[i]], got) < 1e-5,
                                    c.attention()
                                            + "/"
                                            + c.ffn()
                                            + " seq "
                                            + i
                                            + " step "
                                            + done[i]);
                            done[i]++;
                        }
                    }
                    assertArrayEquals(new int[] {5, 5, 5, 5}, done);
                    for (int i = 0; i < 4; i++) {
                        assertEquals(lengths[i] + 5, all.position(i));
                    }
                }
            }
        }
    }

    @Test
    void cacheIsPreallocatedAtTheFormulaSizeAndRewindReplays() {
        for (AttentionKind a : AttentionKind.values()) {
            ModelConfig c = Small.config(a, FfnKind.DENSE);
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                try (BatchDecoder dec = new BatchDecoder(lm, 2, 12, 1)) {
                    assertEquals(4.0 * c.kvCacheValuesPerToken(), dec.cacheBytesPerToken(), 0.0);
                    assertEquals(2L * 12 * 4 * c.kvCacheValuesPerToken(), dec.cacheBytes());
                    dec.prefill(0, new int[] {1, 2, 3});
                    dec.copySequence(0, 1);
                    float[] first = dec.step(new int[] {4, 4}).clone();
                    assertArrayEquals(
                            Arrays.copyOf(first, c.vocabSize()),
                            Arrays.copyOfRange(first, c.vocabSize(), 2 * c.vocabSize()));
                    dec.rewind(0, 3);
                    dec.rewind(1, 3);
                    assertArrayEquals(
                            first, dec.step(new int[] {4, 4}), "rewound positions are rewritten");
                    BatchDecoder.Work work = dec.work();
                    assertEquals(2, work.steps());
                    assertEquals(4, work.tokens());
                    // each step reads every matrix once: the non-embedding matrices plus the head
                    assertEquals(
                            2 * 4.0 * c.size().activeMatrixParams(),
                            work.weightBytes(),
                            1e-6 * work.weightBytes());
                    // and the 4 cached positions of both sequences, in every layer
                    assertEquals(
                            2 * 2 * 4 * 4.0 * c.kvCacheValuesPerToken(), work.cacheBytes(), 1e-9);
                    for (int i = 0; i < 8; i++) {
                        dec.step(new int[] {1, 1});
                    }
                    IllegalStateException e =
                            assertThrows(
                                    IllegalStateException.class, () -> dec.step(new int[] {1, 1}));
                    assertTrue(e.getMessage().contains("kv cache full"), e.getMessage());
                    assertThrows(IllegalArgumentException.class, () -> dec.step(new int[] {1}));
                    assertThrows(IllegalArgumentException.class, () -> dec.step(new int[] {1, 50}));
                }
            }
        }
    }
}
