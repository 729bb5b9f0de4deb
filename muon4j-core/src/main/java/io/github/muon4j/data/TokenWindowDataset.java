package io.github.muon4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;

/**
 * A DJL {@link RandomAccessDataset} of next-token windows over muon4j's token data, for DJL's
 * {@code Trainer} and {@code EasyTrain.fit}.
 *
 * <p>Record i is window i of {@code seqLen + 1} tokens starting at token {@code i * seqLen}: its
 * data is the first {@code seqLen} tokens (the input ids), its label the last {@code seqLen} (each
 * input's next token), both int32 of shape (T). Batched by DJL's default batchifier they are (B,
 * T). Windows share one token at their boundary, so every token but the first is predicted exactly
 * once per epoch; a partial window at the end is left out.
 *
 * <pre>{@code
 * TokenWindowDataset train = TokenWindowDataset.builder()
 *         .setTokens(tokens, 64)          // a TokenDataset, T = 64
 *         .setSampling(8, true)           // B = 8, shuffled
 *         .build();
 * }</pre>
 */
public final class TokenWindowDataset extends RandomAccessDataset {

    private final TokenDataset tokens;
    private final int seqLen;

    private TokenWindowDataset(Builder builder) {
        super(builder);
        this.tokens = builder.tokens;
        this.seqLen = builder.seqLen;
    }

    /** A builder; {@link Builder#setTokens} and {@code setSampling} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The number of tokens in each window's input (T). */
    public int seqLen() {
        return seqLen;
    }

    /** The start of window {@code index}: {@code index * T}. */
    public long windowStart(long index) {
        return index * seqLen;
    }

    @Override
    public Record get(NDManager manager, long index) {
        if (index < 0 || index >= availableSize()) {
            throw new IndexOutOfBoundsException("window " + index + " of " + availableSize());
        }
        int[] window = new int[seqLen + 1];
        tokens.read(windowStart(index), window, 0, seqLen + 1);
        NDArray all = manager.create(window); //                   (T + 1)
        return new Record(new NDList(all.get(":-1")), new NDList(all.get("1:"))); // (T), (T)
    }

    /** Whole windows of T + 1 tokens that fit: (size - 1) / T. */
    @Override
    protected long availableSize() {
        return (tokens.size() - 1) / seqLen;
    }

    @Override
    public void prepare(Progress progress) {
        // the tokens are already mapped: nothing to download or decode
    }

    /** Builds a {@link TokenWindowDataset}. */
    public static final class Builder extends BaseBuilder<Builder> {
        private TokenDataset tokens;
        private int seqLen;

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * The token data and the window length T.
         *
         * @throws DataException when the data holds fewer than T + 1 tokens
         */
        public Builder setTokens(TokenDataset tokens, int seqLen) {
            if (seqLen < 1) {
                throw new IllegalArgumentException("seq_len must be at least 1, got " + seqLen);
            }
            if (tokens.size() < seqLen + 1L) {
                throw new DataException(
                        "data: "
                                + tokens.size()
                                + " tokens, but one window of seq_len "
                                + seqLen
                                + " needs at least "
                                + (seqLen + 1));
            }
            this.tokens = tokens;
            this.seqLen = seqLen;
            return this;
        }

        public TokenWindowDataset build() {
            if (tokens == null) {
                throw new IllegalStateException(
                        "TokenWindowDataset: call setTokens(tokens, seqLen) before build()");
            }
            return new TokenWindowDataset(this);
        }
    }
}
