package io.github.muon4j.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.muon4j.model.AttentionCore;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.MultiHeadAttention;
import io.github.muon4j.model.MultiHeadLatentAttention;
import io.github.muon4j.model.TransformerBlock;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link DecoderLM} one chunk of tokens at a time over a {@link KvCache}: prefill a prompt,
 * then feed one token per step; the logits equal those of the full forward pass.
 *
 * <p>MLA uses the absorbed form by default: with {@code W_kvb} split per head into {@code W_uk} (h,
 * nope, kv_lora_rank) and {@code W_uv} (h, v, kv_lora_rank),
 *
 * <pre>
 * q_lat  = q_nope W_uk                                   (B, h, T, kv_lora_rank)
 * scores = (q_lat c^T + q_pe k_pe^T) / sqrt(nope + rope) (B, h, T, S)   over cached c, k_pe
 * o      = (softmax(scores) c) W_uv^T                    (B, h, T, v)  -> W_o
 * </pre>
 *
 * so keys and values are never materialised. The absorbed weights are computed once, when the
 * decoder is created, and freed by {@link #close()} together with the cache. With {@code
 * absorb=false} the same cache is expanded with {@code W_kvb} at every step (the plain form, for
 * comparison). Every step's temporaries live in a sub-manager that is closed before returning.
 */
public final class IncrementalDecoder implements AutoCloseable {

    private final DecoderLM model;
    private final ModelConfig config;
    private final NDManager manager;
    private final ParameterStore ps;
    private final KvCache cache;
    private final boolean absorb;
    private final List<NDArray[]> absorbed = new ArrayList<>();
    private final DataType type;

    /**
     * @param model an initialised model
     * @param batch sequences decoded together
     * @param capacity positions to reserve in the cache
     * @param absorb MLA only: absorbed (true) or plain (false) attention over the latent cache
     */
    public IncrementalDecoder(DecoderLM model, int batch, int capacity, boolean absorb) {
        if (model.manager() == null) {
            throw new IllegalArgumentException("model: initialise it before decoding");
        }
        this.model = model;
        this.config = model.config();
        this.absorb = absorb;
        this.manager = model.manager().newSubManager();
        this.ps = new ParameterStore(manager, false);
        this.type = model.getParameters().get("embedding").getArray().getDataType();
        this.cache = new KvCache(config, manager, type, batch, capacity);
        if (absorb) {
            for (TransformerBlock b : model.layers()) {
                if (b.attention() instanceof MultiHeadLatentAttention) {
                    absorbed.add(absorb((MultiHeadLatentAttention) b.attention()));
                }
            }
        }
    }

    /** W_uk (h, nope, kv_lora_rank) and W_uv^T (h, kv_lora_rank, v), computed once. */
    private NDArray[] absorb(MultiHeadLatentAttention mla) {
        NDArray w =
                mla.wkvB()
                        .getArray()
                        .reshape(mla.heads(), mla.nopeDim() + mla.vDim(), mla.kvLoraRank());
        w.attach(manager); // an op on a parameter lands in the model's manager
        NDList parts = w.split(new long[] {mla.nopeDim()}, 1);
        NDArray wuk = parts.get(0).duplicate();
        NDArray wuvT = parts.get(1).transpose(0, 2, 1).duplicate();
        return new NDArray[] {wuk, wuvT};
    }

    public KvCache cache() {
        return cache;
    }

    /** Absolute position of the next token. */
    public int position() {
        return cache.length();
    }

    /**
     * Feeds tokens (B, T) at positions position()..position()+T-1.
     *
     * @param tokens int token ids, any manager
     * @param out manager for the returned logits
     * @return logits (B, T, vocab) in {@code out}
     */
    public NDArray step(NDArray tokens, NDManager out) {
        return step(tokens, out, false);
    }

