package io.github.muon4j.interop;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing (Jazzer) of the readers of model files users download: safetensors and a
 * Hugging Face config.json. Without JAZZER_FUZZ=1 each method replays its committed corpus
 * (src/test/resources/.../UntrustedFilesFuzzTestInputs/METHOD/); with it, one method fuzzes for its
 * maxDuration (.ci/run fuzzes each for 30 s).
 */
class UntrustedFilesFuzzTest {

    static final Path DIR = Untrusted.scratch("muon4j-fuzz-interop");

    @FuzzTest(maxDuration = "30s")
    void safetensors(byte[] data) throws Exception {
        Path f = DIR.resolve("model.safetensors");
        Files.write(f, data);
        Untrusted.check(
                f.toString(),
                () -> {
                    try (Safetensors.Reader r = Safetensors.Reader.open(f)) {
                        for (String name : r.entries().keySet()) {
                            float[] v = r.floats(name);
                            if (v.length != r.entries().get(name).elements()) {
                                throw new AssertionError(
                                        "tensor " + name + " read " + v.length + " values");
                            }
                        }
                    }
                });
    }

    @FuzzTest(maxDuration = "30s")
    void hfConfigJson(byte[] data) throws Exception {
        Path d = DIR.resolve("hf");
        Files.createDirectories(d);
        Path weights = d.resolve("model.safetensors");
        if (!Files.exists(weights)) {
            Files.write(weights, new byte[4096]);
        }
        Files.write(d.resolve("config.json"), data);
        Untrusted.check(d.toString(), () -> HfImport.open(d).modelConfig(1));
    }
}
