package io.github.muon4j;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

class BackendTest {

    @Test
    void runsInFloat32AndReportsTheEnginesThreads() {
        Backend b = Backend.get();
        assertEquals(DataType.FLOAT32, b.computeType());
        assertTrue(b.threads() > 0);
        // what PyTorch really uses (surefire starts the JVM with -Dai.djl.pytorch.num_threads=1)
        assertEquals(ai.djl.pytorch.jni.JniUtils.getNumThreads(), b.threads());
    }

    @Test
    void refusesBf16ArraysOnEveryDevice() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Backend.checkDataType(DataType.BFLOAT16, Device.cpu()));
        assertTrue(e.getMessage().contains("bfloat16"));
        Backend.checkDataType(DataType.FLOAT32, Device.cpu());
        // the abort is in DJL's type mapping, shared by the CPU and CUDA natives
        assertThrows(
                IllegalArgumentException.class,
                () -> Backend.checkDataType(DataType.BFLOAT16, Device.gpu()));
    }

    @Test
    void measuresAPositiveMatmulRate() {
        double g = Backend.get().matmulGflops(256, 5);
        assertTrue(g > 0.1 && Double.isFinite(g), "GFLOP/s " + g);
    }
}
