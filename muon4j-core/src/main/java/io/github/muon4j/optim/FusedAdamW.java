package io.github.muon4j.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import io.github.muon4j.TorchScript;

/**
 * One AdamW update in a single pass over the weight, gradient and moments: libtorch's fused kernel
 * ({@code torch._fused_adamw_}, the one behind PyTorch's {@code AdamW(fused=True)}), which DJL does
 * not expose, run through a {@link TorchScript} module. Its arithmetic is {@link DecoupledAdamW}'s,
 * element by element (first moment by {@code lerp}, bias corrections in double):
 *
 * <pre>
 *   W *= 1 - lr*wd;  m = lerp(m, g, 1 - beta1);  v = beta2*v + (1-beta2)*g^2
 *   W -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
 * </pre>
 *
 * <p>The op-by-op update reads and writes parameter-sized arrays about 30 times and allocates three
 * temporaries; this one reads four arrays and writes three, with no temporaries. The only array
 * created is the 0-d update count the kernel reads.
 */
final class FusedAdamW {

    private FusedAdamW() {}

    /**
     * The kernel applied to one parameter. The lists come from the caller: lists built inside the
     * function (as {@code [w]}) are taken for fresh values whose mutation nobody sees, and the call
     * is dropped as dead code.
     */
    private static final TorchScript SCRIPT =
            new TorchScript(
                    "FusedAdamW",
                    "w: List[Tensor], g: List[Tensor], m: List[Tensor], v: List[Tensor],"
                            + " t: List[Tensor], lr: float, beta1: float, beta2: float,"
                            + " wd: float, eps: float",
                    "int",
                    "torch._fused_adamw_(w, g, m, v, annotate(List[Tensor], []), t, lr=lr,"
                            + " beta1=beta1, beta2=beta2, weight_decay=wd, eps=eps,"
                            + " amsgrad=False, maximize=False)",
                    "return 0");

    /** Whether the fused kernel can take these arrays: all of libtorch (the PyTorch engine). */
    static boolean supports(NDArray w, NDArray g, NDArray m, NDArray v) {
        return w instanceof PtNDArray
                && g instanceof PtNDArray
                && m instanceof PtNDArray
                && v instanceof PtNDArray;
    }

    /**
     * Updates {@code w}, {@code m} and {@code v} in place for update {@code t} (1-based) from the
     * gradient {@code g}; the update count array is created in {@code scope}.
     */
    static void update(
            NDArray w,
            NDArray g,
            NDArray m,
            NDArray v,
            int t,
            double lr,
            double beta1,
            double beta2,
            double weightDecay,
            double eps,
            NDManager scope) {
        NDArray step = scope.create((float) t); // the kernel reads the count as a float tensor
        IValue[] in = {
            IValue.listFrom((PtNDArray) w),
            IValue.listFrom((PtNDArray) g),
            IValue.listFrom((PtNDArray) m),
            IValue.listFrom((PtNDArray) v),
            IValue.listFrom((PtNDArray) step),
            IValue.from(lr),
            IValue.from(beta1),
            IValue.from(beta2),
            IValue.from(weightDecay),
            IValue.from(eps)
        };
        try {
            SCRIPT.forwardEager(in).close();
        } finally {
            for (IValue x : in) {
                x.close();
            }
        }
    }
}
