package io.github.muon4j;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Owns engine set-up: offline mode (the native library comes from the jar, nothing is downloaded),
 * the intra-op thread count, the default device, and the compute precision.
 *
 * <p>Parameters are float32 on every device: DJL 0.36's native layer cannot create or cast to a
 * bfloat16 array (it aborts the JVM, see {@link #checkDataType}). Mixed precision (bf16 matrix
 * products over float32 weights) goes around it: {@link io.github.muon4j.model.Autocast}.
 */
public final class Backend {

    static {
        setIfAbsent("ai.djl.offline", "true");
        // DJL probes CUDA at start-up and warns on every CPU-only machine; that is noise for users.
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.pytorch", "warn");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }

    private static volatile Backend instance;

    private final Device device;
    private final int threads;

    private Backend(Device device, int threads) {
        this.device = device;
        this.threads = threads;
    }

    /**
     * Initialises the engine once per process.
     *
     * @param threads intra-op threads; 0 or less means all available cores
     * @param device "auto" (GPU when present), "cpu" or "gpu"
     */
    public static synchronized Backend init(int threads, String device) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        if (instance != null) {
            return instance;
        }
        // read by PtEngine when it loads; must be set before the first Engine call
        setIfAbsent("ai.djl.pytorch.num_threads", Integer.toString(n));
        setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
        Engine engine = Engine.getEngine("PyTorch");
        int gpus = engine.getGpuCount();
        Device d;
        switch (device == null ? "auto" : device) {
            case "cpu":
                d = Device.cpu();
                break;
            case "gpu":
                if (gpus == 0) {
                    throw new IllegalArgumentException(
                            "--device gpu: no CUDA GPU is visible to the PyTorch engine (`muon4j doctor` says why)");
                }
                d = Device.gpu();
                break;
            case "auto":
                d = gpus > 0 ? Device.gpu() : Device.cpu();
                break;
            default:
                throw new IllegalArgumentException(
                        "device must be auto, cpu or gpu, not '" + device + "'");
        }
        instance = new Backend(d, n);
        return instance;
    }

    /** The backend, initialised with defaults (all cores, auto device) on first use. */
    public static Backend get() {
        Backend b = instance;
        return b != null ? b : init(0, "auto");
    }

    public Device device() {
        return device;
    }

    public int threads() {
        return threads;
    }

    public boolean isGpu() {
        return device.isGpu();
    }

    /** Type of parameters and activations: float32 everywhere (bf16 products: {@link io.github.muon4j.model.Autocast}). */
    public DataType computeType() {
        return DataType.FLOAT32;
    }

    /** A new root manager on the backend's device. Close it (try-with-resources). */
    public NDManager newManager() {
        return NDManager.newBaseManager(device, "PyTorch");
    }

    /**
     * Refuses bfloat16 arrays on every device. DJL 0.36's JNI maps only DJL types 0-8 to libtorch
     * types; for BFLOAT16 (type 11) its {@code utils::GetScalarTypeFromDType} executes a bare
     * {@code throw;}, and the C++ runtime aborts the JVM ("terminate called without an active
     * exception") at the first cast to or creation of a bf16 array, before any product.
     */
    public static void checkDataType(DataType type, Device device) {
        if (type == DataType.BFLOAT16) {
            throw new IllegalArgumentException(
                    "bfloat16 parameters are not supported: DJL 0.36's native layer aborts the JVM on any bf16"
                            + " array; keep float32 parameters and train with --precision bf16 (bf16 matrix products)");
        }
    }

    /**
     * Measures the fp32 matmul rate (GFLOP/s) of an n x n by n x n product on this device: the
     * physical ceiling that MFU figures are reported against.
     */
    public double matmulGflops(int n, int reps) {
        try (NDManager m = newManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            for (int i = 0; i < 2; i++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(s);
                    c.toFloatArray(); // forces completion on GPU too
                }
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(s);
                    if (i == reps - 1) {
                        c.get(0, 0).toFloatArray();
                    }
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            return 2.0 * n * n * (double) n * reps / sec / 1e9;
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
