package io.github.muon4j.train;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Ends the process now with an exit code, through the C library's {@code _exit}: unlike {@code
 * System.exit} and {@link Runtime#halt} (which call {@code exit()}), it runs no {@code atexit}
 * handlers and no C++ static destructors, so a thread still inside libtorch is not left calling
 * into objects that {@code exit()} has already destroyed. Output is flushed first.
 */
final class ImmediateExit {

    private ImmediateExit() {}

    /** The C library's {@code _exit}, through JNA (a dependency of DJL's API). */
    interface LibC extends Library {
        void _exit(int status);
    }

    static void now(int code) {
        System.out.flush();
        System.err.flush();
        try {
            Native.load("c", LibC.class)._exit(code);
        } catch (LinkageError | RuntimeException noJna) {
            // no C library reachable through JNA (not expected on Linux or macOS): the JVM's halt
        }
        Runtime.getRuntime().halt(code);
    }
}
