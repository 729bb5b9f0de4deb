package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;

/**
 * The precision of matrix products on the current thread, set for a scope like PyTorch's {@code
 * torch.autocast}:
 *
 * <pre>
 *   try (Autocast ac = Autocast.enter(Precision.BF16)) {
 *       // forward and backward: every product through matMul/linear runs in bf16
 *   }
 * </pre>
 *
 * <p>The model sends its projections and the LM head through here, and {@link SwiGLU} runs its
 * products and gating in bf16 in one call when the scope is bf16; attention's score and value
 * products stay float32 (K = head_dim is too short for bf16 to pay for the casts).
 *
 * <p>Outside a scope products run in float32. In bf16 both operands are rounded to bfloat16, the
 * product accumulates in float32 and comes back as float32 ({@link Bf16Matmul}); autograd sees the
 * two casts, so gradients reach the float32 master weights as float32.
 */
public final class Autocast implements AutoCloseable {

    private static final ThreadLocal<Precision> CURRENT =
            ThreadLocal.withInitial(() -> Precision.FP32);

    private final Precision previous;

    private Autocast(Precision previous) {
        this.previous = previous;
    }

    /** Sets the thread's precision until {@link #close}, which restores the previous one. */
    public static Autocast enter(Precision precision) {
        Autocast a = new Autocast(CURRENT.get());
        CURRENT.set(precision);
        return a;
    }

    /** The thread's current precision. */
    public static Precision current() {
        return CURRENT.get();
    }

    @Override
    public void close() {
        CURRENT.set(previous);
    }

    /** {@code a @ b} (torch.matmul broadcasting) in the current precision; float32 result. */
    public static NDArray matMul(NDArray a, NDArray b) {
        return CURRENT.get() == Precision.BF16 ? Bf16Matmul.matMul(a, b) : a.matMul(b);
    }

    /** {@code x W^T}: x (..., in), w (out, in) -> (..., out), in the current precision. */
    public static NDArray linear(NDArray x, NDArray w) {
        if (CURRENT.get() == Precision.BF16) {
            NDArray wt = w.transpose(); // a view; it belongs to x's scope, not to the weight's
            // (long-lived) manager
            wt.attach(x.getManager());
            return Bf16Matmul.matMul(x, wt);
        }
        return ai.djl.nn.core.Linear.linear(x, w).singletonOrThrow();
    }
}
