package io.github.muon4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop. Per optimizer step: {@code grad_accum} micro-batches, each forward and backward
 * in its own {@link NDManager} scope; global-norm clipping; one optimizer update of every parameter
 * (Muon for hidden matrices, AdamW for the rest); MoE bias nudge; logging, evaluation and
 * checkpoints on their schedules. A non-finite loss skips the step; {@code max_bad_steps} in a row
 * stop the run with the last good checkpoint intact.
 */
public final class Trainer {

    /** What a finished run reports. */
    public record Result(
            Path out, int steps, long tokens, double firstValLoss, double finalValLoss, double seconds, List<String> samples) {
        public double finalValPpl() {
            return Math.exp(finalValLoss);
        }
    }

    /** Thrown when too many steps in a row had a non-finite loss. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(String message) {
            super(message);
        }
    }

    private final Run run;
    private final PrintStream log;
    private int stopAfter = Integer.MAX_VALUE;

    public Trainer(Run run, PrintStream log) {
        this.run = run;
        this.log = log;
    }

    /** Test hook: stop (as if killed) right after step {@code step}, without the end-of-run work. */
    public Trainer stopAfter(int step) {
        this.stopAfter = step;
        return this;
    }

    public Result train() throws IOException {
        TrainConfig cfg = run.config();
        ModelConfig mc = run.modelConfig();
        DecoderLM model = run.model();
        MuonWithAdamW opt = run.optimizer();
        BatchLoader loader = run.trainLoader();
        NDManager manager = run.manager();
        ParameterStore ps = new ParameterStore(manager, false);
        List<Pair<String, Parameter>> params = model.getParameters().toList();
        int b = cfg.batchSize(), t = cfg.seqLen();
        long tokensPerStep = (long) b * t * cfg.gradAccum();

        Progress progress = new Progress(log, run.step(), cfg.steps());
        double firstVal = run.firstValLoss();
        if (Double.isNaN(firstVal)) {
            firstVal = run.evaluate(cfg.evalBatches());
            run.setFirstValLoss(firstVal);
            JsonObject rec = new JsonObject();
            rec.addProperty("step", 0);
            rec.addProperty("tokens", 0);
            rec.addProperty("val_loss", firstVal);
            rec.addProperty("val_ppl", Math.exp(firstVal));
            run.metrics().log(rec);
            progress.line(String.format("step 0: val_loss %.4f  val_ppl %.2f", firstVal, Math.exp(firstVal)));
        }
        double lastVal = firstVal;
        int badStreak = run.badStreak();
        long t0 = System.nanoTime();
        double trainSeconds = run.elapsedSeconds();
        Engine engine = manager.getEngine();

        for (int step = run.step() + 1; step <= cfg.steps(); step++) {
            long s0 = System.nanoTime();
            double lossSum = 0, balanceSum = 0;
            float[][] loads = null;
            try (NDManager sm = manager.newSubManager()) {
                DecoderLM.Output last = null;
                for (int micro = 0; micro < cfg.gradAccum(); micro++) {
                    int[] batch = loader.next(); //                     B*(T+1) tokens
                    NDArray all = sm.create(batch, new Shape(b, t + 1));
                    NDArray x = all.get(":, :-1"); //                    (B, T)
                    NDArray y = all.get(":, 1:"); //                     (B, T)
                    try (GradientCollector gc = engine.newGradientCollector()) {
                        DecoderLM.Output out = model.forward(ps, x, true);
                        NDArray ce = LmLoss.crossEntropy(out.logits(), y);
                        NDArray total = ce.add(out.balanceLoss());
                        gc.backward(total.div(cfg.gradAccum()));
                        lossSum += ce.getFloat();
                        balanceSum += out.balanceLoss().getFloat();
                        last = out;
                    }
                }
                double loss = lossSum / cfg.gradAccum();
                Map<String, NDArray[]> wg = new LinkedHashMap<>();
                for (Pair<String, Parameter> p : params) {
                    NDArray w = p.getValue().getArray();
                    NDArray g = w.getGradient();
                    g.attach(sm);
                    wg.put(p.getKey(), new NDArray[] {w, g});
                }
                boolean finite = Double.isFinite(loss);
                double gradNorm = Double.NaN;
                if (finite) {
                    gradNorm = globalNorm(wg);
                    finite = Double.isFinite(gradNorm);
                }
                if (!finite) {
                    zeroGradients(wg);
                    badStreak++;
                    JsonObject rec = new JsonObject();
                    rec.addProperty("step", step);
                    rec.addProperty("skipped", true);
                    rec.addProperty("reason", "non-finite loss or gradient");
                    run.metrics().log(rec);
                    progress.line("step " + step + ": non-finite loss, step skipped (" + badStreak + " in a row)");
                    if (badStreak >= cfg.maxBadSteps()) {
                        throw new DivergedException(
                                badStreak + " steps in a row had a non-finite loss; stopped. The last good checkpoint in "
                                        + run.out() + " is intact (lower --lr, or raise --clip)");
                    }
                    run.advance(step, 0, badStreak);
                    continue;
                }
                badStreak = 0;
                if (cfg.clip() > 0 && gradNorm > cfg.clip()) {
                    float scale = (float) (cfg.clip() / (gradNorm + 1e-6));
                    for (NDArray[] pair : wg.values()) {
                        pair[1].muli(scale);
                    }
                }
                boolean diag = cfg.diagEvery() > 0 && step % cfg.diagEvery() == 0;
                opt.setDiagnostics(diag);
                opt.step(wg);
                zeroGradients(wg);
                if (last != null) {
                    model.updateBalanceBias(last);
                    loads = last.expertLoad() == null || last.expertLoad().isEmpty() ? null : last.expertLoad().toArray(new float[0][]);
                }
                double sec = (System.nanoTime() - s0) / 1e9;
                trainSeconds += sec;
                run.advance(step, tokensPerStep, 0);
                double tps = tokensPerStep / sec;

                if (step % cfg.logEvery() == 0 || step == cfg.steps()) {
                    JsonObject rec = new JsonObject();
                    rec.addProperty("step", step);
                    rec.addProperty("tokens", run.tokens());
                    rec.addProperty("train_loss", loss);
                    rec.addProperty("lr", opt.lastLearningRate(true));
                    rec.addProperty("adamw_lr", opt.lastLearningRate(false));
                    rec.addProperty("tokens_per_s", tps);
                    rec.addProperty("grad_norm", gradNorm);
                    rec.addProperty("time_s", trainSeconds);
                    if (loads != null) {
                        rec.addProperty("balance_loss", balanceSum / cfg.gradAccum());
                        rec.add("expert_load", ExpertLoad.toJson(loads));
                        rec.addProperty("expert_load_max_over_mean", ExpertLoad.maxOverMean(loads));
                    }
                    if (diag) {
                        rec.add("diagnostics", opt.diagnostics());
                    }
                    boolean eval = (cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0) || step == cfg.steps();
                    if (eval) {
                        lastVal = run.evaluate(cfg.evalBatches());
                        rec.addProperty("val_loss", lastVal);
                        rec.addProperty("val_ppl", Math.exp(lastVal));
                        progress.line(String.format("step %d: val_loss %.4f  val_ppl %.2f", step, lastVal, Math.exp(lastVal)));
                    }
                    run.metrics().log(rec);
                }
                progress.step(step, loss, tps);
            }
            run.setElapsedSeconds(trainSeconds);
            if ((cfg.saveEvery() > 0 && step % cfg.saveEvery() == 0) || step == cfg.steps()) {
                run.saveCheckpoint();
            }
            if (step >= stopAfter) {
                return new Result(run.out(), step, run.tokens(), firstVal, lastVal, trainSeconds, List.of());
            }
        }
        LossPlots.write(run.metrics().file(), run.out().resolve("loss.png"), run.title());
        List<String> samples = new ArrayList<>();
        for (int i = 0; i < cfg.samples(); i++) {
            samples.add(run.sample(i));
        }
        return new Result(run.out(), cfg.steps(), run.tokens(), firstVal, lastVal, trainSeconds, samples);
    }

    /** sqrt(sum over parameters of ||g||^2), one sync for all. */
    static double globalNorm(Map<String, NDArray[]> wg) {
        NDList squares = new NDList();
        for (NDArray[] pair : wg.values()) {
            squares.add(pair[1].square().sum());
        }
        return Math.sqrt(NDArrays.stack(squares).sum().getFloat());
    }

    static void zeroGradients(Map<String, NDArray[]> wg) {
        for (NDArray[] pair : wg.values()) {
            pair[1].set(new ai.djl.ndarray.index.NDIndex(), 0f);
        }
    }

    private static final class NDArrays {
        static NDArray stack(NDList l) {
            return ai.djl.ndarray.NDArrays.stack(l);
        }
    }
}
