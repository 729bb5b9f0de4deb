package io.github.muon4j.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.MemoryUsage;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j doctor}: what the engine found (versions, native library, devices, threads). */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description =
                "What the engine found: DJL and PyTorch versions, native library flavour and path, devices, threads.")
public final class DoctorCommand implements Callable<Integer> {

    @Option(
            names = "--device",
            defaultValue = "auto",
            description =
                    "auto | cpu | gpu: the device you mean to train on; "
                            + "with gpu, exit 1 when none is found (default: ${DEFAULT-VALUE})")
    String device;

    @Option(
            names = "--threads",
            defaultValue = "0",
            description = "intra-op threads to set up, as train does (0: all cores)")
    int threads;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    /**
     * What oneMKL's CPU dispatcher chose in the loaded libtorch ({@code mkl_serv_cpu_detect()}): 0
     * is its generic path, which it takes on CPUs that are not Intel's unless {@code
     * mkl_serv_intel_cpu_true} is replaced (the launcher's preload on AMD); -1 when the library has
     * no MKL (or is not found).
     */
    static int mklCodePath(String libDir) {
        try {
            java.nio.file.Path lib = java.nio.file.Path.of(libDir, "libtorch_cpu.so");
            if (!java.nio.file.Files.exists(lib)) {
                return -1;
            }
            return com.sun.jna.NativeLibrary.getInstance(lib.toString())
                    .getFunction("mkl_serv_cpu_detect")
                    .invokeInt(new Object[0]);
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }

    /**
     * Cache directories of DJL's PyTorch natives: VERSION[-BUILD]-FLAVOUR[-precxx11]-CLASSIFIER.
     */
    static final Pattern CACHE_DIR =
            Pattern.compile("(\\d+\\.\\d+\\.\\d+)(?:-\\d+)?-(cpu|cu\\d+)(?:-precxx11)?-(.+)");

    @Override
    public Integer call() {
        if (!device.equals("auto") && !device.equals("cpu") && !device.equals("gpu")) {
            throw new IllegalArgumentException(
                    "--device must be auto, cpu or gpu, not '" + device + "'");
        }
        Backend backend;
        Engine engine;
        try {
            backend = Backend.init(threads, "auto");
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            System.out.printf(
                    "DJL %s: the PyTorch engine failed to load: %s%n",
                    Engine.getDjlVersion(), e.getMessage());
            System.out.println(
                    "hint: "
                            + (bundled() == null
                                    ? "this build has no native library in it (mvn -Pgpu): DJL downloads PyTorch from publish.djl.ai on first use, "
                                            + "which needs the network once; offline, set PYTORCH_LIBRARY_PATH (README, GPU) or use the default build"
                                    : "the bundled native library did not load; MUON4J_DEBUG=1 shows the stack trace"));
            if (System.getenv("MUON4J_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
        JsonObject o = new JsonObject();
        o.addProperty("djl_version", Engine.getDjlVersion());
        o.addProperty("pytorch_version", engine.getVersion());
        String libPath = LibUtils.getLibtorchPath();
        String flavour = flavour(libPath);
        o.addProperty("native_flavor", flavour);
        o.addProperty("native_library_path", libPath);
        o.addProperty("native_source", source(libPath));
        boolean cuda = CudaUtils.hasCuda();
        o.addProperty("cuda_runtime_found", cuda);
        if (cuda) {
            o.addProperty("cuda_version", CudaUtils.getCudaVersionString());
        }
        int gpus = engine.getGpuCount();
        o.addProperty("gpu_count", gpus);
        JsonArray devices = new JsonArray();
        for (Device d : engine.getDevices()) {
            devices.add(d.toString());
        }
        o.add("devices", devices);
        JsonArray gpuList = new JsonArray();
        for (int i = 0; i < gpus; i++) {
            JsonObject g = new JsonObject();
            g.addProperty("id", i);
            try {
                g.addProperty("compute_capability", CudaUtils.getComputeCapability(i));
                MemoryUsage m = CudaUtils.getGpuMemory(Device.gpu(i));
                g.addProperty("memory_bytes", m.getMax());
            } catch (RuntimeException e) {
                g.addProperty("error", String.valueOf(e.getMessage()));
            }
            gpuList.add(g);
        }
        o.add("gpus", gpuList);
        o.addProperty("default_device", backend.device().toString());
        o.addProperty("intra_op_threads", JniUtils.getNumThreads());
        o.addProperty("inter_op_threads", JniUtils.getNumInteropThreads());
        o.addProperty("cpu_cores", Runtime.getRuntime().availableProcessors());
        o.addProperty("offline", Boolean.getBoolean("ai.djl.offline"));
        int mklPath = mklCodePath(libPath);
        o.addProperty("mkl_code_path", mklPath);
        o.addProperty("native_bf16", io.github.muon4j.model.Precision.nativeBf16(backend.device()));
        o.add("engines", strings(new TreeSet<>(Engine.getAllEngines())));
        o.addProperty("default_engine", Engine.getDefaultEngineName());
        o.addProperty(
                "java",
                System.getProperty("java.vendor") + " " + System.getProperty("java.version"));
        o.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        String hint = gpus > 0 ? null : hint(flavour, o.get("native_source").getAsString(), cuda);
        if (hint != null) {
            o.addProperty("hint", hint);
        }

        System.out.printf(
                "DJL %s, PyTorch %s%n",
                o.get("djl_version").getAsString(), o.get("pytorch_version").getAsString());
        System.out.printf(
                "native library: %s (%s)%n  %s%n",
                flavour, o.get("native_source").getAsString(), libPath);
        System.out.printf(
                "CUDA runtime: %s%n",
                cuda ? "found, version " + o.get("cuda_version").getAsString() : "not found");
        System.out.printf("GPUs: %d%n", gpus);
        for (int i = 0; i < gpuList.size(); i++) {
            System.out.printf("  gpu(%d): %s%n", i, gpuList.get(i));
        }
        System.out.printf("devices: %s (default: %s)%n", devices, backend.device());
        System.out.printf(
                "threads: intra-op %d, inter-op %d (%d cores)%n",
                JniUtils.getNumThreads(),
                JniUtils.getNumInteropThreads(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf("offline mode (ai.djl.offline): %s%n", o.get("offline").getAsBoolean());
        System.out.printf(
                "MKL code path: %s%n",
                mklPath < 0
                        ? "unknown (no MKL in this native library)"
                        : mklPath
                                + (mklPath == 0
                                        ? " (MKL's generic path: on an AMD CPU, run through ./muon4j, which preloads"
                                                + " muon4j-cli/src/main/native/mkl_any_cpu.c)"
                                        : " (kernels chosen by the CPU's instruction set)"));
        System.out.printf(
                "bf16 products: %s%n",
                o.get("native_bf16").getAsBoolean()
                        ? "native on this device (--precision auto uses bf16)"
                        : "not native here (--precision auto stays fp32)");
        System.out.printf(
                "engines: %s (default %s)%n",
                o.get("engines"), o.get("default_engine").getAsString());
        System.out.printf("java: %s, %s%n", o.get("java").getAsString(), o.get("os").getAsString());
        if (hint != null) {
            System.out.println("hint: " + hint);
        }
        if (json) {
            System.out.println(o);
        }
        if (device.equals("gpu") && gpus == 0) {
            System.err.println(
                    "muon4j: --device gpu: no CUDA GPU is visible to the PyTorch engine (see the hint above)");
            return 1;
        }
        return 0;
    }

    /** cpu or cuXXX from DJL's cache directory name; else PYTORCH_FLAVOR, else "unknown". */
    static String flavour(String libPath) {
        if (source(libPath).equals("PYTORCH_LIBRARY_PATH")) {
            String f = System.getenv("PYTORCH_FLAVOR");
            return (f != null ? f : "cpu-precxx11")
                    + " (PYTORCH_FLAVOR, the JNI flavour DJL pairs with it)";
        }
        Matcher m = CACHE_DIR.matcher(Path.of(libPath).getFileName().toString());
        if (m.matches()) {
            return m.group(2);
        }
        String f = System.getenv("PYTORCH_FLAVOR");
        if (f == null) {
            f = System.getProperty("PYTORCH_FLAVOR");
        }
        return f != null ? f + " (PYTORCH_FLAVOR)" : "unknown";
    }

    /**
     * Where the native library came from: PYTORCH_LIBRARY_PATH, the build's jar, or DJL's download.
     */
    static String source(String libPath) {
        String override = System.getenv("PYTORCH_LIBRARY_PATH");
        if (override != null) {
            Path lib = Path.of(libPath).toAbsolutePath().normalize();
            for (String entry : override.split(java.io.File.pathSeparator)) {
                if (!entry.isBlank() && Path.of(entry).toAbsolutePath().normalize().equals(lib)) {
                    return "PYTORCH_LIBRARY_PATH";
                }
            }
        }
        Properties p = bundled();
        if (p != null && !Boolean.parseBoolean(p.getProperty("placeholder"))) {
            return "bundled " + p.getProperty("flavor", "?") + " jar";
        }
        return "downloaded by DJL";
    }

    /** native/lib/pytorch.properties of a pytorch-native-* jar on the class path, else null. */
    static Properties bundled() {
        try (InputStream in =
                DoctorCommand.class
                        .getClassLoader()
                        .getResourceAsStream("native/lib/pytorch.properties")) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    static String hint(String flavour, String source, boolean cuda) {
        if (source.startsWith("bundled cpu")) {
            return "no GPU: this build bundles PyTorch's CPU library. For CUDA, build without it (MUON4J_GPU=1 ./muon4j ..., "
                    + "or mvn -Pgpu package) so DJL fetches its CUDA build, or set PYTORCH_LIBRARY_PATH to a CUDA libtorch 2.7.1 "
                    + "with PYTORCH_FLAVOR=cu128 (README, GPU)";
        }
        if (!cuda) {
            return "no GPU: no CUDA runtime was found (does nvidia-smi list a GPU? is the driver's libcuda on the library path?)";
        }
        if (flavour.startsWith("cpu")) {
            return "no GPU: CUDA is present but the loaded PyTorch library is a CPU build ("
                    + flavour
                    + "); remove it from ~/.djl.ai/pytorch or set PYTORCH_FLAVOR/PYTORCH_LIBRARY_PATH (README, GPU)";
        }
        return "no GPU: a CUDA build is loaded but sees no device (CUDA_VISIBLE_DEVICES?)";
    }

    private static JsonArray strings(Iterable<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
