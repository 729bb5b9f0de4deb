package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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

/**
 * Mixture-of-experts feed-forward (DeepSeekMoE): fine-grained routed SwiGLU experts chosen by the
 * {@link Gate}, plus shared experts that see every token (one fused SwiGLU of hidden {@code
 * n_shared * expert_hidden}).
 *
 * <p>Sparse dispatch: the N*k (token, expert) assignments are ordered by expert id (argsort),
 * counted (one transfer of E counts to the CPU), and each expert runs only on its own contiguous
 * slice of rows; the outputs are put back in assignment order with the inverse permutation and
 * combined with the router weights. Routed expert weights are stacked [E, out, in] ({@link
 * ParamRole#EXPERT_STACK}) and split per expert with one op (whose backward is one concat).
 *
 * <p>Balance terms (DeepSeek-V3's complementary sequence-wise loss): for each sequence of T tokens,
 * {@code alpha * E * sum_i f_i P_i} with f_i the fraction of that sequence's T*k assignments that
 * went to expert i and P_i the sequence's mean of expert i's normalised score (scores divided by
 * their sum over all experts; the softmax probability for a softmax router), averaged over the
 * sequences; plus the optional router z-loss {@code z * mean(logsumexp(logits)^2)}. A 2-D input (N,
 * d) counts as one sequence.
 */
public final class MoE extends ModelBlock implements FeedForward {

    private final int experts;
    private final int topK;
    private final double auxCoef;
    private final double zCoef;
    private final Gate gate;
    private final SwiGLU shared;
    private final Parameter w1;
    private final Parameter w3;
    private final Parameter w2;

    public MoE(ModelConfig c) {
        experts = c.nRoutedExperts();
        topK = c.topK();
        auxCoef = c.auxLossCoef();
        zCoef = c.zLossCoef();
        int h = c.expertHidden();
        gate = addChildBlock("gate", new Gate(c));
        shared =
                c.nSharedExperts() > 0
                        ? addChildBlock("shared", new SwiGLU(c, c.nSharedExperts() * h))
                        : null;
        w1 = param("experts_w1", ParamRole.EXPERT_STACK, c.initScale(), experts, h, c.dModel());
        w3 = param("experts_w3", ParamRole.EXPERT_STACK, c.initScale(), experts, h, c.dModel());
        w2 =
                param(
                        "experts_w2",
                        ParamRole.EXPERT_STACK,
                        DecoderLM.outputStd(c),
                        experts,
                        c.dModel(),
                        h);
    }

    public Gate gate() {
        return gate;
    }

    /** The shared experts, or null when n_shared_experts is 0. */
    public SwiGLU shared() {
        return shared;
    }

    /** Stacked routed expert weights: w1 and w3 [E, hidden, d], w2 [E, d, hidden]. */
    public Parameter[] expertWeights() {
        return new Parameter[] {w1, w3, w2};
    }

    @Override
    public Result apply(ParameterStore ps, NDArray x, boolean training) {
        Shape shape = x.getShape();
        long d = shape.get(shape.dimension() - 1);
        NDArray flat = x.reshape(-1, d); // (N, d)
        long n = flat.getShape().get(0);
        Gate.Routing r = gate.route(ps, flat, training);

        NDArray ids = r.indices().flatten(); // (N*k) expert of each assignment n*k + j
        NDArray order = ids.argSort(); // assignments grouped by expert
        NDArray countArr = ids.oneHot(experts).sum(new int[] {0}); // (E)
        long[] counts = countArr.toType(DataType.INT64, false).toLongArray();
        NDArray token =
                order.toType(DataType.FLOAT64, false)
                        .div(topK)
                        .floor()
                        .toType(DataType.INT64, false); // source token of each sorted assignment
        NDArray inverse = order.argSort(); // sorted position of each assignment
        NDArray back =
                perExpert(ps, flat, inverse, token, counts, training)
                        .reshape(n, topK, d); // (N, k, d): output of each assignment's expert
        NDArray y = r.weights().expandDims(1).matMul(back).reshape(n, d); // (N,1,k)@(N,k,d)
        if (shared != null) {
            y = y.add(shared.forward(ps, flat, training));
        }

        float[] load = new float[experts];
        for (int e = 0; e < experts; e++) {
            load[e] = counts[e];
        }
        long sequences = shape.dimension() == 3 ? shape.get(0) : 1;
        NDArray balance = balanceLoss(r, sequences, n, x.getDataType());
        return new Result(y.reshape(shape), balance, load);
    }

