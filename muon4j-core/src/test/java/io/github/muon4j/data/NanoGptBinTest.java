package io.github.muon4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** karpathy/nanoGPT's headerless uint16 {@code .bin} beside the llm.c header format. */
class NanoGptBinTest {

    /**
     * Little-endian uint16, no header: what {@code np.array(ids, dtype=np.uint16).tofile} writes.
     */
    static Path headerless(Path file, int[] ids) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(2 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            b.putShort((short) id);
        }
        return Files.write(file, b.array());
    }

    static int[] all(TokenDataset d) {
        int[] out = new int[(int) d.size()];
        d.read(0, out, 0, out.length);
        return out;
    }

    static boolean numpy() {
        try {
            Process p =
                    new ProcessBuilder("python3", "-c", "import numpy")
                            .redirectErrorStream(true)
                            .start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void gpt2IdsInAHeaderlessFileReadBackWithTheNamedTokenizer(@TempDir Path dir) throws Exception {
        Tokenizer gpt2 = Tokenizers.byName("gpt2");
        int[] ids = gpt2.encode("First Citizen:\nBefore we proceed any further, hear me speak.");
        int[] withEot = java.util.Arrays.copyOf(ids, ids.length + 1);
        withEot[ids.length] = gpt2.eotToken(); // 50256: the largest gpt2 id, still below 2^16
        Path f = headerless(dir.resolve("train.bin"), withEot);
        TokenShard.Mapped m = TokenShard.map(f);
        assertTrue(m.headerless());
        assertNull(m.tokenizer());
        assertEquals(withEot.length, m.count());
        assertArrayEquals(
                withEot,
                all(DataSets.tokens(f.toString(), gpt2, dir.resolve("cache"), null, "text")));
        // the same ids under the byte vocabulary are refused with a hint
        String e =
                assertThrows(
                                DataException.class,
                                () ->
                                        DataSets.tokens(
                                                f.toString(),
                                                Tokenizers.byName("byte"),
                                                dir.resolve("cache"),
                                                null,
                                                "text"))
                        .getMessage();
        assertTrue(
                e.contains("train.bin")
                        && e.contains("headerless")
                        && e.contains("--tokenizer")
                        && e.contains("'byte' (257)"),
                e);
        Assumptions.assumeTrue(
                numpy(), "python3 with numpy is needed to compare with nanoGPT's own writer");
        // the writer nanoGPT itself uses must give the very same bytes
        Path np = dir.resolve("np.bin");
        List<String> cmd =
                new ArrayList<>(List.of("python3", "scripts/nanogpt_bin.py", np.toString()));
        for (int id : withEot) {
            cmd.add(Integer.toString(id));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(np));
    }

    @Test
    void aHeaderlessFileThatStartsWithTheMagicIsRefusedNotMisread(@TempDir Path dir)
            throws IOException {
        // 20240520 = 0x0134D888: little-endian uint16 halves 55432 and 308; then "version" 7
        Path f = headerless(dir.resolve("clash.bin"), new int[] {55432, 308, 7, 0, 1, 2, 3});
        String e = assertThrows(DataException.class, () -> TokenShard.map(f)).getMessage();
        assertTrue(e.contains("clash.bin") && e.contains("bad shard header"), e);
        // any other first token is data
        Path g = headerless(dir.resolve("ok.bin"), new int[] {55431, 308, 7, 0, 1, 2, 3});
        assertTrue(TokenShard.map(g).headerless());
        assertEquals(7, TokenShard.map(g).count());
    }

    @Test
    void largeFilesAreMappedInPiecesThatReadAsOne(@TempDir Path dir) throws IOException {
        int[] ids = new int[11];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1000 + 37 * i;
        }
        Path h = headerless(dir.resolve("a.bin"), ids);
        List<TokenShard.Mapped> pieces = TokenShard.mapPieces(h, 8); // 4 uint16 tokens a piece
        assertEquals(List.of(4L, 4L, 3L), pieces.stream().map(TokenShard.Mapped::count).toList());
        assertEquals(List.of(0L, 4L, 8L), pieces.stream().map(TokenShard.Mapped::first).toList());
        assertArrayEquals(ids, all(TokenDataset.of(pieces, "gpt2", 50257)));

        int[] big = {70000, 5, 100000, 9, 1};
        TokenShard.write(dir.resolve("b.bin"), big, 100277, "cl100k");
        List<TokenShard.Mapped> p2 =
                TokenShard.mapPieces(dir.resolve("b.bin"), 8); // 2 int32 tokens a piece
        assertEquals(3, p2.size());
        assertFalse(p2.get(0).headerless());
        assertArrayEquals(big, all(TokenDataset.of(p2, "cl100k", 100277)));
    }

    @Test
    void emptyHeaderlessFileIsAnEmptyCorpus(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("empty.bin"), new byte[0]);
        String e =
                assertThrows(
                                DataException.class,
                                () ->
                                        DataSets.tokens(
                                                f.toString(),
                                                Tokenizers.byName("byte"),
                                                dir.resolve("cache"),
                                                null,
                                                "text"))
                        .getMessage();
        assertTrue(e.contains("empty corpus"), e);
    }

    @Test
    void aDirectoryWithValShardsValidatesOnThem(@TempDir Path dir) throws IOException {
        Path data = Files.createDirectories(dir.resolve("shakespeare"));
        headerless(data.resolve("train.bin"), new int[] {10, 11, 12, 13, 14, 15});
        headerless(data.resolve("val.bin"), new int[] {20, 21, 22});
        Files.writeString(
                data.resolve("input.txt"),
                "the text the shards were made from: ignored beside them");
        Tokenizer gpt2 = Tokenizers.byName("gpt2");
        DataSets.Pair p =
                DataSets.open(data.toString(), null, 0.1, gpt2, dir.resolve("cache"), null);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15}, all(p.train()));
        assertArrayEquals(new int[] {20, 21, 22}, all(p.val()));
        for (String name :
                new String[] {
                    "val.bin", "fineweb_val_000000.bin", "tinystories-val.bin", "VAL.bin"
                }) {
            assertTrue(DataSets.VAL_SHARD.matcher(name).matches(), name);
        }
        for (String name :
                new String[] {
                    "train.bin", "interval.bin", "fineweb_train_000001.bin", "validation.txt"
                }) {
            assertFalse(DataSets.VAL_SHARD.matcher(name).matches(), name);
        }
    }
}
