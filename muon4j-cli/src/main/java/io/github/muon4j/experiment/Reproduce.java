package io.github.muon4j.experiment;

import io.github.muon4j.bench.inference.InferenceBench;
import io.github.muon4j.bench.inference.InferenceBenchResult;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's combined claim on one budget: MHA/MLA x dense/MoE x Muon/AdamW, the same steps and
 * tokens for all eight, then KV-cache memory, decode speed and perplexity of each against the MHA
 * dense AdamW baseline.
 */
public final class Reproduce {

    /** One architecture x optimizer. */
    public record Cell(
            String arch,
            String optimizer,
            double lr,
            RunSummary run,
            InferenceBenchResult.Variant inference) {}

    /** All cells, and the step count the budget gave. */
    public record Result(int steps, List<Cell> cells, int decodeContext) {}

    private Reproduce() {}

    /**
     * Steps that fit the budget: tokens / (B x T), or per-run minutes / the slowest variant's step
     * time.
     */
    public static int steps(TrainConfig base, Budget budget, PrintStream log) {
        long perStep = (long) base.batchSize() * base.seqLen() * base.gradAccum();
        if (!budget.isTime()) {
            return (int) Math.max(1, budget.tokens() / perStep);
        }
        ModelConfig mc =
                io.github.muon4j.train.ModelChoice.of(
                        base, Tokenizers.byName(base.tokenizerOrDefault()));
        double slowest = 0;
        for (ModelConfig v : InferenceBench.variants(mc).values()) {
            double s = StepTime.seconds(v, true, base.batchSize(), base.seqLen(), 3, 1);
            slowest = Math.max(slowest, s * base.gradAccum());
        }
        // 8 runs, plus evaluation and the inference bench: keep 15% of the budget for those
        double perRun = budget.minutes() * 60 * 0.85 / 8;
        int steps = (int) Math.max(1, perRun / slowest);
        log.printf(
                "reproduce: the slowest variant takes %.2f s/step; %d steps per run fit %.1f minutes%n",
                slowest, steps, budget.minutes());
        return steps;
    }

    public static Result run(
            TrainConfig base,
            Budget budget,
            double muonLr,
            double adamwLr,
            Path out,
            PrintStream log)
            throws IOException {
        int steps = steps(base, budget, log);
        TrainConfig b =
                base.overlay(
                        String.format(
                                "{\"steps\": %d, \"warmup\": %d, \"eval_every\": %d}",
                                steps, Math.max(1, steps / 10), Math.max(1, steps / 10)),
                        "reproduce");
        ModelConfig mc =
                io.github.muon4j.train.ModelChoice.of(b, Tokenizers.byName(b.tokenizerOrDefault()));
        int ctx = Math.max(1, Math.min(mc.contextLength() - 32, mc.contextLength() / 2));
        Map<String, String[]> archs = new LinkedHashMap<>();
        archs.put("mha-dense", new String[] {"mha", "dense"});
        archs.put("mla-dense", new String[] {"mla", "dense"});
        archs.put("mha-moe", new String[] {"mha", "moe"});
        archs.put("mla-moe", new String[] {"mla", "moe"});
        Map<String, ModelConfig> variants = InferenceBench.variants(mc);
        RunCache cache = new RunCache(out.resolve("summaries"), out.resolve("runs"), true, log);
        List<Cell> cells = new ArrayList<>();
        for (Map.Entry<String, String[]> a : archs.entrySet()) {
            TrainConfig ta =
                    b.overlay(
                            "{\"attention\": \""
                                    + a.getValue()[0]
                                    + "\", \"ffn\": \""
                                    + a.getValue()[1]
                                    + "\"}",
                            "reproduce");
            log.println("reproduce: " + a.getKey() + " inference ...");
            InferenceBenchResult.Variant inf =
                    InferenceBench.run(
                            a.getKey(), variants.get(a.getKey()), new int[] {ctx}, 32, 2);
            for (String opt : new String[] {"adamw", "muon"}) {
                double lr = opt.equals("muon") ? muonLr : adamwLr;
                RunSummary r =
                        cache.get(a.getKey() + "-" + opt, Compare.arm(ta, opt, lr, ta.seed()));
                cells.add(new Cell(a.getKey(), opt, lr, r, inf));
            }
        }
        return new Result(steps, cells, ctx);
    }
}
