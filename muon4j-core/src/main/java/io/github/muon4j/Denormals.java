package io.github.muon4j;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Denormal floats (magnitudes below 1.2e-38 in float32) flushed to zero in libtorch's CPU work for
 * a scope, as PyTorch's {@code torch.set_flush_denormal(True)} does for a Python thread:
 *
 * <pre>
 *   try (Denormals d = Denormals.flushToZero()) {
 *       // forward, backward and optimizer step: results below 1.2e-38 become 0 (FTZ) and
 *       // such inputs are read as 0 (DAZ)
 *   }
 * </pre>
 *
 * <p>Why: on Intel x86 cores an operation that takes or makes a denormal runs a microcode assist,
 * about 100 times slower than the plain instruction (a 1024^3 sgemm with denormal operands measured
 * 1.8 GFLOP/s against 344 on a Xeon with AMX). Training makes such values on its own: attention
 * probabilities far below the row's largest one and their gradients. A 6L-512d AdamW step slowed
 * from 4.3 to 8.3 s over 12 steps on that Xeon; with this scope it stayed at 4.1-4.5 s (see
 * docs/benchmarks-log.md). AMD's cores handle denormals with a smaller penalty; the scope costs
 * nothing there.
 *
 * <p>How: the flags are bits of each thread's MXCSR register (bit 15 flush-to-zero, bit 6
 * denormals-are-zero). The scope sets them on the calling thread and on the threads of libtorch's
 * OpenMP pool that serves it (one OpenMP parallel region that runs the C library's {@code fesetenv}
 * on every thread, called through JNA: no native code of muon4j's own), and {@link #close} puts
 * back the caller's previous state on all of them. Nothing outside the scope changes: other threads
 * of the host, and this thread's Java code after the scope, compute with gradual underflow as Java
 * requires. Java code that runs on the calling thread inside the scope flushes denormals too.
 *
 * <p>Where: Linux on x86-64 with libtorch's GNU OpenMP runtime (DJL's CPU and CUDA builds); on
 * other systems {@link #supported()} is false and the scope does nothing. Scopes nest: only the
 * outermost one on a thread sets and restores.
 */
public final class Denormals implements AutoCloseable {

    private static final int FLUSH_TO_ZERO = 0x8000;
    private static final int DENORMALS_ARE_ZERO = 0x0040;

    /** glibc's fenv_t on x86-64: 32 bytes, the x87 environment then MXCSR at byte 28. */
    private static final int FENV_BYTES = 32;

    private static final int MXCSR_OFFSET = 28;

    private static final int EXCEPTION_MASKS = 0x1F80;

    private static final ThreadLocal<Integer> DEPTH = ThreadLocal.withInitial(() -> 0);
    private static volatile Natives natives;
    private static volatile boolean looked;

    private final Memory previous; // the caller's environment before the outermost scope

    private Denormals(Memory previous) {
        this.previous = previous;
    }

    /**
     * Flushes denormals to zero on this thread and its libtorch pool until {@link #close}; a no-op
     * scope where that is not {@link #supported()} or inside another scope of this thread.
     */
    public static Denormals flushToZero() {
        int depth = DEPTH.get();
        Natives n = depth == 0 ? natives() : null;
        Memory env = null;
        if (n != null) {
            env = new Memory(FENV_BYTES);
            n.fegetenv.invokeInt(new Object[] {env});
            Memory flushed = new Memory(FENV_BYTES);
            flushed.write(0, env.getByteArray(0, FENV_BYTES), 0, FENV_BYTES);
            flushed.setInt(
                    MXCSR_OFFSET, env.getInt(MXCSR_OFFSET) | FLUSH_TO_ZERO | DENORMALS_ARE_ZERO);
            n.everyThread(flushed);
        }
        DEPTH.set(depth + 1); // counted once the scope exists: a failed call leaves no open scope
        return new Denormals(env);
    }

    /** Whether this thread is inside a {@link #flushToZero()} scope. */
    public static boolean active() {
        return DEPTH.get() > 0;
    }

    /**
     * Whether scopes take effect here: Linux on x86-64 with libtorch's OpenMP runtime loaded (loads
     * the PyTorch engine to find out).
     */
    public static boolean supported() {
        return natives() != null;
    }

    @Override
    public void close() {
        DEPTH.set(DEPTH.get() - 1);
        if (previous != null) {
            natives.everyThread(previous);
        }
    }

    /** The C library's fegetenv/fesetenv and libtorch's GOMP_parallel; null where unsupported. */
    private static Natives natives() {
        if (!looked) {
            synchronized (Denormals.class) {
                if (!looked) {
                    natives = Natives.find();
                    looked = true;
                }
            }
        }
        return natives;
    }

    private record Natives(Function fegetenv, Function fesetenv, Function gompParallel) {

        /**
         * fesetenv(env) on the calling thread and on every thread of its OpenMP team at libtorch's
         * intra-op thread count: {@code GOMP_parallel(fn, data, threads, flags)} runs fn(data) on
         * each, and fesetenv takes one pointer as a {@code void (*)(void *)} does.
         */
        void everyThread(Memory env) {
            fesetenv.invokeInt(new Object[] {env});
            gompParallel.invokeVoid(
                    new Object[] {fesetenv, env, Math.max(1, JniUtils.getNumThreads()), 0});
        }

        static Natives find() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return null;
            }
            try {
                Engine.getEngine("PyTorch"); // loads libtorch and its OpenMP runtime
                Path gomp = loadedOpenMp();
                if (gomp == null) {
                    return null;
                }
                NativeLibrary libm = NativeLibrary.getInstance("m");
                Function get = libm.getFunction("fegetenv");
                Memory env = new Memory(FENV_BYTES);
                // the layout check: MXCSR as a C program starts, every exception masked (bits
                // 7-12); anything else at that offset means another fenv_t layout: leave it alone
                if (get.invokeInt(new Object[] {env}) != 0
                        || (env.getInt(MXCSR_OFFSET) & EXCEPTION_MASKS) != EXCEPTION_MASKS) {
                    return null;
                }
                return new Natives(
                        get,
                        libm.getFunction("fesetenv"),
                        NativeLibrary.getInstance(gomp.toString()).getFunction("GOMP_parallel"));
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }

        /** The GNU OpenMP runtime mapped next to libtorch_cpu, else the first one mapped. */
        private static Path loadedOpenMp() {
            List<Path> mapped;
            try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
                mapped =
                        lines.filter(l -> l.indexOf('/') >= 0)
                                .map(l -> Path.of(l.substring(l.indexOf('/')).trim()))
                                .distinct()
                                .toList();
            } catch (IOException | RuntimeException e) {
                return null;
            }
            Path torchDir =
                    mapped.stream()
                            .filter(p -> p.getFileName().toString().startsWith("libtorch_cpu."))
                            .map(Path::getParent)
                            .findFirst()
                            .orElse(null);
            List<Path> gomp =
                    mapped.stream()
                            .filter(p -> p.getFileName().toString().startsWith("libgomp"))
                            .toList();
            return gomp.stream()
                    .filter(p -> p.getParent().equals(torchDir))
                    .findFirst()
                    .orElse(gomp.isEmpty() ? null : gomp.get(0));
        }
    }
}
