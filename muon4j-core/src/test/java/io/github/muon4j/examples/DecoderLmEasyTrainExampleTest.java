package io.github.muon4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.github.muon4j.data.ByteTokenizer;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.data.TokenWindowDataset;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.train.LmLoss;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Example: a muon4j {@link DecoderLM} trained by DJL's own {@code EasyTrain.fit} on a muon4j
 * corpus, through {@link TokenWindowDataset} and {@link LmLoss} (here with DJL's Adam: any DJL
 * optimizer).
 */
class DecoderLmEasyTrainExampleTest {

    @Test
    void easyTrainFitTrainsADecoderLmOnTokenWindows(@TempDir Path dir) throws Exception {
        Path corpus =
                Files.writeString(
                        dir.resolve("corpus.txt"), FineTuneHfLlamaExampleTest.TEXT.repeat(40));
        TokenDataset tokens =
                DataSets.tokens(
                        corpus.toString(), new ByteTokenizer(), dir.resolve("cache"), null, "text");
        TokenWindowDataset train =
                TokenWindowDataset.builder()
                        .setTokens(
                                tokens,
                                32) // windows of T = 32 input tokens and their 32 next tokens
                        .setSampling(8, true) //  batches of 8 windows, shuffled
                        .build();

        ModelConfig config =
                ModelConfig.fromJson(
                        "{\"n_layers\": 2, \"d_model\": 64, \"n_heads\": 4, \"context_length\": 64}");
        try (Model model = Model.newInstance("lm")) {
            model.setBlock(new DecoderLM(config));
            DefaultTrainingConfig training =
                    new DefaultTrainingConfig(new LmLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(3e-3f))
                                            .build())
                            .addTrainingListeners(
                                    TrainingListener.Defaults
                                            .basic()); // epoch losses in getTrainingResult()
            try (Trainer trainer = model.newTrainer(training)) {
                trainer.setMetrics(new Metrics());
                trainer.initialize(new Shape(8, 32));
                EasyTrain.fit(trainer, 1, train, null); // one epoch
                float first = trainer.getTrainingResult().getTrainLoss();
                EasyTrain.fit(trainer, 3, train, null);
                TrainingResult result = trainer.getTrainingResult();
                System.out.printf(
                        "DecoderLM through EasyTrain.fit: %d windows, loss after epoch 1 %.4f, after epoch 4 %.4f%n",
                        train.size(), first, result.getTrainLoss());
                assertTrue(
                        first < Math.log(config.vocabSize()),
                        "epoch 1 already below a uniform guess: " + first);
                assertTrue(
                        result.getTrainLoss() < first / 2,
                        "loss " + first + " -> " + result.getTrainLoss());
            }
        }
    }
}
