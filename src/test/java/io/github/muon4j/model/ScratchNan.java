package io.github.muon4j.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.nn.Parameter;
import ai.djl.training.*;
import io.github.muon4j.Backend;

public class ScratchNan {
    public static void main(String[] a) {
        Backend.get();
        int bad = 0;
        for (int rep = 0; rep < 5; rep++)
        for (Attention at : Attention.values()) for (Ffn f : Ffn.values()) {
            ModelConfig c = Small.config(at, f).withTiedEmbeddings(false);
            try (NDManager m = Backend.get().newManager()) {
                DecoderLM lm = Small.model(c, m, DataType.FLOAT32);
                ParameterStore ps = Small.store(m);
                for (int i = 0; i < 2; i++) {
                    try (NDManager s = m.newSubManager()) {
                        NDArray tok = Small.tokens(s, 2, 8, c.vocabSize(), i);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            DecoderLM.Output out = lm.forward(ps, tok, true);
                            NDArray loss = out.logits().square().mean().add(out.balanceLoss());
                            
                            gc.backward(loss);
                        }
                    }
                    for (var p : lm.getParameters()) {
                        try (NDArray g = p.getValue().getArray().getGradient()) {
                            float[] v = g.toFloatArray();
                            int nan = 0, zero = 0;
                            for (float x : v) { if (Float.isNaN(x)) nan++; if (x == 0) zero++; }
                            if (nan > 0 || zero == v.length) { bad++; System.out.println(at + "/" + f + " step " + i + " " + p.getKey() + " nan=" + nan + " zero=" + zero + "/" + v.length); }
                            g.subi(g);
                        }
                    }
                }
            }
        }
        System.out.println("bad " + bad);
    }
}
