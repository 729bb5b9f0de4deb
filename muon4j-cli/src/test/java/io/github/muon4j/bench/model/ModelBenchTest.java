package io.github.muon4j.bench.model;

import static org.junit.jupiter.api.Assertions.*;

import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.Small;
import org.junit.jupiter.api.Test;

class ModelBenchTest {

    static {
        Small.init();
    }

    @Test
    void aTinyRunMeasuresEveryPartAndPrintsTables() {
        ModelBench.Options o = new ModelBench.Options("tiny", 16, 1, 1, 64, new int[] {8, 40}, 3);
        ModelBenchResult r = ModelBench.run(o);
        assertTrue(r.matmulGflops() > 0);
        assertEquals(4, r.train().size());
        for (ModelBenchResult.Train t : r.train()) {
            assertTrue(t.secondsPerStep() > 0 && t.gflops() > 0, t.toString());
            assertEquals(
                    ModelConfig.preset("tiny")
                            .withAttention(t.attention())
                            .withFfn(t.ffn())
                            .totalParams(),
                    t.totalParams());
        }
        assertTrue(r.layer().moeMillis() > 0 && r.layer().denseMillis() > 0);
        assertEquals(8, r.decode().size());
        for (ModelBenchResult.Decode d : r.decode()) {
            assertTrue(d.tokensPerSecond() > 0);
            ModelConfig c = ModelConfig.preset("tiny").withAttention(d.attention());
            assertEquals(4.0 * c.kvCacheValuesPerToken(), d.cacheBytesPerToken(), 0.0);
        }
        String md = ModelBenchReport.markdown(r);
        assertTrue(md.contains("| MLA | MOE |") && md.contains("ratio"), md);
    }
}
