package io.github.muon4j.bench.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.muon4j.optim.NewtonSchulz;
import org.junit.jupiter.api.Test;

/** The optimizer benchmark runs end to end on a tiny model and reports sane figures. */
class OptimizerBenchSmokeTest {

    @Test
    void runsOnATinyModel() {
        OptimizerBenchResult r = OptimizerBench.run(1, 32, 48, 1);
        assertEquals(7, r.parameters());
        // 4 square 32x32, 2 tall 48x32 and 1 wide 32x48 matrices, 5 iterations each
        double flops = 4 * NewtonSchulz.flops(32, 32, 5) + 3 * NewtonSchulz.flops(48, 32, 5);
        assertEquals(flops, r.nsFlops(), 1e-6 * flops);
        for (double v :
                new double[] {
                    r.matmulGflops(),
                    r.steadyMatmulGflops(),
                    r.nsBatchedMs(),
                    r.nsOneByOneMs(),
                    r.muonStepMs(),
                    r.muonStackedMs(),
                    r.muonOneByOneMs(),
                    r.adamWStepMs(),
                    r.djlAdamWStepMs()
                }) {
            assertTrue(v > 0 && Double.isFinite(v), r.toString());
        }
        String md = OptimizerBenchReport.markdown(r);
        assertTrue(md.contains("| Newton-Schulz rate, batched |"), md);
    }
}
