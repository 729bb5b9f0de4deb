package io.github.muon4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataPipelineTest {

    static final Tokenizer BYTE = Tokenizers.byName("byte");

    static int[] all(TokenDataset d) {
        int[] out = new int[(int) d.size()];
        d.read(0, out, 0, out.length);
        return out;
    }

    /** The tokens the pipeline must produce: each document, then end-of-text. */
    static int[] expected(Tokenizer t, String... docs) {
        List<Integer> l = new ArrayList<>();
        for (String d : docs) {
            for (int id : t.encode(d)) {
                l.add(id);
            }
            l.add(t.eotToken());
        }
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    static long leftovers(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count();
        }
    }

    @Test
    void shardWriteThenReadIsIdentityForBothVersions(@TempDir Path dir) throws IOException {
        int[] small = {0, 1, 65535, 42, 7};
        TokenShard.write(dir.resolve("a.bin"), small, 65536, "unknown");
        TokenShard.Mapped a = TokenShard.map(dir.resolve("a.bin"));
        assertEquals(1, a.version());
        assertEquals(5, a.count());
        assertEquals(1024 + 2 * 5, Files.size(dir.resolve("a.bin")));
        int[] big = {0, 100276, 70000, 5};
        TokenShard.write(dir.resolve("b.bin"), big, 100277, "cl100k");
        TokenShard.Mapped b = TokenShard.map(dir.resolve("b.bin"));
        assertEquals(2, b.version());
        assertEquals("cl100k", b.tokenizer());
        for (int i = 0; i < small.length; i++) {
            assertEquals(small[i], a.token(i));
        }
        for (int i = 0; i < big.length; i++) {
            assertEquals(big[i], b.token(i));
        }
    }

    @Test
    void readsANanoGptShardWrittenByHand(@TempDir Path dir) throws IOException {
        // header: magic, version 1, count 3; then uint16 little-endian tokens
        ByteBuffer buf = ByteBuffer.allocate(1024 + 6).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(0, 20240520).putInt(4, 1).putInt(8, 3);
        buf.putShort(1024, (short) 50256).putShort(1026, (short) 15496).putShort(1028, (short) 995);
        Path f = Files.write(dir.resolve("val_000000.bin"), buf.array());
        TokenDataset d =
                DataSets.tokens(
                        f.toString(),
                        Tokenizers.byName("gpt2"),
                        dir.resolve("cache"),
                        null,
                        "text");
        assertArrayEquals(new int[] {50256, 15496, 995}, all(d));
        DataException e =
                assertThrows(
                        DataException.class,
                        () ->
                                DataSets.tokens(
                                        f.toString(), BYTE, dir.resolve("cache"), null, "text"));
        assertTrue(
                e.getMessage().contains("outside the vocabulary")
                        && e.getMessage().contains("val_000000.bin"),
                e.getMessage());
    }

    @Test
    void badShardsAreNamed(@TempDir Path dir) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1024 + 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(0, 1234).putInt(4, 1).putInt(8, 2);
        // no magic: a headerless nanoGPT file, whose ids (1234, 0, 1, 0, 2, 0, ...) do not fit
        // 'byte'
        Path magic = Files.write(dir.resolve("magic.bin"), buf.array());
        assertTrue(TokenShard.map(magic).headerless());
        String m =
                assertThrows(
                                DataException.class,
                                () ->
                                        DataSets.tokens(
                                                magic.toString(),
                                                BYTE,
                                                dir.resolve("cache"),
                                                null,
                                                "text"))
                        .getMessage();
        assertTrue(
                m.contains("magic.bin: token id 1234 at position 0")
                        && m.contains("headerless")
                        && m.contains("--tokenizer"),
                m);
        buf.putInt(0, 20240520).putInt(8, 10);
        Path cut = Files.write(dir.resolve("cut.bin"), buf.array());
        assertTrue(
                assertThrows(DataException.class, () -> TokenShard.map(cut))
                        .getMessage()
                        .contains("cut.bin: truncated"));
        buf.putInt(4, 9).putInt(8, 2);
        Path ver = Files.write(dir.resolve("ver.bin"), buf.array());
        assertTrue(
                assertThrows(DataException.class, () -> TokenShard.map(ver))
                        .getMessage()
                        .contains("version 9"));
        Path odd = Files.write(dir.resolve("odd.bin"), new byte[11]);
        assertTrue(
                assertThrows(DataException.class, () -> TokenShard.map(odd))
                        .getMessage()
                        .contains("odd.bin: not a token shard"));
        Path shortHeader =
                Files.write(dir.resolve("short.bin"), java.util.Arrays.copyOf(buf.array(), 100));
        assertTrue(
                assertThrows(DataException.class, () -> TokenShard.map(shortHeader))
                        .getMessage()
                        .contains("short.bin: bad shard header"));
    }

    @Test
    void readsTextGzipTinyStoriesAndJsonl(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        Path txt =
                Files.writeString(
                        dir.resolve("a.txt"),
                        "One story.<|endoftext|>Another story.\n<|endoftext|>\n");
        assertArrayEquals(
                expected(BYTE, "One story.", "Another story."),
                all(DataSets.tokens(txt.toString(), BYTE, cache, null, "text")));

        Path gz = dir.resolve("b.txt.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write("Zipped text, été.".getBytes(StandardCharsets.UTF_8));
        }
        assertArrayEquals(
                expected(BYTE, "Zipped text, été."),
                all(DataSets.tokens(gz.toString(), BYTE, cache, null, "text")));

        Path jsonl =
                Files.writeString(
                        dir.resolve("c.jsonl"),
                        "{\"body\": \"first\"}\n\n{\"body\": \"second\", \"id\": 2}\n");
        assertArrayEquals(
                expected(BYTE, "first", "second"),
                all(DataSets.tokens(jsonl.toString(), BYTE, cache, null, "body")));

        Path folder = Files.createDirectories(dir.resolve("docs"));
        Files.writeString(folder.resolve("2.txt"), "second file");
        Files.writeString(folder.resolve("1.txt"), "first file");
        Files.writeString(folder.resolve("notes.md"), "ignored");
        assertArrayEquals(
                expected(BYTE, "first file", "second file"),
                all(DataSets.tokens(folder.toString(), BYTE, cache, null, "text")));
    }

    @Test
    void badTextInputsNameTheFileAndLeaveNoCache(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"ok\"}\n{not json}\n");
        DataException e =
                assertThrows(
                        DataException.class,
                        () -> DataSets.tokens(bad.toString(), BYTE, cache, null, "text"));
        assertTrue(
                e.getMessage().contains("bad.jsonl:2") && e.getMessage().contains("not valid JSON"),
                e.getMessage());
        Path noField =
                Files.writeString(
                        dir.resolve("nofield.jsonl"), "{\"text\": \"ok\"}\n{\"other\": 1}\n");
        e =
                assertThrows(
                        DataException.class,
                        () -> DataSets.tokens(noField.toString(), BYTE, cache, null, "text"));
        assertTrue(
                e.getMessage().contains("nofield.jsonl:2") && e.getMessage().contains("'text'"),
                e.getMessage());
        Path empty = Files.writeString(dir.resolve("empty.txt"), "  \n");
        e =
                assertThrows(
                        DataException.class,
                        () -> DataSets.tokens(empty.toString(), BYTE, cache, null, "text"));
        assertTrue(
                e.getMessage().contains("empty.txt") && e.getMessage().contains("empty corpus"),
                e.getMessage());
        e =
                assertThrows(
                        DataException.class,
                        () ->
                                DataSets.tokens(
                                        dir.resolve("missing").toString(),
                                        BYTE,
                                        cache,
                                        null,
                                        "text"));
        assertTrue(e.getMessage().contains("missing: no such file"), e.getMessage());
        assertEquals(0, leftovers(cache));
        if (Files.exists(cache)) {
            try (Stream<Path> s = Files.list(cache)) {
                assertEquals(0, s.count(), "no cache file for failed sources");
            }
        }
    }

    @Test
    void cacheIsReusedAndInvalidated(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        Path txt = Files.writeString(dir.resolve("t.txt"), "some text for the cache");
        DataSets.tokens(txt.toString(), BYTE, cache, null, "text");
        List<Path> files;
        try (Stream<Path> s = Files.list(cache)) {
            files = s.toList();
        }
        assertEquals(1, files.size());
        long mtime = Files.getLastModifiedTime(files.get(0)).toMillis();
        Thread.sleep(20);
        DataSets.tokens(txt.toString(), BYTE, cache, null, "text");
        assertEquals(
                mtime,
                Files.getLastModifiedTime(files.get(0)).toMillis(),
                "reused, not re-tokenized");

        DataSets.tokens(txt.toString(), Tokenizers.byName("gpt2"), cache, null, "text");
        Files.writeString(txt, "changed text, longer than before");
        Files.setLastModifiedTime(txt, java.nio.file.attribute.FileTime.fromMillis(mtime + 5000));
        TokenDataset d = DataSets.tokens(txt.toString(), BYTE, cache, null, "text");
        assertArrayEquals(expected(BYTE, "changed text, longer than before"), all(d));
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(3, s.count(), "one cache per (source version, tokenizer)");
        }
        // a cache made with one tokenizer is refused by another
        Path gptCache;
        try (Stream<Path> s = Files.list(cache)) {
            gptCache = s.filter(p -> p.toString().contains("-gpt2-")).findFirst().orElseThrow();
        }
        DataException e =
                assertThrows(
                        DataException.class,
                        () ->
                                DataSets.tokens(
                                        gptCache.toString(),
                                        BYTE,
                                        dir.resolve("c2"),
                                        null,
                                        "text"));
        assertTrue(e.getMessage().contains("tokenizer mismatch"), e.getMessage());
    }

    @Test
    void heldOutSplitIsDisjointAndDeterministic(@TempDir Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("document number ").append(i).append("<|endoftext|>");
        }
        Path txt = Files.writeString(dir.resolve("docs.txt"), sb);
        DataSets.Pair p =
                DataSets.open(txt.toString(), null, 0.1, BYTE, dir.resolve("cache"), null);
        long n = p.train().size() + p.val().size();
        assertEquals(Math.round(n * 0.1), p.val().size());
        assertEquals(
                p.train().token(p.train().size() - 1),
                all(DataSets.tokens(txt.toString(), BYTE, dir.resolve("cache"), null, "text"))[
                        (int) p.train().size() - 1]);
        assertEquals(
                all(p.val())[0],
                all(DataSets.tokens(txt.toString(), BYTE, dir.resolve("cache"), null, "text"))[
                        (int) p.train().size()]);
    }

    @Test
    void batchesAreDeterministicAndResumeExactlyWithPrefetch(@TempDir Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            sb.append("line ").append(i).append(" of the corpus. ");
        }
        TokenDataset d =
                DataSets.tokens(
                        Files.writeString(dir.resolve("c.txt"), sb).toString(),
                        BYTE,
                        dir.resolve("cache"),
                        null,
                        "text");
        int b = 3, t = 16;
        List<int[]> straight = new ArrayList<>();
        try (BatchLoader l = new BatchLoader(d, b, t, 42, BatchLoader.Order.RANDOM, 4)) {
            for (int i = 0; i < 10; i++) {
                straight.add(l.next());
            }
        }
        BatchLoader.State saved;
        try (BatchLoader l = new BatchLoader(d, b, t, 42, BatchLoader.Order.RANDOM, 4)) {
            for (int i = 0; i < 6; i++) {
                assertArrayEquals(straight.get(i), l.next(), "same seed, same batches");
            }
            saved = BatchLoader.State.fromJson(l.state().toJson());
        }
        try (BatchLoader l = new BatchLoader(d, b, t, 42, BatchLoader.Order.RANDOM, 2)) {
            l.next(); // moved elsewhere, prefetched ahead
            l.restore(saved);
            for (int i = 6; i < 10; i++) {
                assertArrayEquals(straight.get(i), l.next(), "batch " + i + " after restore");
            }
        }
        try (BatchLoader other = new BatchLoader(d, b, t, 43, BatchLoader.Order.RANDOM, 0)) {
            assertFalse(
                    java.util.Arrays.equals(straight.get(0), other.next()),
                    "another seed, other batches");
        }
        // each row is a contiguous window of the data
        int[] batch = straight.get(0);
        int[] tokens = all(d);
        for (int r = 0; r < b; r++) {
            int[] row = java.util.Arrays.copyOfRange(batch, r * (t + 1), (r + 1) * (t + 1));
            boolean found = false;
            for (int s = 0; s + t + 1 <= tokens.length && !found; s++) {
                found =
                        java.util.Arrays.equals(
                                row, java.util.Arrays.copyOfRange(tokens, s, s + t + 1));
            }
            assertTrue(found, "row " + r + " is a window of the data");
        }
        // sequential: consecutive windows with stride T
        try (BatchLoader l = new BatchLoader(d, 2, t, 0, BatchLoader.Order.SEQUENTIAL, 0)) {
            int[] s = l.next();
            assertArrayEquals(
                    java.util.Arrays.copyOfRange(tokens, 0, t + 1),
                    java.util.Arrays.copyOfRange(s, 0, t + 1));
            assertArrayEquals(
                    java.util.Arrays.copyOfRange(tokens, t, 2 * t + 1),
                    java.util.Arrays.copyOfRange(s, t + 1, 2 * t + 2));
        }
        DataException e =
                assertThrows(
                        DataException.class,
                        () ->
                                new BatchLoader(
                                        d.slice(0, 10), 1, 16, 0, BatchLoader.Order.RANDOM, 0));
        assertTrue(e.getMessage().contains("needs at least 17"), e.getMessage());
    }

    @Test
    void documentStartFindsTheNextDocumentOrFallsBackToTheLastOne(@TempDir Path dir) {
        Path cache = dir.resolve("docs.bin");
        DataSets.tokenize("test", List.of("abc", "defgh", "ij"), BYTE, cache, null);
        TokenDataset d = DataSets.open(List.of(cache), BYTE, "test");
        // tokens: a b c EOT d e f g h EOT i j EOT; documents start at 0, 4 and 10
        assertEquals(13, d.size());
        assertEquals(4, DataSets.documentStart(d, 2, BYTE.eotToken()));
        assertEquals(4, DataSets.documentStart(d, 4, BYTE.eotToken()));
        assertEquals(10, DataSets.documentStart(d, 5, BYTE.eotToken()));
        // inside the last document: its start, so that the held-out part is one whole document
        assertEquals(10, DataSets.documentStart(d, 11, BYTE.eotToken()));
        assertEquals(10, DataSets.documentStart(d, 12, BYTE.eotToken()));
    }

    @Test
    void aDataSourceNamingNoBuiltinCorpusIsAPath() {
        assertNull(Corpus.of("data/shakespeare/train.bin"));
        DataException e =
                assertThrows(DataException.class, () -> Corpus.of("builtin:no-such-corpus"));
        assertTrue(
                e.getMessage()
                        .startsWith("builtin:no-such-corpus: no such built-in corpus (available: "),
                e.getMessage());
    }
}
