package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.muon4j.TorchScript;
import io.github.muon4j.optim.ParamRole;

/**
 * SwiGLU feed-forward (Shazeer 2020): {@code y = (silu(x W1^T) * (x W3^T)) W2^T} with W1, W3
 * [hidden, d_model] and W2 [d_model, hidden]. Also used for the MoE shared experts (hidden =
 * n_shared * expert_hidden, one fused FFN as in DeepSeek) and, via {@link #apply(NDArray, NDArray,
 * NDArray, NDArray)}, for each routed expert.
 */
public final class SwiGLU extends ModelBlock implements FeedForward {

    private final Parameter w1;
    private final Parameter w3;
    private final Parameter w2;

    public SwiGLU(ModelConfig c, int hidden) {
        w1 = param("w1", ParamRole.HIDDEN_MATRIX, c.initScale(), hidden, c.dModel());
        w3 = param("w3", ParamRole.HIDDEN_MATRIX, c.initScale(), hidden, c.dModel());
        w2 = param("w2", ParamRole.HIDDEN_MATRIX, DecoderLM.outputStd(c), c.dModel(), hidden);
    }

    /**
     * x (..., d) with weights w1, w3 (hidden, d) and w2 (d, hidden) -> (..., d). Under bf16 ({@link
     * Autocast}) the products and the gating between them run in bf16 in one libtorch call.
     */
    public static NDArray apply(NDArray x, NDArray w1, NDArray w3, NDArray w2) {
        if (Autocast.current() == Precision.BF16) {
            return Bf16Matmul.swiGlu(x, w1, w3, w2);
        }
        NDArray g = MultiHeadAttention.project(x, w1);
        NDArray u = MultiHeadAttention.project(x, w3);
        NDArray h = GATE.forwardEager(new NDList(g, u)).singletonOrThrow(); // (..., hidden)
        return MultiHeadAttention.project(h, w2);
    }

    /**
     * The gating {@code silu(g) * u} as two libtorch operations whose backward is one product and
     * one {@code silu_backward} (against sigmoid, two products and their five backward passes for
     * {@code sigmoid(g) * g * u}): alone, the whole float32 SwiGLU at 8 x 512 x 512 -> 1,408,
     * forward and backward, took 3-5% less (docs/benchmarks-log.md, 2026-12-04).
     */
    private static final TorchScript GATE =
            new TorchScript(
                    "SiluGate",
                    "g: Tensor, u: Tensor",
                    "Tensor",
                    "return torch.mul(torch.silu(g), u)");

    /** x (..., d_model) -> (..., d_model). */
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        return apply(x, value(ps, w1, training), value(ps, w3, training), value(ps, w2, training));
    }

    @Override
    public Result apply(ParameterStore ps, NDArray x, boolean training) {
        return new Result(forward(ps, x, training), null, null);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training));
    }
}
