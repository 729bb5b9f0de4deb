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
import java.util.ArrayList;
import java.util.List;

/**
 * Token shards ({@code .bin}) in the two formats nanoGPT-style projects write.
 *
 * <ul>
 *   <li><b>llm.c / modded-nanogpt header format</b>: a header of 256 little-endian int32 (magic
 *       20240520, version, token count), then the tokens. Version 1: uint16 tokens (vocabularies up
 *       to 65,536); version 2: int32 tokens (muon4j's extension for larger vocabularies such as
 *       cl100k). muon4j also writes, in header slots llm.c leaves at zero, the vocabulary size
 *       (slot 3) and a tokenizer code (slot 4: 1 byte, 2 gpt2, 3 cl100k); 0 means unknown.
 *   <li><b>headerless nanoGPT format</b>: karpathy/nanoGPT's {@code prepare.py} writes {@code
 *       np.array(ids, dtype=np.uint16).tofile(path)}: nothing but little-endian uint16 tokens. Such
 *       a file says nothing about its tokenizer: the {@code --tokenizer} flag names it, and every
 *       id is checked against that vocabulary when the file is opened.
 * </ul>
 *
 * <p>Detection: a file whose first four bytes are the little-endian int32 20240520 is a header
 * shard and is validated as one (version 1 or 2, enough bytes for the count); any other file is
 * headerless uint16 and must have an even size. A headerless file is misread only if its first two
 * tokens are 55432 and 308 (the magic's two uint16 halves), which no vocabulary of at most 55,432
 * ids (byte, gpt2's 50,257, any character-level vocabulary) can produce. With a larger uint16
 * vocabulary such a file is refused (bad header, unsupported version or truncated) unless its next
 * tokens also happen to spell version 1 or 2 and a count that the file's size can hold.
 *
 * <p>Shards are written to a temporary file and renamed, so a crash never leaves half a shard.
 * Files over 1 GiB of tokens are mapped in several pieces (nanoGPT's OpenWebText {@code train.bin}
 * is 17 GB).
 */
public final class TokenShard {

    public static final int MAGIC = 20240520;
    public static final int HEADER_INTS = 256;
    public static final int HEADER_BYTES = HEADER_INTS * 4;

    /** Bytes of tokens mapped per piece (a multiple of 4, below the 2 GiB limit of one mapping). */
    static final long PIECE_BYTES = 1L << 30;

    /**
     * A memory-mapped shard, or one piece of a large one.
     *
     * @param version 1: uint16 tokens, 2: int32 tokens
     * @param headerless true for a nanoGPT file of bare uint16 tokens (vocab 0, tokenizer null)
     * @param first index in the file of this piece's first token
     */
    public record Mapped(
            Path file,
            int version,
            long count,
            int vocab,
            String tokenizer,
            ByteBuffer tokens,
            boolean headerless,
            long first) {
        public int token(long i) {
            return version == 1
                    ? tokens.getShort((int) (i * 2)) & 0xffff
                    : tokens.getInt((int) (i * 4));
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
            this.ch =
                    FileChannel.open(
                            tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            ch.position(HEADER_BYTES);
        }

        public void add(int[] ids) throws IOException {
            for (int id : ids) {
                add(id);
            }
        }

        public void add(int id) throws IOException {
            if (id < 0 || id >= vocab) {
                throw new DataException(
                        target
                                + ": token id "
                                + id
                                + " is outside the vocabulary [0, "
                                + vocab
                                + ")");
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
            h.putInt(0, MAGIC)
                    .putInt(4, version)
                    .putInt(8, (int) count)
                    .putInt(12, vocab)
                    .putInt(16, tokenizerCode(tokenizer));
            ch.write(h, 0);
            ch.force(true);
            ch.close();
            Files.move(
                    tmp,
                    target,
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
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

    /**
     * Maps a shard of at most 1 GiB of tokens, checking its header and size (see {@link
     * #mapPieces}).
     */
    public static Mapped map(Path file) {
        List<Mapped> pieces = mapPieces(file);
        if (pieces.size() != 1) {
            throw new DataException(file + ": shard too large to map in one piece");
        }
        return pieces.get(0);
    }

    /**
     * Maps a shard in either format (see the class comment for how it is told apart), in pieces of
     * at most {@link #PIECE_BYTES} bytes of tokens, in order (at least one piece, maybe empty).
     */
    public static List<Mapped> mapPieces(Path file) {
        return mapPieces(file, PIECE_BYTES);
    }

    /** As {@link #mapPieces(Path)} with pieces of at most {@code pieceBytes} (a multiple of 4). */
    static List<Mapped> mapPieces(Path file, long pieceBytes) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (h.hasRemaining() && ch.read(h, h.position()) > 0) {
                // read up to the header size
            }
            boolean header = size >= 4 && h.getInt(0) == MAGIC;
            if (!header) {
                if (size % 2 != 0) {
                    throw new DataException(
                            file
                                    + ": not a token shard (no llm.c header, and an odd size "
                                    + size
                                    + " for headerless nanoGPT uint16 tokens)");
                }
                return pieces(ch, file, 1, 0, size / 2, 0, null, true, pieceBytes);
            }
            if (size < HEADER_BYTES) {
                throw new DataException(
                        file
                                + ": bad shard header (starts with the llm.c magic but is shorter than its 1024-byte header)");
            }
            int version = h.getInt(4), count = h.getInt(8);
            if (version != 1 && version != 2) {
                throw new DataException(
                        file + ": unsupported shard version " + version + " (1: uint16, 2: int32)");
            }
            if (count < 0) {
                throw new DataException(file + ": bad shard header (negative token count)");
            }
            int width = version == 1 ? 2 : 4;
            long need = HEADER_BYTES + (long) count * width;
            if (size < need) {
                throw new DataException(
                        file
                                + ": truncated shard (header says "
                                + count
                                + " tokens, file holds "
                                + (size - HEADER_BYTES) / width
                                + ")");
            }
            return pieces(
                    ch,
                    file,
                    version,
                    HEADER_BYTES,
                    count,
                    h.getInt(12),
                    tokenizerName(h.getInt(16)),
                    false,
                    pieceBytes);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static List<Mapped> pieces(
            FileChannel ch,
            Path file,
            int version,
            long offset,
            long count,
            int vocab,
            String tokenizer,
            boolean headerless,
            long pieceBytes)
            throws IOException {
        int width = version == 1 ? 2 : 4;
        long perPiece = pieceBytes / width;
        List<Mapped> out = new ArrayList<>();
        long first = 0;
        do {
            long n = Math.min(perPiece, count - first);
            MappedByteBuffer mb =
                    ch.map(FileChannel.MapMode.READ_ONLY, offset + first * width, n * width);
            mb.order(ByteOrder.LITTLE_ENDIAN);
            out.add(new Mapped(file, version, n, vocab, tokenizer, mb, headerless, first));
            first += n;
        } while (first < count);
        return out;
    }
}
