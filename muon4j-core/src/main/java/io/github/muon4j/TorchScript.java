package io.github.muon4j;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
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
 * A libtorch operation that DJL 0.36 does not expose, run as a tiny TorchScript module with no
 * parameters: the module's source is given here, packed into a TorchScript archive in memory and
 * loaded once, on first use. Nothing is read from disk or downloaded. Used for bf16 matrix products
 * ({@code model.Bf16Matmul}) and the fused AdamW update ({@code optim.DecoupledAdamW}).
 *
 * <p>The source is TorchScript's serialized form of one class: {@code class Name(Module):} with
 * empty {@code __parameters__} and {@code __buffers__}, a {@code training : bool} attribute and a
 * {@code forward}.
 */
public final class TorchScript {

    private final String className;
    private final String code;
    private volatile PtSymbolBlock module;

    /**
     * A module of class {@code className} whose TorchScript source is {@code code}.
     *
     * @param className the class name in {@code code} (a Python identifier)
     * @param code the class's serialized TorchScript source
     */
    public TorchScript(String className, String code) {
        this.className = className;
        this.code = code;
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
