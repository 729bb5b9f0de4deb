package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.muon4j.optim.MuonWithAdamW;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The optimizer state's metadata is read exactly: a count beyond int range is refused, not wrapped.
 */
class CheckpointTensorsTest {

    /** An optimizer-state file with no tensors and the given "groups" metadata. */
    private static Path stateFile(Path dir, String groups) throws Exception {
        Path f = dir.resolve("optimizer.safetensors");
        try (OutputStream out = Files.newOutputStream(f)) {
            Safetensors.write(
                    out,
                    Map.of(),
                    name -> Safetensors.DType.F32,
                    Map.of("format", "muon4j-optimizer", "groups", groups));
        }
        return f;
    }

    private static String refusal(Path f) {
        MuonWithAdamW opt = MuonWithAdamW.builder().optRoles(Map.of()).build();
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> CheckpointTensors.readOptimizer(opt, f))
                .getMessage();
    }

    @Test
    void countsBeyondIntRangeOrWithAFractionAreRefused(@TempDir Path dir) throws Exception {
        // 10^10 would wrap round to 1,410,065,408 arrays per parameter as an int
        assertEquals(
                "optimizer.safetensors: the muon arrays is 1e10, not a whole number below 2^31",
                refusal(stateFile(dir, "[{\"kind\":\"muon\",\"arrays\":1e10,\"steps\":{}}]")));
        assertEquals(
                "optimizer.safetensors: the adamw step of w is 2.5, not a whole number below 2^31",
                refusal(
                        stateFile(
                                dir, "[{\"kind\":\"adamw\",\"arrays\":0,\"steps\":{\"w\":2.5}}]")));
        assertEquals(
                "optimizer.safetensors: the muon arrays is -1, not from 0 to 2147483647",
                refusal(stateFile(dir, "[{\"kind\":\"muon\",\"arrays\":-1,\"steps\":{}}]")));
    }
}
