package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.optim.ParamRole;
import java.util.Arrays;

/**
 * MoE router: {@code logits = x W_g^T} (W_g [E, d_model]), scores by sigmoid (DeepSeek-V3, the
 * default: exported as DeepseekV3ForCausalLM's router with {@code e_score_correction_bias}) or
 * softmax, top-k experts chosen on {@code scores + bias} where the bias (loss-free balancing, Wang
 * et al. 2024) only affects the choice, never the weights; the weights are the chosen scores
 * (renormalised to sum 1 for sigmoid). The bias is Java-side state updated outside autograd by
 * {@link #updateBias(float[])}.
 */
public final class Gate extends ModelBlock {

    /**
     * @param logits (N, E) router logits
     * @param scores (N, E) softmax or sigmoid scores
     * @param indices (N, k) int64 chosen experts
     * @param weights (N, k) combine weights
     */
    public record Routing(NDArray logits, NDArray scores, NDArray indices, NDArray weights) {}

    private final Parameter weight;
    private final int experts;
    private final int topK;
    private final ScoreFunction score;
    private final double biasRate;
    private final float[] bias;

    public Gate(ModelConfig c) {
        experts = c.nRoutedExperts();
        topK = c.topK();
        score = c.scoreFunction();
        biasRate = c.biasUpdateRate();
        bias = new float[experts];
        weight = param("weight", ParamRole.ROUTER, c.initScale(), experts, c.dModel());
    }

    public int experts() {
        return experts;
    }

    public int topK() {
        return topK;
    }

    public ScoreFunction scoreFunction() {
        return score;
    }

    /** The router weight [E, d_model]. */
    public Parameter weight() {
        return weight;
    }

    /** A copy of the balancing bias. */
    public float[] bias() {
        return bias.clone();
    }

    /** Replaces the balancing bias (checkpoint restore). */
    public void setBias(float[] b) {
        if (b.length != experts) {
            throw new IllegalArgumentException(
                    "gate bias: expected " + experts + " values, got " + b.length);
        }
        System.arraycopy(b, 0, bias, 0, experts);
    }

    /** x (N, d_model) -> routing of every token. */
    public Routing route(ParameterStore ps, NDArray x, boolean training) {
        NDArray logits = MultiHeadAttention.project(x, value(ps, weight, training));
        NDArray scores =
                score == ScoreFunction.SOFTMAX ? logits.softmax(1) : Activation.sigmoid(logits);
        NDArray select = scores.stopGradient();
        if (anyNonZero(bias)) {
            select =
                    select.add(
                            Tensors.constant(
                                    x.getManager(), bias, new Shape(1, experts), x.getDataType()));
        }
        NDArray indices = select.topK(topK, 1, true, false).get(1).toType(DataType.INT64, false);
        NDArray w = scores.gather(indices, 1);
        if (score == ScoreFunction.SIGMOID) {
            w = w.div(w.sum(new int[] {1}, true));
        }
        return new Routing(logits, scores, indices, w);
    }

    /**
     * Loss-free balancing: {@code bias_i += u * sign(mean_load - load_i)}; no-op when u is 0.
     *
     * @param load tokens routed to each expert in the last step
     */
    public void updateBias(float[] load) {
        if (biasRate == 0 || load == null) {
            return;
        }
        double mean = 0;
        for (float l : load) {
            mean += l;
        }
        mean /= load.length;
        for (int i = 0; i < experts; i++) {
            bias[i] += (float) (biasRate * Math.signum(mean - load[i]));
        }
    }

    private static boolean anyNonZero(float[] v) {
        return !Arrays.equals(v, new float[v.length]);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        Routing r = route(ps, inputs.singletonOrThrow(), training);
        return new NDList(r.weights(), r.indices());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        Shape w = new Shape(in[0].get(0), topK);
        return new Shape[] {w, w};
    }
}
