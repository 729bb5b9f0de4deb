package io.github.muon4j.cli;

import com.google.gson.JsonObject;
import io.github.muon4j.report.LossPlots;
import io.github.muon4j.train.Run;
import io.github.muon4j.train.StopSignals;
import io.github.muon4j.train.TrainConfig;
import io.github.muon4j.train.TrainLoop;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code muon4j train}: trains a model; with no flags, the tiny preset with Muon on the built-in
 * corpus.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Train a decoder LM (no flags: tiny preset, Muon, built-in corpus, about 5 minutes).",
            "Muon updates the hidden matrices, AdamW the rest; byte tokens for tiny, GPT-2 BPE otherwise.",
            "Writes config.json, metrics.jsonl, checkpoints and loss.png into --out."
        })
public final class TrainCommand implements Callable<Integer> {

    @Mixin TrainOptions options = new TrainOptions();

    @Option(
            names = "--resume",
            paramLabel = "DIR",
            description =
                    "continue the run in DIR (run or checkpoint directory) exactly where it stopped")
    Path resume;

    @Option(names = "--json", description = "print a JSON summary as the last line of stdout")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (StopSignals signals = StopSignals.install(System.err)) {
            return train(signals);
        }
    }

    private int train(StopSignals signals) throws Exception {
        Run run;
        if (resume != null) {
            run =
                    Run.resume(
                            resume,
                            options.tokenizer,
                            options.givenWithResume(),
                            TrainOptions::flagOf,
                            System.err);
            System.err.println("muon4j: resuming " + run.out() + " from step " + run.step());
        } else {
            TrainConfig cfg = options.resolve(TrainConfig.defaults());
            run = Run.start(cfg, System.err);
            System.err.printf(
                    "muon4j: training %s (%s, %s, %.2fM parameters, %.2fM active) with %s on %s for %d steps -> %s%n",
                    cfg.initFrom() != null ? cfg.initFrom() : cfg.preset(),
                    run.modelConfig().attention().name(),
                    run.modelConfig().ffn().name().toLowerCase(java.util.Locale.ROOT),
                    run.modelConfig().totalParams() / 1e6,
                    run.modelConfig().activeParams() / 1e6,
                    cfg.optimizer(),
                    cfg.data() == null ? "the built-in corpus" : cfg.data(),
                    cfg.steps(),
                    run.out());
        }
        try (run) {
            TrainLoop.Result r = new TrainLoop(run, System.err).stopOn(signals).train();
            if (r.stoppedBy() != null) {
                System.err.printf(
                        "muon4j: stopped by SIG%s at step %d; checkpoint %s written; continue with: muon4j train --resume %s%n",
                        r.stoppedBy(),
                        r.steps(),
                        r.out().resolve(String.format("ckpt-%06d", r.steps())),
                        r.out());
                return StopSignals.exitCode(r.stoppedBy());
            }
            LossPlots.write(
                    r.out().resolve("metrics.jsonl"), r.out().resolve("loss.png"), run.title());
            System.out.printf(
                    "val_loss %.4f -> %.4f  (perplexity %.2f -> %.2f)  %d steps, %d tokens, %.1f s%n",
                    r.firstValLoss(),
                    r.finalValLoss(),
                    Math.exp(r.firstValLoss()),
                    r.finalValPpl(),
                    r.steps(),
                    r.tokens(),
                    r.seconds());
            if (!r.samples().isEmpty()) {
                System.out.println("samples:");
                for (String s : r.samples()) {
                    System.out.println("  " + s);
                }
            }
            System.out.println(
                    "run directory: " + r.out() + " (metrics.jsonl, loss.png, checkpoints)");
            if (json) {
                JsonObject o = new JsonObject();
                o.addProperty("out", r.out().toString());
                o.addProperty("steps", r.steps());
                o.addProperty("tokens", r.tokens());
                o.addProperty("first_val_loss", r.firstValLoss());
                o.addProperty("val_loss", r.finalValLoss());
                o.addProperty("val_ppl", r.finalValPpl());
                o.addProperty("seconds", r.seconds());
                System.out.println(o);
            }
        }
        return 0;
    }
}
