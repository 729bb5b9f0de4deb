package io.github.muon4j.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Flags given together with {@code --resume}: each one is applied to the saved run or refused with
 * one line naming it, never dropped.
 *
 * <p>Applied: {@code --steps} (extends or shortens the run; see below) and the flags that change
 * only what is observed or where the work runs: {@code --eval-every}, {@code --eval-batches},
 * {@code --save-every}, {@code --keep}, {@code --log-every}, {@code --diag-every}, {@code
 * --samples}, {@code --threads}, {@code --device}. {@code --tokenizer} must name the run's own
 * tokenizer. Every other flag (model, data, optimizer, rates, batch, seed...) would make the
 * continuation a different run and is refused.
 *
 * <p>{@code --steps N} and the learning-rate schedule: {@code constant} continues unchanged. {@code
 * wsd} moves its decay to the last 20% of the new length: a run still in its stable phase continues
 * smoothly; a run that had started decaying returns to the stable rate and decays again (one
 * warning line says so). {@code cosine} is refused: its rate already follows a curve that ends at
 * the old length, and re-planning it would raise the rate in mid-decay.
 */
final class ResumeFlags {

    private ResumeFlags() {}

    /** snake_case settings a resume may change (besides steps). */
    static final Set<String> OBSERVATION =
            Set.of(
                    "eval_every",
                    "eval_batches",
                    "save_every",
                    "keep_checkpoints",
                    "log_every",
                    "diag_every",
                    "samples",
                    "threads",
                    "device");

    /**
     * The saved configuration with the flags {@code given} applied. {@code given} holds the flags
     * as snake_case settings ({@code "steps": 50}); {@code flag} spells a setting as its flag.
     */
    static TrainConfig apply(
            TrainConfig saved,
            int step,
            JsonObject given,
            java.util.function.Function<String, String> flag,
            Consumer<String> warn) {
        JsonObject changes = new JsonObject();
        for (var e : given.entrySet()) {
            String k = e.getKey();
            JsonElement v = e.getValue();
            if (k.equals("tokenizer")) {
                continue; // checked against the run's tokenizer by Run.resume
            }
            if (k.equals("steps")) {
                int n = v.getAsInt();
                if (n != saved.steps()) {
                    stepsChange(saved, step, n, flag.apply(k), warn);
                }
                changes.add(k, v);
            } else if (OBSERVATION.contains(k)) {
                changes.add(k, v);
            } else {
                throw new IllegalArgumentException(
                        flag.apply(k)
                                + " cannot change when resuming (it would make the continuation a"
                                + " different run): leave it out, or start a new run with another --out");
            }
        }
        if (changes.size() == 0) {
            return saved;
        }
        return saved.overlay(changes.toString(), "flags given with --resume").validate();
    }

    private static void stepsChange(
            TrainConfig c, int step, int n, String flag, Consumer<String> warn) {
        if (n <= step) {
            throw new IllegalArgumentException(
                    flag
                            + " "
                            + n
                            + ": the run has already done "
                            + step
                            + " steps; give more to extend it");
        }
        String kind = c.schedule().name().toLowerCase(Locale.ROOT);
        switch (kind) {
            case "constant" -> {}
            case "wsd" -> {
                double decayStart = Math.max(c.warmup(), 0.8 * c.steps());
                if (step > decayStart) {
                    warn.accept(
                            "muon4j: "
                                    + flag
                                    + " "
                                    + n
                                    + ": this wsd run had started its decay (step "
                                    + step
                                    + " of "
                                    + c.steps()
                                    + "); the rate returns to the stable rate and decays again over the last 20% of "
                                    + n
                                    + " steps");
                }
            }
            default ->
                    throw new IllegalArgumentException(
                            flag
                                    + " "
                                    + n
                                    + ": a "
                                    + kind
                                    + " schedule cannot be extended or shortened"
                                    + " (its rate already decays towards step "
                                    + c.steps()
                                    + "); runs meant to be extended train with --schedule wsd"
                                    + " or constant");
        }
        if (n < c.warmup()) {
            throw new IllegalArgumentException(
                    flag
                            + " "
                            + n
                            + " is shorter than the run's warm-up ("
                            + c.warmup()
                            + " steps)");
        }
    }
}
