package io.github.muon4j.jmh;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.muon4j.Backend;
import io.github.muon4j.model.Autocast;
import io.github.muon4j.model.Precision;
import io.github.muon4j.optim.NewtonSchulz;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Newton-Schulz (5 steps, Keller Jordan's coefficients) at the 6L-512d shapes, with the products in
 * float32 or in bf16 ({@link Autocast}). FLOPs per call: {@link NewtonSchulz#flops}. Its accuracy
 * against an SVD reference is tested in muon4j-core (NewtonSchulzTest).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error"})
public class NewtonSchulzBench {

    /** rows x cols of the matrix: attention (512x512) and FFN (1365x512). */
    @Param({"512x512", "1365x512"})
    public String shape;

    @Param({"fp32", "bf16"})
    public String precision;

    private NDManager manager;
    private NDArray g;
    private Precision p;

    @Setup(Level.Trial)
    public void setUp() {
        Backend.init(0, "cpu");
        String[] rc = shape.split("x");
        manager = Backend.get().newManager();
        g = manager.randomNormal(new Shape(Long.parseLong(rc[0]), Long.parseLong(rc[1])));
        p = Precision.resolve(precision, manager.getDevice());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public float orthogonalize() {
        try (Autocast ac = Autocast.enter(p); NDArray x = NewtonSchulz.orthogonalize(g, 5)) {
            return x.getFloat(0, 0);
        }
    }
}