    /**
     * Per-expert loop: each expert's rows are a contiguous slice of the sorted rows.
     *
     * @return (N*k, d) expert outputs in assignment order
     */
    private NDArray perExpert(
            ParameterStore ps,
            NDArray flat,
            NDArray inverse,
            NDArray token,
            long[] counts,
            boolean training) {
        NDManager m = flat.getManager();
        NDArray xs = rows(flat, token); // (N*k, d) rows sorted by expert
        long[] cuts = new long[experts - 1];
        long acc = 0;
        for (int e = 0; e < experts - 1; e++) {
            acc += counts[e];
            cuts[e] = acc;
        }
        NDList segments = xs.split(cuts, 0);
        Experts ex = new Experts(ps, m, training);
        NDList outs = new NDList();
        for (int e = 0; e < experts; e++) {
            if (counts[e] > 0) {
                outs.add(SwiGLU.apply(segments.get(e), ex.w(0, e), ex.w(1, e), ex.w(2, e)));
            }
        }
        NDArray ys = outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs, 0); // sorted order
        return rows(ys, inverse);
    }

    /** Sequence-wise aux loss plus z-loss; a zero scalar when both coefficients are 0. */
    private NDArray balanceLoss(Gate.Routing r, long sequences, long n, DataType type) {
        NDArray loss = r.logits().getManager().zeros(new Shape(), type);
        if (auxCoef > 0) {
            long t = n / sequences;
            NDArray counts =
                    r.indices()
                            .reshape(sequences, t * topK)
                            .oneHot(experts)
                            .sum(new int[] {1}); // (S, E)
            NDArray f = counts.toType(type, false).div((double) t * topK); // (S, E), no gradient
            NDArray probs = r.scores();
            if (gate.scoreFunction() == ScoreFunction.SIGMOID) {
                probs = probs.div(probs.sum(new int[] {1}, true));
            }
            NDArray p = probs.reshape(sequences, t, experts).mean(new int[] {1}); // (S, E)
            loss = loss.add(Tensors.scale(f.mul(p).sum(), auxCoef * experts / sequences));
        }
        if (zCoef > 0) {
            NDArray logits = r.logits();
            NDArray max = logits.max(new int[] {1}, true).stopGradient();
            NDArray lse = logits.sub(max).exp().sum(new int[] {1}, true).log().add(max);
            loss = loss.add(Tensors.scale(lse.square().mean(), zCoef));
        }
        return loss;
    }

    /**
     * Rows {@code table[index]}, via the embedding op: its backward is an index-add, about 10x
     * faster on CPU than the accumulate-put behind advanced indexing ({@code table.get(index)}).
     */
    private static NDArray rows(NDArray table, NDArray index) {
        return Embedding.embedding(index, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * Per-expert views of the stacked weights in the step manager. Training splits each stack once
     * (one op, whose backward is one concat, instead of E selects, each of whose backward would
     * write a full-size zero tensor); inference selects only the experts in use.
     */
    private final class Experts {
        private final NDArray[] stacks;
        private final NDList[] parts = new NDList[3];
        private final NDManager m;
        private final boolean training;

        Experts(ParameterStore ps, NDManager m, boolean training) {
            this.m = m;
            this.training = training;
            stacks =
                    new NDArray[] {
                        value(ps, w1, training), value(ps, w3, training), value(ps, w2, training)
                    };
            if (training) {
                for (int i = 0; i < 3; i++) {
                    parts[i] = stacks[i].split(experts, 0);
                    parts[i].attach(m); // an op on a parameter lands in the model's manager
                }
            }
        }

        /** Weight i (0: w1, 1: w3, 2: w2) of expert e as [out, in]. */
        NDArray w(int i, int e) {
            if (!training) {
                return stacks[i].get(m, e);
            }
            Shape s = stacks[i].getShape();
            return parts[i].get(e).reshape(s.get(1), s.get(2));
        }
    }

    /** Nudges the gate's balancing bias from this layer's last load. */
    public void updateBias(float[] load) {
        gate.updateBias(load);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        Result r = apply(ps, inputs.singletonOrThrow(), training);
        return new NDList(r.out(), r.balanceLoss());
    }
}
