package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.optim.ParamRole;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decoder-only language model: token embedding, {@code n_layers} pre-norm {@link
 * TransformerBlock}s, a final {@link RMSNorm} and the LM head (tied to the embedding or not).
 *
 * <p>Initialisation ({@link #initialize(NDManager, DataType)}) is deterministic from {@code
 * config.seed()} and each parameter's name: normal(0, init_scale) for all matrices, with the output
 * projections (attention W_o, feed-forward and expert W2) scaled by {@code 1 / sqrt(2 * n_layers)}
 * (GPT-2); norm gains start at 1.
 *
 * <p>All intermediates of {@link #forward(ParameterStore, NDArray, boolean)} are attached to the
 * manager of the tokens (the caller's step manager); nothing is added to the parameters' manager.
 */
public final class DecoderLM extends ModelBlock {

    /**
     * Output of a forward pass.
     *
     * @param logits (B, T, vocab)
     * @param balanceLoss scalar: sum over MoE layers of the weighted aux and z losses; 0 if dense
     * @param expertLoad per MoE layer, the tokens routed to each expert in this forward
     */
    public record Output(NDArray logits, NDArray balanceLoss, List<float[]> expertLoad) {}

    private final ModelConfig config;
    private final Parameter embedding;
    private final Parameter head;
    private final List<TransformerBlock> layers = new ArrayList<>();
    private final RMSNorm finalNorm;
    private NDManager manager;

    public DecoderLM(ModelConfig config) {
        this.config = config;
        embedding =
                param(
                        "embedding",
                        ParamRole.EMBEDDING,
                        config.initScale(),
                        config.vocabSize(),
                        config.dModel());
        head =
                config.tiedEmbeddings()
                        ? null
                        : param(
                                "head",
                                ParamRole.HEAD,
                                config.initScale(),
                                config.vocabSize(),
                                config.dModel());
        for (int l = 0; l < config.nLayers(); l++) {
            layers.add(addChildBlock("layer" + l, new TransformerBlock(config, l)));
        }
        finalNorm = addChildBlock("final_norm", new RMSNorm(config.dModel(), config.normEps()));
        seedInitializers(config.seed()); // so that DJL's own initialize() is seeded too
    }

    /** Std of output projections: init_scale / sqrt(2 * n_layers). */
    static double outputStd(ModelConfig c) {
        return c.initScale() / Math.sqrt(2.0 * c.nLayers());
    }

    public ModelConfig config() {
        return config;
    }

    public List<TransformerBlock> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** The manager holding the parameters (set by initialize). */
    public NDManager manager() {
        return manager;
    }

    /** Seeded, deterministic initialisation of every parameter in {@code manager}. */
    public void initialize(NDManager manager, DataType dataType) {
        initialize(manager, dataType, config.seed());
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        super.initialize(manager, dataType, inputShapes);
        this.manager = manager;
    }

    /** The role of every parameter, keyed by the exact names of {@code getParameters()}. */
    public Map<String, ParamRole> roles() {
        Map<String, ParamRole> roles = new LinkedHashMap<>();
        visitParams("", (name, spec) -> roles.put(name, spec.role()));
        return roles;
    }

    /** Sum of the element counts of all parameters (compare with config.totalParams()). */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : getParameters().values()) {
            n += p.getShape().size();
        }
        return n;
    }

    /** tokens (B, T) int -> embeddings (B, T, d_model) in the tokens' manager. */
    public NDArray embed(ParameterStore ps, NDArray tokens, boolean training) {
        return Embedding.embedding(tokens, value(ps, embedding, training), SparseFormat.DENSE)
                .singletonOrThrow();
    }

    /** Final norm and LM head: h (B, T, d_model) -> logits (B, T, vocab). */
    public NDArray logits(ParameterStore ps, NDArray h, boolean training) {
        return MultiHeadAttention.project(
                finalNorm.forward(ps, h, training), headWeight(ps, training));
    }

    /** The LM head's weight (vocab, d_model): the embedding when tied. */
    public NDArray headWeight(ParameterStore ps, boolean training) {
        return value(ps, head != null ? head : embedding, training);
    }

    /**
     * Output of the layers before the LM head.
     *
     * @param normed (B, T, d_model): the final norm's output, which the head multiplies
     * @param balanceLoss as in {@link Output}
     * @param expertLoad as in {@link Output}
     */
    public record Hidden(NDArray normed, NDArray balanceLoss, List<float[]> expertLoad) {}

    /**
     * Forward pass up to the LM head: {@code forward} is this followed by {@code normed x
     * headWeight^T}. A trainer can then compute the head and the loss chunk by chunk ({@code
     * LmLoss.fusedHead}) instead of materialising (B, T, vocab) logits.
     */
    public Hidden hidden(ParameterStore ps, NDArray tokens, boolean training) {
        if (tokens.getShape().dimension() != 2) {
            throw new IllegalArgumentException(
                    "tokens: expected shape (B, T), got " + tokens.getShape());
        }
        NDArray h = embed(ps, tokens, training);
        NDArray balance = null;
        List<float[]> loads = new ArrayList<>();
        for (TransformerBlock layer : layers) {
            FeedForward.Result r = layer.forward(ps, h, training);
            h = r.out();
            if (r.balanceLoss() != null) {
                balance = balance == null ? r.balanceLoss() : balance.add(r.balanceLoss());
            }
            if (r.expertLoad() != null) {
                loads.add(r.expertLoad());
            }
        }
        if (balance == null) {
            balance = tokens.getManager().zeros(new Shape(), h.getDataType());
        }
        return new Hidden(finalNorm.forward(ps, h, training), balance, loads);
    }

    /**
     * Full causal forward pass.
     *
     * @param tokens (B, T) int32 or int64 token ids, in the step manager
     * @param training whether gradients will be taken
     */
    public Output forward(ParameterStore ps, NDArray tokens, boolean training) {
        Hidden h = hidden(ps, tokens, training);
        NDArray logits = MultiHeadAttention.project(h.normed(), headWeight(ps, training));
        return new Output(logits, h.balanceLoss(), h.expertLoad());
    }

    /** Loss-free balancing: nudges each MoE layer's router bias from this forward's load. */
    public void updateBalanceBias(Output out) {
        updateBalanceBias(out.expertLoad());
    }

    /** As {@link #updateBalanceBias(Output)}, from the loads of {@link Output#expertLoad()}. */
    public void updateBalanceBias(List<float[]> expertLoad) {
        int i = 0;
        for (TransformerBlock layer : layers) {
            if (layer.ffn() instanceof MoE) {
                ((MoE) layer.ffn()).updateBias(expertLoad.get(i++));
            }
        }
    }

    /** The balancing bias of each MoE layer (for checkpoints); empty for a dense model. */
    public List<float[]> balanceBiases() {
        List<float[]> out = new ArrayList<>();
        for (TransformerBlock layer : layers) {
            if (layer.ffn() instanceof MoE) {
                out.add(((MoE) layer.ffn()).gate().bias());
            }
        }
        return out;
    }

    /** Restores the balancing biases saved by {@link #balanceBiases()}. */
    public void setBalanceBiases(List<float[]> biases) {
        int i = 0;
        for (TransformerBlock layer : layers) {
            if (layer.ffn() instanceof MoE) {
                if (i >= biases.size()) {
                    throw new IllegalArgumentException(
                            "balance biases: expected "
                                    + config.moeLayers()
                                    + " layers, got "
                                    + biases.size());
                }
                ((MoE) layer.ffn()).gate().setBias(biases.get(i++));
            }
        }
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        Output o = forward(ps, inputs.singletonOrThrow(), training);
        return new NDList(o.logits(), o.balanceLoss());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        return new Shape[] {new Shape(in[0].get(0), in[0].get(1), config.vocabSize()), new Shape()};
    }
}
