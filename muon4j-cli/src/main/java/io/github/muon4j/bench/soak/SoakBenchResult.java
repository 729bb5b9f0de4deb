package io.github.muon4j.bench.soak;

import java.util.List;

/**
 * What {@code bench soak} measured.
 *
 * @param steps steps of each run
 * @param windows step time and RSS of the uninterrupted run, window by window
 * @param killSteps the steps the second run was killed at
 * @param finalLoss the uninterrupted run's last train_loss
 * @param finalLossKilled the killed-and-resumed run's
 * @param stepsBitEqual steps whose train_loss is bit-equal in both runs
 * @param stepsLogged steps the uninterrupted run logged
 */
public record SoakBenchResult(
        int steps,
        List<Window> windows,
        List<Integer> killSteps,
        double finalLoss,
        double finalLossKilled,
        int stepsBitEqual,
        int stepsLogged) {

    /** Steps first..last: ms per step (the child's own clock), the largest RSS sampled (MB). */
    public record Window(int first, int last, double stepMs, double rssMb) {}

    /** Relative change of the step time from the second window to the last (the first warms up). */
    public double stepTimeDrift() {
        double second = windows.get(1).stepMs(), last = windows.get(windows.size() - 1).stepMs();
        return (last - second) / second;
    }

    /** MB of RSS gained from the second window to the last. */
    public double rssDriftMb() {
        return windows.get(windows.size() - 1).rssMb() - windows.get(1).rssMb();
    }

    public boolean finalLossEqual() {
        return Double.compare(finalLoss, finalLossKilled) == 0;
    }

    /** The final loss and every step's are bit-equal. */
    public boolean passed() {
        return finalLossEqual() && stepsBitEqual == stepsLogged;
    }
}
