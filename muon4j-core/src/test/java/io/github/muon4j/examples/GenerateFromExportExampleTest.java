package io.github.muon4j.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.infer.Generator;
import io.github.muon4j.infer.SamplingConfig;
import io.github.muon4j.interop.HfExport;
import io.github.muon4j.interop.HfImport;
import io.github.muon4j.interop.Safetensors;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.train.TrainStep;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Example (c): train a small model a few steps with {@link TrainStep}, export it as a Hugging Face
 * directory, load the export back and generate from it: greedy decoding of the export gives exactly
 * the tokens that the in-memory model's own forward pass picks.
 */
class GenerateFromExportExampleTest {

    @Test
    void theExportGeneratesWhatTheTrainedModelGenerates(@TempDir Path dir) throws Exception {
        Tokenizer tokenizer = new ByteTokenizer();
        int[] ids = tokenizer.encode(FineTuneHfLlamaExampleTest.TEXT.repeat(8));
        Path export = dir.resolve("export");
        int[] prompt = tokenizer.encode("The Council");
        int[] expected;

        try (NDManager manager = NDManager.newBaseManager()) {
            ModelConfig config =
                    ModelConfig.fromJson(
                            "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 4, \"context_length\": 64}");
            DecoderLM model = new DecoderLM(config);
            model.initialize(manager, DataType.FLOAT32);
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
                            .optBlock(model)
                            .build();
            TrainStep step = new TrainStep(model, optimizer, manager);
            int[] next = {0};
            for (int i = 0; i < 30; i++) {
                step.run(
                        () -> FineTuneHfLlamaExampleTest.windows(ids, 4, 32, next[0]++),
                        4,
                        32,
                        1,
                        1.0);
            }
            HfExport.write(model, tokenizer, export, Safetensors.DType.F32);
            expected = greedy(model, manager, prompt, 24);
        }

        try (NDManager manager = NDManager.newBaseManager()) {
            HfImport hf = HfImport.open(export);
            DecoderLM model = new DecoderLM(hf.modelConfig(1));
            model.initialize(manager, DataType.FLOAT32);
            hf.loadInto(model);
            int[] generated =
                    new Generator(model, 1).generate(prompt, 24, SamplingConfig.greedy(), null);

            System.out.println(
                    "generated from the export: "
                            + tokenizer.decode(prompt)
                            + tokenizer.decode(generated));
            assertEquals(24, generated.length);
            assertArrayEquals(expected, generated);
        }
    }

    /** Greedy decoding the plain way: the whole sequence through the model for every new token. */
    static int[] greedy(DecoderLM model, NDManager manager, int[] prompt, int n) {
        ParameterStore ps = new ParameterStore(manager, false);
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        for (int i = prompt.length; i < seq.length; i++) {
            try (NDManager scope = manager.newSubManager()) {
                NDArray tokens = scope.create(Arrays.copyOf(seq, i), new Shape(1, i));
                NDArray logits = model.forward(ps, tokens, false).logits(); // (1, i, V)
                seq[i] = (int) logits.get(0, i - 1).argMax().getLong();
            }
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }
}
