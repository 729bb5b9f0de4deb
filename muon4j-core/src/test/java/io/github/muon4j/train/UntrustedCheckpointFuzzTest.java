package io.github.muon4j.train;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.muon4j.interop.Untrusted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of a checkpoint's small files: the first byte picks which one the rest
 * replaces (0: config.json, 1: state.json, 2: manifest.json); see interop.UntrustedFilesFuzzTest.
 */
class UntrustedCheckpointFuzzTest {

    static final Path DIR = Untrusted.scratch("muon4j-fuzz-checkpoint");

    @FuzzTest(maxDuration = "30s")
    void checkpointFiles(byte[] data) throws Exception {
        if (data.length == 0) {
            return;
        }
        byte[] body = Arrays.copyOfRange(data, 1, data.length);
        switch (Math.floorMod(data[0], 3)) {
            case 0 -> {
                Path run = DIR.resolve("run");
                Files.createDirectories(run);
                Files.write(run.resolve("config.json"), body);
                Untrusted.check(
                        run.resolve("config.json").toString(), () -> RunDirectory.Saved.of(run));
            }
            case 1 ->
                    Untrusted.check(
                            "state.json",
                            () -> {
                                RunState.fromJson(new String(body, StandardCharsets.UTF_8));
                                RunState.balanceBiasesOf(new String(body, StandardCharsets.UTF_8));
                            });
            default -> {
                Path ck = DIR.resolve("ckpt-000001");
                Files.createDirectories(ck);
                Files.write(ck.resolve("state.json"), "{}".getBytes(StandardCharsets.UTF_8));
                Files.write(ck.resolve(Checkpoint.MANIFEST), body);
                Untrusted.check(ck.toString(), () -> Checkpoint.open(ck));
            }
        }
    }
}
