package io.github.muon4j;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Owns engine set-up: the intra-op thread count, the default device, and the compute precision. It
 * changes no system property and no logging setting: the CLI sets those for its own JVM ({@code
 * cli.Main}); a library user's JVM is left as it is. Only {@link #init} (called by the CLI and the
 * trainer, or by {@link #get} on first use) touches the engine, through PyTorch's thread API.
 *
 * <p>Parameters are float32 on every device: DJL 0.36's native layer cannot create or cast to a
 * bfloat16 array (it aborts the JVM, see {@link #checkDataType}). Mixed precision (bf16 matrix
 * products over float32 weights) goes around it: {@link io.github.muon4j.model.Autocast}.
 */
public final class Backend {

    private static volatile Backend instance;

    private final Device device;
    private final int threads;

    private Backend(Device device, int threads) {
        this.device = device;
        this.threads = threads;
    }

    /**
     * Initialises the engine once per process: loads PyTorch, sets its intra-op threads and picks
     * the device.
     *
     * @param threads intra-op threads; 0 or less means all available cores, unless the JVM was
     *     started with {@code -Dai.djl.pytorch.num_threads} (which DJL applies when it loads)
     * @param device "auto" (GPU when present), "cpu" or "gpu"
     */
    public static synchronized Backend init(int threads, String device) {
        if (instance != null) {
            return instance;
        }
        Engine engine = Engine.getEngine("PyTorch");
        if (threads > 0 || System.getProperty("ai.djl.pytorch.num_threads") == null) {
            JniUtils.setNumThreads(
                    threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        }
        singleInteropThread();
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
        instance = new Backend(d, JniUtils.getNumThreads());
        return instance;
    }

    /**
     * One inter-op thread (muon4j runs no inter-op parallel work), unless the JVM's -D chose.
     * PyTorch accepts this only before its first parallel op; after that the pool it has stays.
     */
    private static void singleInteropThread() {
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") != null
                || JniUtils.getNumInteropThreads() == 1) {
            return;
        }
        try {
            JniUtils.setNumInteropThreads(1);
        } catch (EngineException e) {
            // parallel work has already started in this process: PyTorch keeps its pool
        }
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

    /**
     * Type of parameters and activations: float32 everywhere (bf16 products: {@link
     * io.github.muon4j.model.Autocast}).
     */
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
}
