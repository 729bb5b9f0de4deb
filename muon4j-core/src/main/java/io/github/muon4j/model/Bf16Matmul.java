package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.github.muon4j.TorchScript;

/**
 * bfloat16 matrix products of float32 arrays, run by libtorch as tiny TorchScript functions:
 *
 * <pre>
 *   matMul(a, b)          = matmul(a.to(bfloat16), b.to(bfloat16)).to(float32)
 *   swiGlu(x, w1, w3, w2) = ((silu(xb w1b^T) * (xb w3b^T)) w2b^T).to(float32)   xb = x.to(bfloat16), ..
 * </pre>
 *
 * <p>In {@code swiGlu} the gating between the products also runs in bf16, on the products' bf16
 * outputs, as under PyTorch's autocast: the (tokens, hidden) arrays g, u and silu(g) u are never
 * float32, and x is rounded once for both of the products that read it. The result equals three
 * {@link #matMul} calls with the gating in float32 to bf16 rounding.
 *
 * <p>Why not {@code a.toType(BFLOAT16)}: DJL 0.36's native layer maps only its data types 0-8
 * (float32 ... complex64) to libtorch's; {@code BFLOAT16} is DJL type 11, for which the JNI
 * function {@code utils::GetScalarTypeFromDType} executes a bare {@code throw;} with no active
 * exception, so the C++ runtime calls {@code std::terminate} and the JVM aborts ("terminate called
 * without an active exception"). That happens at the first cast or creation of a bf16 array, on any
 * device, before any product. Inside TorchScript the casts are libtorch's own, and DJL only ever
 * sees the float32 operands and result; autograd records both casts, so gradients flow back as
 * float32.
 *
 * <p>The module is built in memory ({@link TorchScript}); nothing is read from disk or downloaded.
 */
final class Bf16Matmul {

    /** The module (libtorch ScalarType 15 = bfloat16, 6 = float32). */
    private static final TorchScript SCRIPT =
            new TorchScript(
                    "Bf16Matmul",
                    "a: Tensor, b: Tensor",
                    "Tensor",
                    "_0 = torch.matmul(torch.to(a, 15), torch.to(b, 15))",
                    "return torch.to(_0, 6)");

    /** SwiGLU's three products and its gating in one call (see the class comment). */
    private static final TorchScript SWIGLU =
            new TorchScript(
                    "Bf16SwiGLU",
                    "x: Tensor, w1: Tensor, w3: Tensor, w2: Tensor",
                    "Tensor",
                    "xb = torch.to(x, 15)",
                    "g = torch.matmul(xb, torch.t(torch.to(w1, 15)))",
                    "u = torch.matmul(xb, torch.t(torch.to(w3, 15)))",
                    "y = torch.matmul(torch.mul(torch.silu(g), u), torch.t(torch.to(w2, 15)))",
                    "return torch.to(y, 6)");

    private Bf16Matmul() {}

    /**
     * {@code a @ b} with bf16 operands and float32 accumulation; the result is float32, in a's
     * manager.
     */
    static NDArray matMul(NDArray a, NDArray b) {
        return SCRIPT.forwardEager(new NDList(a, b)).singletonOrThrow();
    }

    /**
     * SwiGLU {@code (silu(x W1^T) * (x W3^T)) W2^T} with bf16 operands and gating: x (..., d), w1
     * and w3 (hidden, d), w2 (d, hidden) -> float32 (..., d), in x's manager.
     */
    static NDArray swiGlu(NDArray x, NDArray w1, NDArray w3, NDArray w2) {
        return SWIGLU.forwardEager(new NDList(x, w1, w3, w2)).singletonOrThrow();
    }
}