    /**
     * As {@link #step(NDArray, NDManager)}; with {@code lastOnly} the LM head runs on the last
     * position only and the logits are (B, 1, vocab): a prefill needs no other row.
     */
    public NDArray step(NDArray tokens, NDManager out, boolean lastOnly) {
        try (NDManager s = manager.newSubManager()) {
            NDArray tok = tokens.getManager() == s ? tokens : tokens.duplicate();
            tok.attach(s);
            int start = cache.length();
            NDArray h = model.embed(ps, tok, false);
            int mlaIndex = 0;
            List<TransformerBlock> layers = model.layers();
            for (int l = 0; l < layers.size(); l++) {
                TransformerBlock b = layers.get(l);
                NDArray xn = b.attnNorm().forward(ps, h, false);
                NDArray a;
                if (b.attention() instanceof MultiHeadAttention) {
                    a = mha((MultiHeadAttention) b.attention(), l, xn, start, s);
                } else {
                    NDArray[] w = absorb ? absorbed.get(mlaIndex++) : null;
                    a = mla((MultiHeadLatentAttention) b.attention(), l, xn, start, s, w);
                }
                h = b.feedForward(ps, h.add(a), false).out();
            }
            cache.advance((int) tok.getShape().get(1));
            if (lastOnly) {
                h = h.get(new NDIndex(":, -1:, :"));
            }
            NDArray logits = model.logits(ps, h, false);
            logits.attach(out);
            return logits;
        }
    }

    /**
     * Feeds one sequence's tokens (batch 1) and returns the logits of the last one (the head runs
     * on that position only).
     *
     * @return float[vocab]
     */
    public float[] next(int[] tokens) {
        try (NDManager s = manager.newSubManager()) {
            NDArray tok = s.create(tokens, new Shape(1, tokens.length));
            NDArray logits = step(tok, s, true);
            return logits.get(s, new NDIndex("0, -1, :"))
                    .toType(DataType.FLOAT32, false)
                    .toFloatArray();
        }
    }

    private NDArray mha(MultiHeadAttention att, int layer, NDArray xn, int start, NDManager s) {
        NDList qkv = att.qkv(ps, xn, start, false);
        cache.write(layer, qkv.get(1), qkv.get(2), start);
        int end = start + (int) xn.getShape().get(1);
        NDArray[] kv = cache.read(layer, end, s);
        return att.output(ps, att.attend(qkv.get(0), kv[0], kv[1], start), false);
    }

    private NDArray mla(
            MultiHeadLatentAttention att,
            int layer,
            NDArray xn,
            int start,
            NDManager s,
            NDArray[] w) {
        NDList q = att.queries(ps, xn, start, false); // (B, h, T, nope), (B, h, T, rope)
        NDList lat = att.latent(ps, xn, start, false); // (B, T, kv_lora_rank), (B, T, rope)
        cache.write(layer, lat.get(0), lat.get(1), start);
        Shape xs = xn.getShape();
        long batch = xs.get(0);
        int t = (int) xs.get(1);
        int end = start + t;
        NDArray[] ck = cache.read(layer, end, s); // c (B, S, kv_lora_rank), k_pe (B, S, rope)
        if (w == null) {
            return att.output(
                    ps, att.attendPlain(ps, q.get(0), q.get(1), ck[0], ck[1], start, false), false);
        }
        int h = att.heads();
        NDArray qLat = q.get(0).matMul(w[0]).reshape(batch, (long) h * t, att.kvLoraRank());
        NDArray qPe = q.get(1).reshape(batch, (long) h * t, att.ropeDim());
        NDArray scores =
                qLat.matMul(ck[0].transpose(0, 2, 1))
                        .add(qPe.matMul(ck[1].transpose(0, 2, 1)))
                        .reshape(batch, h, t, end); // (B, h, T, S)
        NDArray p = AttentionCore.causalWeights(scores, att.scale(), start);
        NDArray oLat =
                p.reshape(batch, (long) h * t, end)
                        .matMul(ck[0])
                        .reshape(batch, h, t, att.kvLoraRank()); // (B, h, T, kv_lora_rank)
        return att.output(ps, oLat.matMul(w[1]), false); // (B, h, T, v) -> (B, T, d)
    }

    /** Frees the cache and the absorbed weights. */
    @Override
    public void close() {
        manager.close();
    }
}
