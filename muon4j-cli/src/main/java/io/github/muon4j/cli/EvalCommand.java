package io.github.muon4j.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.train.Evaluator;
import io.github.muon4j.train.TrainConfig;
import io.github.muon4j.train.TrainedModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j eval}: validation loss and perplexity of a checkpoint. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Validation loss and perplexity of a checkpoint.")
public final class EvalCommand implements Callable<Integer> {

    @Option(
            names = "--checkpoint",
            required = true,
            paramLabel = "DIR",
            description = "checkpoint or run directory")
    Path checkpoint;

    @Option(
            names = "--data",
            paramLabel = "PATH",
            description = "evaluate on this text instead of the run's validation data")
    String data;

    @Option(
            names = "--batches",
            description = "batches to evaluate (default: the run's eval_batches)")
    Integer batches;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        // a SIGTERM/SIGINT ends the command at once (exit 143/130) without a JVM crash in native
        // code
        try (io.github.muon4j.train.StopSignals signals =
                io.github.muon4j.train.StopSignals.install(System.err)) {
            return body();
        }
    }

    private Integer body() {
        Backend backend = Backend.get();
        try (NDManager manager = backend.newManager()) {
            TrainedModel tm = TrainedModel.load(checkpoint, manager);
            TrainConfig tc = tm.train();
            TokenDataset val;
            if (data != null) {
                // all of the given file is evaluation data: take its held-out part and its training
                // part alike
                val =
                        DataSets.open(
                                        data,
                                        data,
                                        tc.valFraction(),
                                        tm.tokenizer(),
                                        DataSets.defaultCacheDir(),
                                        System.err::println)
                                .val();
            } else {
                val =
                        DataSets.open(
                                        tc.data(),
                                        tc.valData(),
                                        tc.valFraction(),
                                        tm.tokenizer(),
                                        DataSets.defaultCacheDir(),
                                        System.err::println)
                                .val();
            }
            int n = batches != null ? batches : tc.evalBatches();
            if (n < 1) {
                throw new IllegalArgumentException("--batches must be at least 1");
            }
            double loss =
                    Evaluator.loss(
                            tm.model(),
                            val,
                            tc.batchSize(),
                            tc.seqLen(),
                            Evaluator.windowCount(n, tc.batchSize()),
                            manager);
            System.out.printf(
                    "checkpoint %s (step %d): val_loss %.4f  val_ppl %.2f  (%d batches of %dx%d tokens)%n",
                    tm.checkpoint().dir(),
                    tm.checkpoint().step(),
                    loss,
                    Math.exp(loss),
                    n,
                    tc.batchSize(),
                    tc.seqLen());
            if (json) {
                JsonObject o = new JsonObject();
                o.addProperty("checkpoint", tm.checkpoint().dir().toString());
                o.addProperty("step", tm.checkpoint().step());
                o.addProperty("val_loss", loss);
                o.addProperty("val_ppl", Math.exp(loss));
                o.addProperty("tokens", (long) n * tc.batchSize() * tc.seqLen());
                System.out.println(o);
            }
        }
        return 0;
    }
}
