package io.github.muon4j.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.Gate;
import io.github.muon4j.model.MoE;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.MultiHeadAttention;
import io.github.muon4j.model.SwiGLU;
import io.github.muon4j.model.TransformerBlock;

/**
 * A float32 copy of a {@link DecoderLM}'s weights in the layouts {@link BatchDecoder} reads, taken
 * once: every matrix row-major [out][in], and the matrices that read the same input fused into one
 * so that a decode step makes one pass over them.
 *
 * <pre>
 * MHA:   W_qkv = [W_q; W_k; W_v]          (3 * h * head_dim, d)
 * MLA:   W_in  = [W_q (or W_qa); W_kva]   (h * (nope + rope) or q_lora_rank) + kv_lora_rank + rope, d)
 *        W_kvb as stored                   (h * (nope + v), kv_lora_rank): rows of W_uk and W_uv per head
 * dense: W_13  = [W_1; W_3]                (2 * ffn_hidden, d), W_2 (d, ffn_hidden)
 * MoE:   router (E, d); per expert [W_1; W_3] (E, 2 * expert_hidden, d), W_2 (E, d, expert_hidden);
 *        shared experts as one dense SwiGLU
 * </pre>
 *
 * The copy does not follow later changes of the model (training): take a new one.
 */
public final class DecoderWeights {

    /**
     * One transformer block's weights; fields of the other attention / feed-forward kind are null.
     */
    public static final class Layer {
        float[] attnGain;
        float[] ffnGain;
        // MHA
        float[] wqkv;
        // MLA
        float[] win;
        float[] qNormGain;
        float[] wqb;
        float[] kvNormGain;
        float[] wkvb;
        // both
        float[] wo;
        // dense SwiGLU
        float[] w13;
        float[] w2;
        int hidden;
        // MoE
        float[] router;
        float[] routerBias;
        float[] expertW13;
        float[] expertW2;
        float[] sharedW13;
        float[] sharedW2;
        int sharedHidden;

        boolean isMoe() {
            return router != null;
        }
    }

    final ModelConfig config;
    final float[] embedding; // (vocab, d)
    final float[] head; // (vocab, d): the LM head, or the embedding when tied
    final float[] finalGain;
    final Layer[] layers;

    /** Copies the weights of an initialised model. */
    public DecoderWeights(DecoderLM model) {
        if (model.manager() == null) {
            throw new IllegalArgumentException("model: initialise it before decoding");
        }
        config = model.config();
        embedding = floats(model.getDirectParameters().get("embedding"));
        Parameter h = model.getDirectParameters().get("head");
        head = h != null ? floats(h) : embedding;
        finalGain = gain(child(model, "final_norm"));
        layers = new Layer[config.nLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = layer(model.layers().get(l));
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** Bytes of all matrices copied (fp32), the embedding table counted once when tied. */
    public long bytes() {
        long n = embedding.length + (head == embedding ? 0 : head.length) + finalGain.length;
        for (Layer y : layers) {
            for (float[] a :
                    new float[][] {
                        y.attnGain,
                        y.ffnGain,
                        y.wqkv,
                        y.win,
                        y.qNormGain,
                        y.wqb,
                        y.kvNormGain,
                        y.wkvb,
                        y.wo,
                        y.w13,
                        y.w2,
                        y.router,
                        y.expertW13,
                        y.expertW2,
                        y.sharedW13,
                        y.sharedW2
                    }) {
                n += a == null ? 0 : a.length;
            }
        }
        return 4 * n;
    }

    private Layer layer(TransformerBlock b) {
        Layer y = new Layer();
        y.attnGain = gain(b.attnNorm());
        y.ffnGain = gain(b.ffnNorm());
        Block att = (Block) b.attention();
        if (b.attention() instanceof MultiHeadAttention) {
            y.wqkv = concat(param(att, "wq"), param(att, "wk"), param(att, "wv"));
        } else {
            Parameter wq = att.getDirectParameters().get("wq");
            if (wq != null) {
                y.win = concat(floats(wq), param(att, "wkv_a"));
            } else {
                y.win = concat(param(att, "wq_a"), param(att, "wkv_a"));
                y.qNormGain = gain(child(att, "q_norm"));
                y.wqb = param(att, "wq_b");
            }
            y.kvNormGain = gain(child(att, "kv_norm"));
            y.wkvb = param(att, "wkv_b");
        }
        y.wo = param(att, "wo");
        if (b.ffn() instanceof SwiGLU) {
            Block f = (Block) b.ffn();
            y.w13 = concat(param(f, "w1"), param(f, "w3"));
            y.w2 = param(f, "w2");
            y.hidden = y.w2.length / config.dModel();
        } else {
            MoE moe = (MoE) b.ffn();
            Gate g = moe.gate();
            y.router = floats(g.weight());
            y.routerBias = g.bias();
            Parameter[] ex = moe.expertWeights(); // w1, w3 (E, eh, d); w2 (E, d, eh)
            float[] w1 = floats(ex[0]), w3 = floats(ex[1]);
            int per = config.expertHidden() * config.dModel();
            y.expertW13 = new float[2 * w1.length];
            for (int e = 0; e < config.nRoutedExperts(); e++) {
                System.arraycopy(w1, e * per, y.expertW13, 2 * e * per, per);
                System.arraycopy(w3, e * per, y.expertW13, (2 * e + 1) * per, per);
            }
            y.expertW2 = floats(ex[2]);
            if (moe.shared() != null) {
                y.sharedW13 = concat(param(moe.shared(), "w1"), param(moe.shared(), "w3"));
                y.sharedW2 = param(moe.shared(), "w2");
                y.sharedHidden = y.sharedW2.length / config.dModel();
            }
        }
        return y;
    }

    private static Block child(Block b, String suffix) {
        for (Pair<String, Block> c : b.getChildren()) {
            if (c.getKey().endsWith(suffix)) {
                return c.getValue();
            }
        }
        throw new IllegalStateException("model: no child block '" + suffix + "'");
    }

    private static float[] gain(Block norm) {
        return param(norm, "gain");
    }

    private static float[] param(Block b, String name) {
        Parameter p = b.getDirectParameters().get(name);
        if (p == null) {
            throw new IllegalStateException("model: no parameter '" + name + "'");
        }
        return floats(p);
    }

    private static float[] floats(Parameter p) {
        NDArray a = p.getArray();
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
