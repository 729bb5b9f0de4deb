package io.github.muon4j.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.training.*;
import io.github.muon4j.Backend;

public class ScratchTiming {
    public static void main(String[] a) {
        Backend.get();
        for (Attention at : Attention.values()) for (Ffn f : Ffn.values()) {
            ModelConfig c = Small.config(at, f);
            try (NDManager m = Backend.get().newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                ParameterStore ps = Small.store(m);
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    try (NDManager s = m.newSubManager()) {
                        NDArray tok = Small.tokens(s, 2, 8, c.vocabSize(), i);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            DecoderLM.Output out = lm.forward(ps, tok, true);
                            NDArray loss = out.logits().square().mean().add(out.balanceLoss());
                            loss.getFloat();
                            System.out.println("  fwd " + (System.nanoTime() - t0) / 1e6);
                            gc.backward(loss);
                        }
                    }
                    System.out.println(at + "/" + f + " step " + i + " " + (System.nanoTime() - t0) / 1e6 + " ms");
                }
            }
        }
    }
}
