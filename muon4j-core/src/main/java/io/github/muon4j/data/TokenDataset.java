package io.github.muon4j.data;

import java.util.List;

/**
 * A read-only token sequence over one or more memory-mapped shards (concatenated), or a range of
 * one. Records the tokenizer it was made with.
 */
public final class TokenDataset {

    private final List<TokenShard.Mapped> shards;
    private final long[] starts; // global index of each shard's first token
    private final long from;
    private final long to;
    private final String tokenizer;
    private final int vocab;

    private TokenDataset(
            List<TokenShard.Mapped> shards, long from, long to, String tokenizer, int vocab) {
        this.shards = shards;
        this.starts = new long[shards.size() + 1];
        for (int i = 0; i < shards.size(); i++) {
            starts[i + 1] = starts[i] + shards.get(i).count();
        }
        this.from = from;
        this.to = to;
        this.tokenizer = tokenizer;
        this.vocab = vocab;
    }

    /** All tokens of the given shards, in order. */
    public static TokenDataset of(List<TokenShard.Mapped> shards, String tokenizer, int vocab) {
        long n = 0;
        for (TokenShard.Mapped s : shards) {
            n += s.count();
        }
        return new TokenDataset(List.copyOf(shards), 0, n, tokenizer, vocab);
    }

    /** Tokens [from, to) of this dataset. */
    public TokenDataset slice(long start, long end) {
        if (start < 0 || end > size() || start > end) {
            throw new IllegalArgumentException(
                    "slice [" + start + ", " + end + ") outside [0, " + size() + ")");
        }
        return new TokenDataset(shards, from + start, from + end, tokenizer, vocab);
    }

    /** Number of tokens. */
    public long size() {
        return to - from;
    }

    public String tokenizerName() {
        return tokenizer;
    }

    public int vocabSize() {
        return vocab;
    }

    /** Token {@code i} (0-based). */
    public int token(long i) {
        long g = from + i;
        int s = shardOf(g);
        return shards.get(s).token(g - starts[s]);
    }

    /** Copies tokens [start, start+len) into dst[off..]. */
    public void read(long start, int[] dst, int off, int len) {
        long g = from + start;
        int s = shardOf(g);
        for (int k = 0; k < len; k++, g++) {
            while (g >= starts[s + 1]) {
                s++;
            }
            dst[off + k] = shards.get(s).token(g - starts[s]);
        }
    }

    private int shardOf(long g) {
        int lo = 0, hi = shards.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= g) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
