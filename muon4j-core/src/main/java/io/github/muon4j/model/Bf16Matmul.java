package io.github.muon4j.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.jni.IValueUtils;
import io.github.muon4j.TorchScript;

/**
 * A bfloat16 matrix product of float32 arrays, run by libtorch as a tiny TorchScript function:
 *
 * <pre>
 *   forward(a, b) = matmul(a.to(bfloat16), b.to(bfloat16)).to(float32)
 * </pre>
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

    private Bf16Matmul() {}

    /**
     * {@code a @ b} with bf16 operands and float32 accumulation; the result is float32, in a's
     * manager.
     */
    static NDArray matMul(NDArray a, NDArray b) {
        // training = true: the native call keeps autograd on (arrays that need no gradient cost
        // nothing)
        return IValueUtils.forward(SCRIPT.module(), new NDList(a, b), true).singletonOrThrow();
    }
}
