package io.github.muon4j;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A libtorch operation that DJL 0.36 does not expose, run as a tiny TorchScript module with no
 * parameters: the module's source is given here, packed into a TorchScript archive in memory and
 * loaded once, on first use. Nothing is read from disk or downloaded. Used for bf16 matrix products
 * ({@code model.Bf16Matmul}), the fused AdamW update ({@code optim.FusedAdamW}), the fused causal
 * attention ({@code model.AttentionCore}), RoPE as a complex product ({@code
 * model.RotaryEmbedding}), SwiGLU's gating ({@code model.SwiGLU}) and the chunk loop of the fused
 * LM head and loss ({@code train.LmLoss}).
 *
 * <p>A module is given by its class name and its {@code forward}: parameters, return type and body;
 * the rest of TorchScript's serialized class ({@code class Name(Module):}, empty {@code
 * __parameters__} and {@code __buffers__}, {@code training : bool}) is written here ({@link
 * #code()}).
 */
public final class TorchScript {

    private final String className;
    private final String code;
    private volatile PtSymbolBlock module;

    /**
     * A module of class {@code className} whose {@code forward(self, <parameters>) -> <returns>}
     * runs {@code body}.
     *
     * @param className the class name (a Python identifier)
     * @param parameters forward's parameters after self, with their types ({@code "a: Tensor, b:
     *     Tensor"})
     * @param returns forward's return type ({@code "Tensor"})
     * @param body forward's statements, one per element, without indentation
     */
    public TorchScript(String className, String parameters, String returns, String... body) {
        this.className = className;
        StringBuilder c = new StringBuilder();
        c.append("class ").append(className).append("(Module):\n");
        c.append("  __parameters__ = []\n  __buffers__ = []\n  training : bool\n");
        c.append("  def forward(self: __torch__.").append(className).append(", ");
        c.append(parameters).append(") -> ").append(returns).append(":\n");
        for (String line : body) {
            c.append("    ").append(line).append('\n');
        }
        this.code = c.toString();
    }

    /** The module's TorchScript source, as packed into its archive. */
    public String code() {
        return code;
    }

    /**
     * The loaded module. It has no parameters, so one copy serves every device; its manager lives
     * as long as the process.
     */
    public PtSymbolBlock module() {
        PtSymbolBlock m = module;
        if (m == null) {
            synchronized (this) {
                m = module;
                if (m == null) {
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

    /**
     * Runs the module's {@code forward} on {@code inputs} (results that need gradients stay on the
     * autograd graph) with libtorch's graph optimization off for this call, so that each operation
     * runs, and is recorded by autograd, as an eager call would be, the same way on every call.
     * With it on, libtorch's profiling executor rewrites a module after its first calls, for the
     * shapes it has seen, and differentiates one whose inputs need gradients through a graph of its
     * own: what runs then depends on the calls before, and for SwiGLU's gating it measured slower.
     * The flag is libtorch's and per thread; afterwards it is set the way DJL's own modules set it:
     * from the system property {@value #GRAPH_OPTIMIZER}, else libtorch's default (on).
     *
     * @param inputs the forward's arguments, in order
     * @return the forward's results, in the first input's manager
     */
    public NDList forwardEager(NDList inputs) {
        PtSymbolBlock m = module();
        return eagerly(() -> IValueUtils.forward(m, inputs, true));
    }

    /**
     * As {@link #forwardEager(NDList)}, for arguments that are not all tensors (lists, numbers).
     *
     * @param inputs the forward's arguments, in order; the caller closes them
     * @return the forward's result; the caller closes it
     */
    public IValue forwardEager(IValue... inputs) {
        PtSymbolBlock m = module();
        return eagerly(() -> IValueUtils.forward(m, inputs));
    }

    /**
     * Runs {@code call} with graph optimization off on this thread, then sets it back as DJL does.
     */
    private static <T> T eagerly(Supplier<T> call) {
        JniUtils.setGraphExecutorOptimize(false);
        try {
            return call.get();
        } finally {
            String djl = System.getProperty(GRAPH_OPTIMIZER);
            JniUtils.setGraphExecutorOptimize(djl == null || Boolean.parseBoolean(djl));
        }
    }

    /** DJL's system property for libtorch's graph optimization (read, never set, here). */
    static final String GRAPH_OPTIMIZER = "ai.djl.pytorch.graph_optimizer";

    /**
     * The module as a TorchScript archive: data.pkl (the object), code, constants, format version.
     */
    byte[] archive() throws IOException {
        String dir = className.toLowerCase(java.util.Locale.ROOT);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            stored(zip, dir + "/data.pkl", objectPickle());
            stored(zip, dir + "/code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
            stored(
                    zip,
                    dir + "/constants.pkl",
                    new byte[] {(byte) 0x80, 2, ')', '.'}); // protocol 2, empty tuple, stop
            stored(zip, dir + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    /**
     * Pickle (protocol 2) of a {@code __torch__.<className>} object whose state is {@code
     * {"training": True}}: PROTO 2, GLOBAL, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, BINUNICODE
     * "training", NEWTRUE, SETITEMS, BUILD, STOP.
     */
    private byte[] objectPickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        p.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
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
