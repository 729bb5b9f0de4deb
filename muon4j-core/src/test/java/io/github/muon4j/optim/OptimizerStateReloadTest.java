package io.github.muon4j.optim;

import static io.github.muon4j.optim.DjlFixtures.byId;
import static io.github.muon4j.optim.DjlFixtures.data;
import static io.github.muon4j.optim.DjlFixtures.handStep;
import static io.github.muon4j.optim.DjlFixtures.initializedMlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.SequentialBlock;
import io.github.muon4j.Backend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Optimizer state saved in one JVM and loaded in another (a child process, where every DJL
 * parameter id differs) gives the identical next step, bit for bit: state is keyed by name.
 */
class OptimizerStateReloadTest {

    @TempDir Path dir;

    @Test
    void stateSavedHereResumesBitIdenticallyInAnotherJvm() throws Exception {
        byte[] expected;
        try (NDManager m = Backend.get().newManager()) {
            NDArray[] xy = data(m);
            SequentialBlock block = initializedMlp(m);
            MuonWithAdamW opt = DjlFixtures.muonWithAdamW(block);
            for (int s = 0; s < 3; s++) {
                handStep(block, m, xy, byId(opt)); // DJL's way: update(id, ...)
            }
            try (OutputStream w = Files.newOutputStream(dir.resolve("weights.bin"));
                    OutputStream o = Files.newOutputStream(dir.resolve("optimizer.bin"))) {
                DjlFixtures.writeWeights(block, w);
                opt.saveState(o);
            }
            Files.writeString(
                    dir.resolve("parent-id.txt"), block.getParameters().get(0).getValue().getId());
            handStep(block, m, xy, byId(opt));
            expected = DjlFixtures.weightBytes(block);
        }
        int code =
                DjlFixtures.runJava(
                        dir.resolve("child.log"), StateReloadChild.class, dir.toString());
        assertEquals(0, code, Files.readString(dir.resolve("child.log")));
        String childId = Files.readString(dir.resolve("child-id.txt"));
        assertNotEquals(
                Files.readString(dir.resolve("parent-id.txt")), childId, "ids differ per process");
        byte[] resumed = Files.readAllBytes(dir.resolve("after.bin"));
        assertArrayEquals(expected, resumed, "the child's step 4 equals this JVM's step 4");

        // without the state the child's step would differ: the check can fail
        Files.delete(dir.resolve("optimizer.bin"));
        assertEquals(
                0,
                DjlFixtures.runJava(
                        dir.resolve("fresh.log"), StateReloadChild.class, dir.toString()),
                Files.readString(dir.resolve("fresh.log")));
        assertFalse(Arrays.equals(expected, Files.readAllBytes(dir.resolve("after.bin"))));
    }

    @Test
    void stateKeyedByDjlIdsIsRefusedNotSavedUselessly() throws IOException {
        try (NDManager m = Backend.get().newManager()) {
            NDArray[] xy = data(m);
            SequentialBlock block = initializedMlp(m);
            MuonWithAdamW opt = MuonWithAdamW.builder().build(); // no optBlock: ids stay ids
            handStep(block, m, xy, byId(opt));
            IllegalStateException e =
                    assertThrows(
                            IllegalStateException.class,
                            () -> opt.saveState(new ByteArrayOutputStream()));
            assertTrue(e.getMessage().contains("optBlock"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    /** The child: the same model with new ids, the saved weights and state, one more step. */
    static final class StateReloadChild {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray[] xy = data(m);
                SequentialBlock block = initializedMlp(m);
                try (InputStream in = Files.newInputStream(dir.resolve("weights.bin"))) {
                    DjlFixtures.readWeights(block, in);
                }
                MuonWithAdamW opt = DjlFixtures.muonWithAdamW(block);
                Path state = dir.resolve("optimizer.bin");
                if (Files.exists(state)) {
                    try (InputStream in = Files.newInputStream(state)) {
                        opt.loadState(in);
                    }
                }
                Files.writeString(
                        dir.resolve("child-id.txt"),
                        block.getParameters().get(0).getValue().getId());
                handStep(block, m, xy, byId(opt));
                Files.write(dir.resolve("after.bin"), DjlFixtures.weightBytes(block));
            }
        }
    }
}
