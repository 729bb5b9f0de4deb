package io.github.muon4j.train;

import ai.djl.training.tracker.Tracker;

/**
 * Learning-rate schedule as a DJL {@link Tracker}: linear warm-up, then cosine decay,
 * warmup-stable- decay (WSD), or constant. {@code numUpdate} is the 1-based index of the optimizer
 * update.
 *
 * <pre>
 *   warm-up   s &lt;= W          : lr = base * s / W
 *   cosine    W &lt; s &lt;= S      : lr = base * (m + (1-m) * (1 + cos(pi * p)) / 2),  p = (s-W)/(S-W)
 *   wsd       stable until (1-f)*S, then linear to base*m at S (f = decay fraction, 0.2)
 *   constant  lr = base
 * </pre>
 *
 * where m is the floor as a fraction of base (0.1: "cosine decay to 10%").
 */
public final class LrSchedule implements Tracker {

    /** Shape of the schedule after warm-up. */
    public enum Kind {
        COSINE,
        WSD,
        CONSTANT
    }

    private final Kind kind;
    private final float base;
    private final int warmup;
    private final int total;
    private final double floor;
    private final double decayFraction;

    /**
     * @param kind the shape after warm-up
     * @param base peak learning rate
     * @param warmup warm-up updates (0 for none)
     * @param total total updates of the run
     * @param floor final learning rate as a fraction of base (cosine and WSD)
     * @param decayFraction WSD: the last fraction of the run that decays
     */
    public LrSchedule(
            Kind kind, float base, int warmup, int total, double floor, double decayFraction) {
        if (!(base >= 0) || warmup < 0 || total < 1 || floor < 0 || floor > 1) {
            throw new IllegalArgumentException(
                    "learning-rate schedule: need base >= 0, warmup >= 0, total >= 1, 0 <= floor <= 1");
        }
        this.kind = kind;
        this.base = base;
        this.warmup = warmup;
        this.total = total;
        this.floor = floor;
        this.decayFraction = decayFraction;
    }

    /** The defaults of the paper family: cosine to 10%, WSD decaying over the last 20%. */
    public static LrSchedule of(Kind kind, float base, int warmup, int total) {
        return new LrSchedule(kind, base, warmup, total, 0.1, 0.2);
    }

    /** The multiplier of base at update s (1-based). */
    public double factor(int s) {
        if (warmup > 0 && s <= warmup) {
            return Math.max(s, 1) / (double) warmup;
        }
        double m = floor;
        switch (kind) {
            case CONSTANT:
                return 1.0;
            case WSD:
                {
                    double start = Math.max(warmup, (1.0 - decayFraction) * total);
                    if (s <= start) {
                        return 1.0;
                    }
                    double p = Math.min(1.0, (s - start) / Math.max(1.0, total - start));
                    return 1.0 - (1.0 - m) * p;
                }
            case COSINE:
            default:
                {
                    double p = Math.min(1.0, (s - warmup) / (double) Math.max(1, total - warmup));
                    return m + (1.0 - m) * 0.5 * (1.0 + Math.cos(Math.PI * p));
                }
        }
    }

    @Override
    public float getNewValue(int numUpdate) {
        return (float) (base * factor(numUpdate));
    }

    /**
     * This schedule read at the step {@code step} gives, whatever update count the optimizer
     * passes: a step skipped for a non-finite loss still moves the schedule on. It remembers the
     * last rate it gave, so the rate logged for a step is the one the optimizer applied.
     */
    public AtStep atStep(java.util.function.IntSupplier step) {
        return new AtStep(this, step);
    }

    /**
     * A schedule read at the trainer's step; {@link #last} is the rate it last gave an optimizer.
     */
    public static final class AtStep implements Tracker {
        private final LrSchedule schedule;
        private final java.util.function.IntSupplier step;
        private volatile float last = Float.NaN;

        AtStep(LrSchedule schedule, java.util.function.IntSupplier step) {
            this.schedule = schedule;
            this.step = step;
        }

        @Override
        public float getNewValue(int numUpdate) {
            float lr = schedule.getNewValue(step.getAsInt());
            last = lr;
            return lr;
        }

        /** The rate last given to an optimizer, or the schedule at the current step if none was. */
        public float last() {
            float v = last;
            return Float.isNaN(v) ? schedule.getNewValue(step.getAsInt()) : v;
        }

        /** The rate last given to an optimizer in this step; NaN if none asked. */
        public float given() {
            return last;
        }

        void reset() {
            last = Float.NaN;
        }
    }

    public float base() {
        return base;
    }

    public Kind kind() {
        return kind;
    }
}
