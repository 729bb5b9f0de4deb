package io.github.muon4j.model;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The precision of the model's matrix products. Weights, optimizer state, norms and the attention
 * softmax stay float32 in every mode; {@link #BF16} rounds the two operands of each matrix product
 * to bfloat16 (accumulating in float32), as PyTorch's autocast does ({@link Autocast}); SwiGLU's
 * gating (silu(g) * u) runs in bf16 on its products' bf16 outputs, as it would under autocast. The
 * fused LM head ({@code train.LmLoss.fusedHead}) also keeps its softmax output, the operand of its
 * two gradient products, in bfloat16, so the training loss it reports is within 2^-8 per token of
 * float32's.
 */
public enum Precision {
    FP32,
    BF16;

    /**
     * Parses {@code fp32}, {@code bf16} or {@code auto}; {@code auto} is bf16 only where the
     * hardware multiplies bf16 natively ({@link #nativeBf16}), fp32 elsewhere.
     */
    public static Precision resolve(String name, Device device) {
        switch (name == null ? "fp32" : name.toLowerCase(Locale.ROOT)) {
            case "fp32":
                return FP32;
            case "bf16":
                return BF16;
            case "auto":
                return nativeBf16(device) ? BF16 : FP32;
            default:
                throw new IllegalArgumentException(
                        "precision must be fp32, bf16 or auto, not '" + name + "'");
        }
    }

    /**
     * Whether {@code device} has bf16 dot-product instructions: on CPU, AVX512_BF16 or AMX-BF16 in
     * /proc/cpuinfo (Linux; false elsewhere); on a CUDA GPU, compute capability 8.0 or newer.
     */
    public static boolean nativeBf16(Device device) {
        if (device.isGpu()) {
            try {
                String cc = ai.djl.util.cuda.CudaUtils.getComputeCapability(device.getDeviceId());
                return Integer.parseInt(cc.substring(0, cc.length() - 1)) >= 8;
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }
        return cpuHasBf16(cpuFlags());
    }

    /** True when a /proc/cpuinfo flags line lists avx512_bf16 or amx_bf16. */
    static boolean cpuHasBf16(String flags) {
        for (String f : flags.split("\\s+")) {
            if (f.equals("avx512_bf16") || f.equals("amx_bf16")) {
                return true;
            }
        }
        return false;
    }

    /** The first "flags" line of /proc/cpuinfo, "" where there is none. */
    static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.substring(line.indexOf(':') + 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "";
    }

    public String flag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
