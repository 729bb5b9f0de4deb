package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * muon4j doctor reports the engine this build loads (DJL 0.36.0 and PyTorch 2.7.1, pinned in the
 * pom).
 */
class DoctorCommandTest {

    @Test
    void printsVersionsNativeLibraryDevicesAndThreads(@TempDir Path dir) {
        Cli.Outcome o = Cli.run(dir, "doctor", "--json");
        assertEquals(0, o.code(), o.err());
        JsonObject j = JsonParser.parseString(o.lastLine()).getAsJsonObject();
        assertEquals("0.36.0", j.get("djl_version").getAsString());
        assertEquals("2.7.1", j.get("pytorch_version").getAsString());
        Path lib = Path.of(j.get("native_library_path").getAsString());
        assertTrue(Files.isRegularFile(lib.resolve("libtorch.so")), lib + " holds libtorch.so");
        String flavour = j.get("native_flavor").getAsString();
        assertTrue(flavour.equals("cpu") || flavour.matches("cu\\d+.*"), flavour);
        int gpus = j.get("gpu_count").getAsInt();
        assertEquals(gpus + 1, j.getAsJsonArray("devices").size(), "cpu() and every gpu(i)");
        assertEquals(gpus, j.getAsJsonArray("gpus").size());
        assertTrue(j.get("intra_op_threads").getAsInt() >= 1);
        assertTrue(j.get("inter_op_threads").getAsInt() >= 1);
        assertTrue(j.get("offline").getAsBoolean(), "the tests run with ai.djl.offline=true");
        assertEquals("PyTorch", j.get("default_engine").getAsString());
        // the bundled CPU libtorch links oneMKL: its dispatcher answers with a code path (0 =
        // generic)
        if (flavour.equals("cpu")) {
            assertTrue(
                    j.get("mkl_code_path").getAsInt() >= 0,
                    "mkl_code_path " + j.get("mkl_code_path"));
        }
        if (gpus == 0) { // on the CPU: whether /proc/cpuinfo lists avx512_bf16 or amx_bf16
            assertEquals(
                    io.github.muon4j.model.Precision.nativeBf16(ai.djl.Device.cpu()),
                    j.get("native_bf16").getAsBoolean());
        }
        for (String line :
                new String[] {
                    "DJL 0.36.0, PyTorch 2.7.1",
                    "native library: ",
                    "GPUs: " + gpus,
                    "threads: intra-op ",
                    "MKL code path: ",
                    "bf16 products: "
                }) {
            assertTrue(o.out().contains(line), line + " in\n" + o.out());
        }

        Cli.Outcome g = Cli.run(dir, "doctor", "--device", "gpu");
        if (gpus == 0) {
            // the default build bundles the CPU library: the hint says how to get a CUDA one
            assertTrue(j.get("hint").getAsString().contains("-Pgpu"), j.get("hint").getAsString());
            assertEquals(1, g.code());
            assertTrue(g.err().contains("--device gpu"), g.err());
        } else {
            assertFalse(j.has("hint"));
            assertEquals(0, g.code(), g.err());
        }
        assertEquals(2, Cli.run(dir, "doctor", "--device", "tpu").code());
    }
}
