package io.github.muon4j.infer;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Small;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    static {
        Small.init();
    }

    @Test
    void greedyGenerationEqualsArgmaxOverFullForwardPasses() {
        for (AttentionKind a : AttentionKind.values()) {
            ModelConfig c = Small.config(a, FfnKind.MOE);
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                int[] prompt = {3, 14, 15, 9, 2};
                List<Integer> streamed = new ArrayList<>();
                Generator g = new Generator(lm);
                int[] got = g.generate(prompt, 6, SamplingConfig.greedy(), streamed::add);
                int[] seq = Arrays.copyOf(prompt, prompt.length + 6);
                for (int i = 0; i < 6; i++) {
                    int len = prompt.length + i;
                    try (NDManager s = m.newSubManager()) {
                        float[] last =
                                lm.forward(
                                                Small.store(m),
                                                s.create(
                                                        Arrays.copyOf(seq, len), new Shape(1, len)),
                                                false)
                                        .logits()
                                        .get(new NDIndex("0, -1, :"))
                                        .toFloatArray();
                        seq[len] = Sampler.argmax(last);
                    }
                }
                assertArrayEquals(
                        Arrays.copyOfRange(seq, prompt.length, seq.length), got, a.name());
                assertEquals(Arrays.stream(got).boxed().toList(), streamed);
                Generator.Stats st = g.lastStats();
                assertEquals(5, st.promptTokens());
                assertEquals(6, st.generatedTokens());
                assertEquals(st.formulaBytesPerToken(), st.measuredBytesPerToken(), 0.0);
                assertEquals(10, st.cacheCapacity());
                assertTrue(st.decodeTokensPerSecond() > 0);
            }
        }
    }

    @Test
    void batchedGenerationEqualsOneAtATime() {
        for (AttentionKind a : AttentionKind.values()) {
            ModelConfig c = Small.config(a, FfnKind.MOE);
            try (NDManager m = Small.newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                int[][] prompts = {{3, 14, 15}, {9}, {2, 6, 5, 3, 5, 8, 9}};
                SamplingConfig s = SamplingConfig.of(0.9, 20, 0.95, 11);
                Generator g = new Generator(lm, 2);
                List<int[]> streamed = new ArrayList<>();
                int[][] batch =
                        g.generate(prompts, 8, s, (seq, t) -> streamed.add(new int[] {seq, t}));
                assertEquals(3, g.lastStats().sequences());
                assertEquals(11, g.lastStats().promptTokens());
                assertEquals(24, g.lastStats().generatedTokens());
                for (int i = 0; i < prompts.length; i++) {
                    SamplingConfig si = SamplingConfig.of(0.9, 20, 0.95, 11 + i);
                    assertArrayEquals(
                            g.generate(prompts[i], 8, si, null), batch[i], a + " sequence " + i);
                    int seq = i;
                    assertArrayEquals(
                            batch[i],
                            streamed.stream()
                                    .filter(e -> e[0] == seq)
                                    .mapToInt(e -> e[1])
                                    .toArray());
                }
                // a stop token ends one sequence while the others go on
                int stop = batch[1][2];
                int[][] stopped = g.generate(prompts, 8, s.withStopToken(stop), null);
                for (int i = 0; i < prompts.length; i++) {
                    int end = 0;
                    while (end < batch[i].length && batch[i][end] != stop) {
                        end++;
                    }
                    assertArrayEquals(Arrays.copyOf(batch[i], Math.min(8, end + 1)), stopped[i]);
                }
            }
        }
    }

    @Test
    void stopTokenEndsGenerationAndSeedsReproduce() {
        ModelConfig c = Small.config(AttentionKind.MLA, FfnKind.DENSE);
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
            Generator g = new Generator(lm);
            SamplingConfig s = SamplingConfig.of(1.0, 10, 0.9, 42);
            int[] a = g.generate(new int[] {1, 2}, 20, s, null);
            int[] b = g.generate(new int[] {1, 2}, 20, s, null);
            assertArrayEquals(a, b);
            int stop = a[3];
            int[] stopped = g.generate(new int[] {1, 2}, 20, s.withStopToken(stop), null);
            int first = 0;
            while (a[first] != stop) {
                first++;
            }
            assertArrayEquals(Arrays.copyOf(a, first + 1), stopped);
        }
    }

    @Test
    void badRequestsAreRejectedAndLongPromptsTruncated() {
        ModelConfig c = Small.config(AttentionKind.MHA, FfnKind.DENSE); // context 32
        try (NDManager m = Small.newManager()) {
            DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
            Generator g = new Generator(lm);
            SamplingConfig s = SamplingConfig.greedy();
            assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], 3, s, null));
            assertThrows(
                    IllegalArgumentException.class, () -> g.generate(new int[] {50}, 3, s, null));
            assertThrows(
                    IllegalArgumentException.class, () -> g.generate(new int[] {1}, 32, s, null));
            int[] longPrompt = new int[40];
            Arrays.fill(longPrompt, 7);
            assertEquals(4, g.generate(longPrompt, 4, s, null).length);
            assertEquals(28, g.lastStats().promptTokens());
        }
        assertThrows(IllegalArgumentException.class, () -> SamplingConfig.of(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingConfig.of(1, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingConfig.of(1, 0, 0, 0));
    }
}
