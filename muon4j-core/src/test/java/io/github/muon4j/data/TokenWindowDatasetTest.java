package io.github.muon4j.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Record;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Windows of T + 1 tokens: inputs are the first T, labels the last T; every window once per epoch.
 */
class TokenWindowDatasetTest {

    /** Tokens 0, 1, 2, ..., n - 1 (mod 257): each window's contents tell where it starts. */
    static TokenDataset counting(Path dir, int n) throws Exception {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i % 257;
        }
        Path f = dir.resolve("count.bin");
        TokenShard.write(f, ids, 257, "byte");
        return TokenDataset.of(java.util.List.of(TokenShard.map(f)), "byte", 257);
    }

    @Test
    void recordsAreShiftedWindows(@TempDir Path dir) throws Exception {
        TokenWindowDataset d =
                TokenWindowDataset.builder()
                        .setTokens(counting(dir, 101), 10)
                        .setSampling(4, false)
                        .build();
        assertEquals(10, d.size(), "(101 - 1) / 10 whole windows");
        try (NDManager m = NDManager.newBaseManager()) {
            Record r = d.get(m, 3);
            assertArrayEquals(
                    new int[] {30, 31, 32, 33, 34, 35, 36, 37, 38, 39},
                    r.getData().head().toIntArray());
            assertArrayEquals(
                    new int[] {31, 32, 33, 34, 35, 36, 37, 38, 39, 40},
                    r.getLabels().head().toIntArray());
            assertThrows(IndexOutOfBoundsException.class, () -> d.get(m, 10));
        }
    }

    @Test
    void anEpochOfShuffledBatchesCoversEveryWindowOnce(@TempDir Path dir) throws Exception {
        TokenWindowDataset d =
                TokenWindowDataset.builder()
                        .setTokens(counting(dir, 161), 8)
                        .setSampling(4, true)
                        .build();
        Set<Integer> starts = new HashSet<>();
        try (NDManager m = NDManager.newBaseManager()) {
            for (Batch b : d.getData(m)) {
                try (b) {
                    assertEquals(new Shape(4, 8), b.getData().head().getShape());
                    int[] x = b.getData().head().toIntArray(),
                            y = b.getLabels().head().toIntArray();
                    for (int row = 0; row < 4; row++) {
                        assertEquals(0, x[row * 8] % 8, "a window starts at a multiple of T");
                        assertEquals(x[row * 8] + 1, y[row * 8], "labels are the next tokens");
                        assertTrue(starts.add(x[row * 8]), "window " + x[row * 8] + " seen twice");
                    }
                }
            }
        }
        assertEquals(20, starts.size(), "(161 - 1) / 8 windows, each once");
    }

    @Test
    void tooLittleDataIsNamed(@TempDir Path dir) throws Exception {
        TokenDataset tiny = counting(dir, 8);
        DataException e =
                assertThrows(
                        DataException.class, () -> TokenWindowDataset.builder().setTokens(tiny, 8));
        assertTrue(e.getMessage().contains("seq_len 8"), e.getMessage());
    }
}
