package io.github.muon4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * An sgemm rate from a BLAS other than libtorch's: numpy's, through {@code python3} when it is
 * installed (numpy wheels bundle OpenBLAS). The matrix-product ceiling of the machine should not be
 * the engine's own library when another one on the same cores does better.
 */
final class ExternalBlas {

    /** Best GFLOP/s of an n^3 float32 product, and what computed it. */
    record Rate(double gflops, String source) {}

    private static volatile String whyNone = "not tried";

    private ExternalBlas() {}

    /** Why the last {@link #sgemm} returned null. */
    static String whyNone() {
        return whyNone;
    }

    // best of `reps` timed n^3 products after one untimed one; prints "GFLOP/s numpy-version
    // blas-name"
    private static final String SCRIPT =
            String.join(
                    "\n",
                    "import sys, time",
                    "import numpy as np",
                    "n, reps = int(sys.argv[1]), int(sys.argv[2])",
                    "rng = np.random.default_rng(1)",
                    "a = rng.standard_normal((n, n), dtype=np.float32)",
                    "b = rng.standard_normal((n, n), dtype=np.float32)",
                    "a @ b",
                    "best = 0.0",
                    "for _ in range(reps):",
                    "    t = time.perf_counter(); a @ b; best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t) / 1e9)",
                    "blas = 'blas'",
                    "try:",
                    "    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']['name']",
                    "except Exception:",
                    "    pass",
                    "print(best, np.__version__, blas)",
                    "");

    /**
     * numpy's best of {@code reps} n^3 products on all cores; null (see {@link #whyNone}) without
     * python3 + numpy.
     */
    static Rate sgemm(int n, int reps) {
        try {
            Process p =
                    new ProcessBuilder(
                                    "python3",
                                    "-c",
                                    SCRIPT,
                                    Integer.toString(n),
                                    Integer.toString(reps))
                            .redirectErrorStream(true)
                            .start();
            p.getOutputStream().close();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                whyNone = "python3 numpy took over 120 s";
                return null;
            }
            String out =
                    new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                whyNone =
                        out.contains("No module named") ? "python3 has no numpy" : "python3 failed";
                return null;
            }
            String[] f = out.substring(out.lastIndexOf('\n') + 1).split(" ");
            return new Rate(
                    Double.parseDouble(f[0]),
                    String.format(
                            Locale.ROOT, "numpy %s (%s)", f[1], f.length > 2 ? f[2] : "blas"));
        } catch (IOException e) {
            whyNone = "no python3";
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            whyNone = "interrupted";
            return null;
        } catch (RuntimeException e) {
            whyNone = "unreadable numpy output";
            return null;
        }
    }
}
