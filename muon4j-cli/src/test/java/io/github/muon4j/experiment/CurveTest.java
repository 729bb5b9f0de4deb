package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CurveTest {

    static Curve synthetic(double... val) {
        int n = val.length;
        double[] steps = new double[n],
                tokens = new double[n],
                flops = new double[n],
                secs = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = 10 * i;
            tokens[i] = 1000 * i;
            flops[i] = 6e6 * i;
            secs[i] = 0.5 * i;
        }
        return new Curve(steps, tokens, flops, secs, val, new double[0], new double[0]);
    }

    @Test
    void interpolatesTheFirstCrossing() {
        Curve c = synthetic(5.0, 4.0, 3.0, 2.0, 2.5, 1.0);
        Curve.Hit h = c.reach(2.5);
        // between step 20 (3.0) and step 30 (2.0): halfway
        assertEquals(25.0, h.steps(), 1e-12);
        assertEquals(2500.0, h.tokens(), 1e-9);
        assertEquals(1.5e7, h.flops(), 1e-3);
        assertEquals(1.25, h.seconds(), 1e-12);
        assertEquals(30.0, c.reach(2.0).steps(), 1e-12, "exactly on an evaluation");
        assertEquals(0.0, c.reach(9.0).steps(), "already below at the start");
    }

    @Test
    void aCurveThatNeverReachesTheTarget() {
        Curve.Hit h = synthetic(5.0, 4.0, 3.5).reach(3.0);
        assertFalse(h.reached());
        assertTrue(
                Double.isNaN(h.steps())
                        && Double.isNaN(h.tokens())
                        && Double.isNaN(h.flops())
                        && Double.isNaN(h.seconds()));
        assertFalse(synthetic().reach(1.0).reached(), "an empty curve never reaches anything");
    }

    @Test
    void readsAMetricsFile(@TempDir Path dir) throws Exception {
        Path m =
                Files.writeString(
                        dir.resolve("metrics.jsonl"),
                        "{\"step\":0,\"tokens\":0,\"val_loss\":5.0}\n"
                                + "{\"step\":1,\"tokens\":64,\"train_loss\":4.5,\"time_s\":0.1}\n"
                                + "{\"step\":2,\"tokens\":128,\"train_loss\":4.0,\"time_s\":0.2,\"val_loss\":3.0}\n");
        Curve c = Curve.read(m, 10.0);
        assertArrayEquals(new double[] {0, 2}, c.steps());
        assertArrayEquals(new double[] {0, 1280}, c.flops());
        assertArrayEquals(new double[] {4.5, 4.0}, c.trainLoss());
        assertEquals(3.0, c.finalValLoss());
        assertEquals(1.0, c.reach(4.0).steps(), 1e-12);
    }
}
