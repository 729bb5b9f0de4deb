package io.github.muon4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every block initialises through DJL's standard {@code initialize(manager, dataType, shapes)},
 * each parameter by its declared initializer, and doing so changes nothing in the host JVM.
 */
class BlockInitTest {

    @TempDir Path dir;

    @Test
    void rmsNormInitialisesThroughDjlsStandardCallWithUnitGains() {
        Small.init();
        try (NDManager m = Small.newManager()) {
            RMSNorm norm = new RMSNorm(8, 1e-6);
            norm.initialize(m, DataType.FLOAT32, new Shape(2, 8));
            float[] gain = norm.getParameters().get("gain").getArray().toFloatArray();
            float[] ones = new float[8];
            java.util.Arrays.fill(ones, 1f);
            assertArrayEquals(ones, gain);
            NDArray x = Small.normal(m, 1, DataType.FLOAT32, 2, 8);
            NDArray y = norm.forward(Small.store(m), new NDList(x), false).singletonOrThrow();
            // unit gains: every row has mean square 1 (up to eps)
            float[] ms = y.square().mean(new int[] {1}).toFloatArray();
            for (float v : ms) {
                assertEquals(1.0, v, 1e-4);
            }
        }
    }

    @Test
    void everyBlockHasAnInitializerOfItsDeclaredScale() {
        Small.init();
        ModelConfig c = Small.config(AttentionKind.MLA, FfnKind.MOE);
        try (NDManager m = Small.newManager()) {
            List<ModelBlock> blocks =
                    List.of(
                            new SwiGLU(c, 64),
                            new MoE(c),
                            new Gate(c),
                            new MultiHeadLatentAttention(c),
                            new MultiHeadAttention(c),
                            new TransformerBlock(c, 0));
            for (ModelBlock b : blocks) {
                b.initialize(m, DataType.FLOAT32, new Shape(2, 4, c.dModel()));
                b.visitParams(
                        "",
                        (name, spec) -> {
                            float[] v = spec.parameter().getArray().toFloatArray();
                            if (spec.std() == 0) {
                                for (float f : v) {
                                    assertEquals(1f, f, name);
                                }
                                return;
                            }
                            double sq = 0;
                            for (float f : v) {
                                sq += (double) f * f;
                            }
                            double std = Math.sqrt(sq / v.length);
                            // normal(0, std): the sample std of n values is within a few 1/sqrt(2n)
                            double tol = spec.std() * (5 / Math.sqrt(2.0 * v.length));
                            assertEquals(
                                    spec.std(),
                                    std,
                                    Math.max(tol, 1e-3),
                                    b.getClass().getSimpleName() + " " + name);
                        });
            }
        }
    }

    @Test
    void decoderLmThroughDjlsStandardCallIsItsSeededInit() {
        Small.init();
        ModelConfig c = Small.config(AttentionKind.MHA, FfnKind.DENSE);
        try (NDManager m = Small.newManager()) {
            DecoderLM seeded = Small.model(c, m, DataType.FLOAT32);
            DecoderLM standard = new DecoderLM(c);
            standard.initialize(m, DataType.FLOAT32, new Shape(2, 8));
            for (Pair<String, Parameter> p : seeded.getParameters()) {
                assertArrayEquals(
                        p.getValue().getArray().toFloatArray(),
                        standard.getParameters().get(p.getKey()).getArray().toFloatArray(),
                        p.getKey());
            }
        }
    }

    @Test
    void initialisingBlocksChangesNoSystemProperty() throws Exception {
        // a fresh JVM: in this one the classes may be loaded already
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("-Xmx512m");
        c.add("-Dai.djl.offline=true");
        c.add("-Dai.djl.pytorch.num_threads=1");
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(PropertyProbe.class.getName());
        Path log = dir.resolve("probe.log");
        Process p =
                new ProcessBuilder(c)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        int code = p.waitFor();
        String out = Files.readString(log);
        assertEquals(0, code, out);
        assertTrue(out.contains("properties unchanged"), out);
    }

    /** Loads the engine, then builds and initialises blocks; exit 3 if any property changed. */
    static final class PropertyProbe {
        public static void main(String[] args) {
            try (NDManager m = NDManager.newBaseManager()) {
                m.zeros(new Shape(1)); // the engine is loaded and has set what it sets
                Map<String, String> before = snapshot();
                new RMSNorm(8, 1e-6).initialize(m, DataType.FLOAT32, new Shape(2, 8));
                ModelConfig c = Small.config(AttentionKind.MLA, FfnKind.MOE);
                DecoderLM lm = new DecoderLM(c);
                lm.initialize(m, DataType.FLOAT32, new Shape(2, 8));
                Map<String, String> after = snapshot();
                if (!before.equals(after)) {
                    System.out.println("changed: before " + before + "\nafter " + after);
                    System.exit(3);
                }
                System.out.println("properties unchanged (" + after.size() + ")");
            }
        }

        private static Map<String, String> snapshot() {
            Properties p = System.getProperties();
            Map<String, String> m = new TreeMap<>();
            for (String k : p.stringPropertyNames()) {
                m.put(k, p.getProperty(k));
            }
            return m;
        }
    }
}
