package io.github.muon4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop. Per optimizer step: {@code grad_accum} micro-batches, each forward and
 * backward in its own {@link NDManager} scope; global-norm clipping; one optimizer update of every
 * parameter (Muon for hidden matrices, AdamW for the rest); MoE bias nudge; logging, evaluation and
 * checkpoints on their schedules. A non-finite loss skips the step; {@code max_bad_steps} in a row
 * stop the run with the last good checkpoint intact.
 */
public final class TrainLoop {

    /**
     * What a finished run reports. {@code stoppedBy}: "TERM" or "INT" when a signal stopped it
     * early (a checkpoint of step {@code steps} was written), else null.
     */
    public record Result(
            Path out,
            int steps,
            long tokens,
            double firstValLoss,
            double finalValLoss,
            double seconds,
            List<String> samples,
            String stoppedBy) {
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
    private StopSignals signals;
    private java.util.function.IntPredicate poisoned = s -> false;

    /**
     * A training loop that stops cleanly on the process's {@link StopSignals}, if a command
     * installed them.
     */
    public TrainLoop(Run run, PrintStream log) {
        this.run = run;
        this.log = log;
        this.signals = StopSignals.active();
    }

    /**
     * Test hook: stop (as if killed) right after step {@code step}, without the end-of-run work.
     */
    TrainLoop stopAfter(int step) {
        this.stopAfter = step;
        return this;
    }

    /**
     * Test hook: these steps behave as if their loss were non-finite (their batches are drawn and
     * dropped, nothing is updated), as a real divergence would.
     */
    TrainLoop poisonSteps(java.util.function.IntPredicate steps) {
        this.poisoned = steps;
        return this;
    }

    /** Stops cleanly (checkpoint, then return) when {@code signals} reports a SIGTERM or SIGINT. */
    public TrainLoop stopOn(StopSignals signals) {
        this.signals = signals;
        return this;
    }

    public Result train() throws IOException {
        try {
            return loop();
        } catch (java.io.UncheckedIOException e) {
            // metrics.jsonl could not be written (a full disk, most often)
            String why =
                    e.getCause().getMessage() != null ? e.getCause().getMessage() : "write failed";
            throw new IOException(
                    "writing "
                            + run.out()
                            + " failed ("
                            + why
                            + "); "
                            + Checkpoint.newestIntactNote(run.out()),
                    e);
        } finally {
            if (signals != null) {
                signals.disarm();
            }
        }
    }

    private Result loop() throws IOException {
        TrainConfig cfg = run.config();
        ModelConfig mc = run.modelConfig();
        DecoderLM model = run.model();
        MuonWithAdamW opt = run.optimizer();
        BatchLoader loader = run.trainLoader();
        NDManager manager = run.manager();
        ParameterStore ps = new ParameterStore(manager, false);
        int b = cfg.batchSize(), t = cfg.seqLen();
        long tokensPerStep = (long) b * t * cfg.gradAccum();

        Progress progress = new Progress(log, run.step(), cfg.steps());
        if (signals != null) {
            signals.arm(run.step() + 1);
        }
        double firstVal = run.state().firstValLoss();
        if (Double.isNaN(firstVal)) {
            firstVal = run.evaluate(cfg.evalBatches());
            run.setState(run.state().withFirstValLoss(firstVal));
            JsonObject rec = new JsonObject();
            rec.addProperty("step", 0);
            rec.addProperty("tokens", 0);
            rec.addProperty("val_loss", firstVal);
            rec.addProperty("val_ppl", Math.exp(firstVal));
            run.metrics().log(rec);
            progress.line(
                    String.format(
                            "step 0: val_loss %.4f  val_ppl %.2f", firstVal, Math.exp(firstVal)));
        }
        double lastVal = firstVal;
        int badStreak = run.state().badStreak();
        double trainSeconds = run.state().elapsedSeconds();
        Engine engine = manager.getEngine();

        TrainStep trainStep = new TrainStep(model, opt, run.manager());
        trainStep.setPrecision(cfg.precision().resolve(manager.getDevice()));
        for (int step = run.step() + 1; step <= cfg.steps(); step++) {
            if (signals != null) {
                signals.arm(step);
                if (signals.requested()) {
                    // the signal came before the first step (during the step-0 evaluation): save as
                    // is
                    return stopped(firstVal, lastVal, trainSeconds);
                }
            }
            run.beginStep(step);
            long s0 = System.nanoTime();
            boolean diag = cfg.diagEvery() > 0 && step % cfg.diagEvery() == 0;
            if (diag) {
                opt.diagnoseNextStep(run.diagnosedParameter());
            }
            TrainStep.Outcome o;
            if (poisoned.test(step)) {
                for (int i = 0; i < cfg.gradAccum(); i++) {
                    loader.next();
                }
                o = new TrainStep.Outcome(Double.NaN, Double.NaN, Double.NaN, false, null, 0);
            } else {
                o = trainStep.run(loader::next, b, t, cfg.gradAccum(), cfg.clip());
            }
            if (!o.finite()) {
                badStreak++;
                JsonObject rec = new JsonObject();
                rec.addProperty("step", step);
                rec.addProperty("skipped", true);
                rec.addProperty("reason", "non-finite loss or gradient");
                run.metrics().log(rec);
                progress.line(
                        "step "
                                + step
                                + ": non-finite loss, step skipped ("
                                + badStreak
                                + " in a row)");
                if (badStreak >= cfg.maxBadSteps()) {
                    throw new DivergedException(
                            String.format(
                                    "%d steps in a row (%d to %d) had a non-finite loss; stopped at step %d. %s; hint: lower --lr"
                                            + " (it was %s) and train again from scratch, or raise --clip",
                                    badStreak,
                                    step - badStreak + 1,
                                    step,
                                    step,
                                    lastGood(),
                                    cfg.lr()));
                }
                run.setState(run.state().advance(step, 0, badStreak, trainSeconds));
                if (signals != null && signals.requested()) {
                    return stopped(firstVal, lastVal, trainSeconds);
                }
                continue;
            }
            badStreak = 0;
            double sec = (System.nanoTime() - s0) / 1e9;
            trainSeconds += sec;
            run.setState(run.state().advance(step, tokensPerStep, 0, trainSeconds));
            double tps = tokensPerStep / sec;
            boolean eval =
                    (cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0) || step == cfg.steps();
            if (step % cfg.logEvery() == 0 || step == cfg.steps() || eval) {
                JsonObject rec = new JsonObject();
                rec.addProperty("step", step);
                rec.addProperty("tokens", run.state().tokens());
                rec.addProperty("train_loss", o.loss());
                rec.addProperty("lr", run.matrixApplied().last());
                rec.addProperty("adamw_lr", run.otherApplied().last());
                rec.addProperty("tokens_per_s", tps);
                rec.addProperty("grad_norm", o.gradNorm());
                rec.addProperty("optimizer_s", o.optimizerSeconds());
                rec.addProperty("time_s", trainSeconds);
                if (o.expertLoad() != null && !o.expertLoad().isEmpty()) {
                    float[][] loads = o.expertLoad().toArray(new float[0][]);
                    rec.addProperty("balance_loss", o.balanceLoss());
                    rec.add("expert_load", ExpertLoad.toJson(loads));
                    rec.addProperty("expert_load_max_over_mean", ExpertLoad.maxOverMean(loads));
                }
                if (diag) {
                    rec.add("diagnostics", Diagnostics.toJson(opt.lastDiagnostics()));
                }
                if (eval) {
                    lastVal = run.evaluate(cfg.evalBatches());
                    rec.addProperty("val_loss", lastVal);
                    rec.addProperty("val_ppl", Math.exp(lastVal));
                    progress.line(
                            String.format(
                                    "step %d: val_loss %.4f  val_ppl %.2f",
                                    step, lastVal, Math.exp(lastVal)));
                }
                run.metrics().log(rec);
            }
            progress.step(step, o.loss(), tps);
            boolean saved = false;
            if ((cfg.saveEvery() > 0 && step % cfg.saveEvery() == 0) || step == cfg.steps()) {
                run.saveCheckpoint();
                saved = true;
            }
            if (signals != null && signals.requested()) {
                return saved
                        ? result(firstVal, lastVal, trainSeconds, signals.signal())
                        : stopped(firstVal, lastVal, trainSeconds);
            }
            if (step >= stopAfter) {
                return result(firstVal, lastVal, trainSeconds, null);
            }
        }
        if (signals != null) {
            signals.disarm();
        }
        List<String> samples = new ArrayList<>();
        for (int i = 0; i < cfg.samples(); i++) {
            samples.add(run.sample(i));
        }
        return new Result(
                run.out(),
                cfg.steps(),
                run.state().tokens(),
                firstVal,
                lastVal,
                trainSeconds,
                samples,
                null);
    }

    private Result result(double firstVal, double lastVal, double seconds, String stoppedBy) {
        return new Result(
                run.out(),
                run.step(),
                run.state().tokens(),
                firstVal,
                lastVal,
                seconds,
                List.of(),
                stoppedBy);
    }

    /** A signal asked to stop: checkpoint the step reached (metrics are flushed line by line). */
    private Result stopped(double firstVal, double lastVal, double seconds) throws IOException {
        run.saveCheckpoint();
        return result(firstVal, lastVal, seconds, signals.signal());
    }

    /** "the last good checkpoint is DIR (step N)", or that none was written. */
    private String lastGood() {
        try {
            Checkpoint c = Checkpoint.openNewestIntact(run.out(), w -> {});
            return "The last good checkpoint is " + c.dir() + " (step " + c.step() + ")";
        } catch (RuntimeException none) {
            return "No checkpoint was written before it (" + run.out() + " has none)";
        }
    }
}
