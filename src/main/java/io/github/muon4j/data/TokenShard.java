package io.github.muon4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Token shards in the nanoGPT / modded-nanogpt {@code .bin} format: a header of 256 little-endian
 * int32 (magic 20240520, version, token count), then the tokens.
 *
 * <ul>
 *   <li>version 1: uint16 tokens (the nanoGPT format; vocabularies up to 65,536);
 *   <li>version 2: int32 tokens (muon4j's extension for larger vocabularies such as cl100k).
 * </ul>
 *
 * muon4j also writes, in header slots nanoGPT leaves at zero, the vocabulary size (slot 3) and a
 * tokenizer code (slot 4: 1 byte, 2 gpt2, 3 cl100k); 0 means unknown. Shards are written to a
 * temporary file and renamed, so a crash never leaves half a shard.
 */
public final class TokenShard {

    public static final int MAGIC = 20240520;
    public static final int HEADER_INTS = 256;
    public static final int HEADER_BYTES = HEADER_INTS * 4;

    /** A memory-mapped shard. */
    public record Mapped(Path file, int version, long count, int vocab, String tokenizer, ByteBuffer tokens) {
        public int token(long i) {
            return version == 1 ? tokens.getShort((int) (i * 2)) & 0xffff : tokens.getInt((int) (i * 4));
        }
    }

    private TokenShard() {}

    static int tokenizerCode(String name) {
        switch (name) {
            case "byte":
                return 1;
            case "gpt2":
                return 2;
            case "cl100k":
                return 3;
            default:
                return 0;
        }
    }

    static String tokenizerName(int code) {
        switch (code) {
            case 1:
                return "byte";
            case 2:
                return "gpt2";
            case 3:
                return "cl100k";
            default:
                return null;
        }
    }

    /** Streams tokens into a shard: {@link #add} them, then {@link #commit} (atomic rename). */
    public static final class Writer implements AutoCloseable {
        private final Path target;
        private final Path tmp;
        private final FileChannel ch;
        private final int version;
        private final int vocab;
        private final String tokenizer;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long count;
        private boolean committed;

        public Writer(Path target, int vocab, String tokenizer) throws IOException {
            this.target = target;
            this.vocab = vocab;
            this.tokenizer = tokenizer;
            this.version = vocab <= 65536 ? 1 : 2;
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            this.tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            this.ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            ch.position(HEADER_BYTES);
        }

        public void add(int[] ids) throws IOException {
            for (int id : ids) {
                add(id);
            }
        }

        public void add(int id) throws IOException {
            if (id < 0 || id >= vocab) {
                throw new DataException(target + ": token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
            if (buf.remaining() < 4) {
                flush();
            }
            if (version == 1) {
                buf.putShort((short) id);
            } else {
                buf.putInt(id);
            }
            count++;
        }

        private void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        public long count() {
            return count;
        }

        /** Writes the header, syncs, and renames the shard into place. */
        public void commit() throws IOException {
            if (count > Integer.MAX_VALUE) {
                throw new DataException(target + ": more than 2^31 tokens in one shard");
            }
            flush();
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0, MAGIC).putInt(4, version).putInt(8, (int) count).putInt(12, vocab).putInt(16, tokenizerCode(tokenizer));
            ch.write(h, 0);
            ch.force(true);
            ch.close();
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
        }

        /** Without a commit, removes the temporary file: nothing is left behind. */
        @Override
        public void close() throws IOException {
            if (!committed) {
                ch.close();
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes all of {@code ids} as one shard. */
    public static void write(Path file, int[] ids, int vocab, String tokenizer) throws IOException {
        try (Writer w = new Writer(file, vocab, tokenizer)) {
            w.add(ids);
            w.commit();
        }
    }

    /** Maps a shard, checking its header and size. */
    public static Mapped map(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) {
                throw new DataException(file + ": not a token shard (shorter than the 1024-byte header)");
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            int magic = h.getInt(0), version = h.getInt(4), count = h.getInt(8);
            if (magic != MAGIC) {
                throw new DataException(file + ": bad shard header (magic " + magic + ", expected " + MAGIC + ")");
            }
            if (version != 1 && version != 2) {
                throw new DataException(file + ": unsupported shard version " + version + " (1: uint16, 2: int32)");
            }
            if (count < 0) {
                throw new DataException(file + ": bad shard header (negative token count)");
            }
            int width = version == 1 ? 2 : 4;
            long need = HEADER_BYTES + (long) count * width;
            if (size < need) {
                throw new DataException(file + ": truncated shard (header says " + count + " tokens, file holds " + (size - HEADER_BYTES) / width + ")");
            }
            if ((long) count * width > Integer.MAX_VALUE) {
                throw new DataException(file + ": shard too large to map (split it below 2 GiB)");
            }
            MappedByteBuffer mb = ch.map(FileChannel.MapMode.READ_ONLY, HEADER_BYTES, (long) count * width);
            mb.order(ByteOrder.LITTLE_ENDIAN);
            int vocab = h.getInt(12);
            return new Mapped(file, version, count, vocab, tokenizerName(h.getInt(16)), mb);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
