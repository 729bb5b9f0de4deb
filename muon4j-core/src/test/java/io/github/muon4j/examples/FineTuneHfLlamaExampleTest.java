package io.github.muon4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.interop.HfExport;
import io.github.muon4j.interop.HfImport;
import io.github.muon4j.interop.Safetensors;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.train.LmLoss;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Example (b): fine-tune a Hugging Face {@code LlamaForCausalLM} directory with {@link
 * MuonWithAdamW} in a hand-written loop: forward, backward, one optimizer step over every
 * parameter.
 */
class FineTuneHfLlamaExampleTest {

    static final String TEXT =
            "The Commission shall adopt the proposal. The Council shall vote on the proposal. ";

    @Test
    void fineTuningAnImportedLlamaLowersItsLoss(@TempDir Path dir) throws Exception {
        Path llamaDir = dir.resolve("tiny-llama");
        writeTinyLlama(llamaDir);

        try (NDManager manager = NDManager.newBaseManager()) {
            HfImport llama =
                    HfImport.open(llamaDir); // config.json, model.safetensors, tokenizer.json
            Tokenizer tokenizer = llama.tokenizer();
            DecoderLM model = new DecoderLM(llama.modelConfig(1));
            model.initialize(manager, DataType.FLOAT32);
            llama.loadInto(model);

            MuonWithAdamW optimizer =
                    MuonWithAdamW.builder()
                            .optMuon(
                                    Muon.builder()
                                            .optLearningRateTracker(Tracker.fixed(0.02f))
                                            .build())
                            .optAdamW(
                                    DecoupledAdamW.builder()
                                            .optLearningRateTracker(Tracker.fixed(3e-3f))
                                            .build())
                            .optBlock(
                                    model) // the model's roles: embedding and head are 2-D, yet go
                            // to AdamW
                            .build();

            int[] ids = tokenizer.encode(TEXT.repeat(8));
            int b = 4, t = 32;
            ParameterStore ps = new ParameterStore(manager, false);
            double first = Double.NaN, last = Double.NaN;
            for (int step = 0; step < 40; step++) {
                try (NDManager scope = manager.newSubManager()) { // this step's arrays die with it
                    NDArray batch = scope.create(windows(ids, b, t, step), new Shape(b, t + 1));
                    NDArray x = batch.get(":, :-1"),
                            y = batch.get(":, 1:"); // (B, T) inputs, next tokens
                    try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                        DecoderLM.Output out = model.forward(ps, x, true);
                        NDArray loss = LmLoss.crossEntropy(out.logits(), y).add(out.balanceLoss());
                        gc.backward(loss);
                        last = loss.getFloat();
                        first = step == 0 ? last : first;
                    }
                    Map<String, NDArray[]> weightsAndGrads = new LinkedHashMap<>();
                    for (Pair<String, Parameter> p : model.getParameters()) {
                        NDArray w = p.getValue().getArray(), g = w.getGradient();
                        g.attach(scope);
                        weightsAndGrads.put(p.getKey(), new NDArray[] {w, g});
                    }
                    optimizer.step(
                            weightsAndGrads); // Muon for hidden matrices, AdamW for the rest;
                    // gradients zeroed
                }
            }
            System.out.printf(
                    "fine-tuning an imported Llama with MuonWithAdamW: loss %.4f -> %.4f%n",
                    first, last);
            assertTrue(last < first / 2, "loss " + first + " -> " + last);
        }
    }

    /** b windows of t + 1 tokens, starting where step's batch begins (wrapping around). */
    static int[] windows(int[] ids, int b, int t, int step) {
        int[] out = new int[b * (t + 1)];
        for (int r = 0; r < b; r++) {
            int start = ((step * b + r) * 7) % (ids.length - t - 1);
            System.arraycopy(ids, start, out, r * (t + 1), t + 1);
        }
        return out;
    }

    /**
     * A 2-layer, 64-wide LlamaForCausalLM with byte tokens, written by muon4j's exporter: any such
     * directory works.
     */
    static void writeTinyLlama(Path dir) throws Exception {
        ModelConfig c =
                ModelConfig.fromJson(
                        "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 4, \"context_length\": 64, \"seed\": 3}");
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderLM lm = new DecoderLM(c);
            lm.initialize(m, DataType.FLOAT32);
            HfExport.write(lm, new ByteTokenizer(), dir, Safetensors.DType.F32);
        }
    }
}
