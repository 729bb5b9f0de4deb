package io.github.muon4j.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

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
 * <p>The TorchScript archive (a zip of the pickled module object and its code) is written here in
 * memory; nothing is read from disk or downloaded.
 */
final class Bf16Matmul {

    private static volatile PtSymbolBlock module;

    private Bf16Matmul() {}

    /**
     * {@code a @ b} with bf16 operands and float32 accumulation; the result is float32, in a's
     * manager.
     */
    static NDArray matMul(NDArray a, NDArray b) {
        // training = true: the native call keeps autograd on (arrays that need no gradient cost
        // nothing)
        return IValueUtils.forward(module(), new NDList(a, b), true).singletonOrThrow();
    }

    private static PtSymbolBlock module() {
        PtSymbolBlock m = module;
        if (m == null) {
            synchronized (Bf16Matmul.class) {
                m = module;
                if (m == null) {
                    // the module has no parameters, so one copy serves every device; its manager
                    // lives as long as the process
                    NDManager owner = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                    try {
                        m =
                                JniUtils.loadModule(
                                        (PtNDManager) owner,
                                        new ByteArrayInputStream(archive()),
                                        true,
                                        false);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    module = m;
                }
            }
        }
        return m;
    }

    /** The TorchScript source of the module (libtorch ScalarType 15 = bfloat16, 6 = float32). */
    static final String CODE =
            String.join(
                    "\n",
                    "class Bf16Matmul(Module):",
                    "  __parameters__ = []",
                    "  __buffers__ = []",
                    "  training : bool",
                    "  def forward(self: __torch__.Bf16Matmul,",
                    "    a: Tensor,",
                    "    b: Tensor) -> Tensor:",
                    "    _0 = torch.matmul(torch.to(a, 15), torch.to(b, 15))",
                    "    return torch.to(_0, 6)",
                    "");

    /**
     * The module as a TorchScript archive: data.pkl (the object), code, constants, format version.
     */
    static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            stored(zip, "bf16/data.pkl", objectPickle());
            stored(zip, "bf16/code/__torch__.py", CODE.getBytes(StandardCharsets.UTF_8));
            stored(
                    zip,
                    "bf16/constants.pkl",
                    new byte[] {(byte) 0x80, 2, ')', '.'}); // protocol 2, empty tuple, stop
            stored(zip, "bf16/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    /**
     * Pickle (protocol 2) of a {@code __torch__.Bf16Matmul} object whose state is {@code
     * {"training": True}}: PROTO 2, GLOBAL, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, BINUNICODE
     * "training", NEWTRUE, SETITEMS, BUILD, STOP.
     */
    private static byte[] objectPickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        p.writeBytes("c__torch__\nBf16Matmul\n".getBytes(StandardCharsets.US_ASCII));
        p.write(')');
        p.write(0x81);
        p.write('}');
        p.write('(');
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X');
        p.write(key.length); // 4-byte little-endian length
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x88);
        p.write('u');
        p.write('b');
        p.write('.');
        return p.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
