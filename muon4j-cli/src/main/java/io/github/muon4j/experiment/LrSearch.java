package io.github.muon4j.experiment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.DoubleUnaryOperator;

/**
 * The tuning protocol, the same for both optimizers: a learning-rate grid on a log scale (a
 * constant factor between neighbours) that extends itself, one rate at a time beyond whichever edge
 * is not yet bracketed, until the best rate is interior: on each side some tried rate has a final
 * validation loss at least {@code delta} above the best (a diverged run counts as +infinity). The
 * search stops at {@code cap} rates tried; the result says whether the optimum was bracketed or the
 * cap was hit.
 */
public final class LrSearch {

    /** One tried rate and its score (final validation loss; +infinity when the run diverged). */
    public record Trial(double lr, double loss) {}

    /**
     * @param trials every rate tried, sorted by rate
     * @param best the rate with the lowest loss (ties: the lower rate)
     * @param bracketed both sides of {@code best} hold a rate at least delta worse
     * @param capped the search stopped because it reached the cap
     */
    public record Result(
            List<Trial> trials,
            double best,
            double bestLoss,
            boolean bracketed,
            boolean capped,
            double factor,
            int cap,
            double delta) {
        public List<Double> lrs() {
            return trials.stream().map(Trial::lr).toList();
        }
    }

    private LrSearch() {}

    /**
     * @param initial the starting grid (any rates; extensions step by {@code factor} from its ends)
     * @param factor ratio between an edge rate and the next one added (e.g. 2)
     * @param cap the most rates tried in all
     * @param delta how much worse (nats) a neighbour must be to count as measurably worse
     * @param loss trains at a rate and returns its final validation loss (NaN or infinity:
     *     diverged)
     */
    public static Result search(
            List<Double> initial, double factor, int cap, double delta, DoubleUnaryOperator loss) {
        if (initial.isEmpty() || !(factor > 1) || cap < initial.size()) {
            throw new IllegalArgumentException(
                    "learning-rate search: need a non-empty grid, factor > 1 and cap >= the grid size");
        }
        List<Trial> trials = new ArrayList<>();
        for (double lr : initial.stream().distinct().sorted().toList()) {
            trials.add(new Trial(lr, score(loss.applyAsDouble(lr))));
        }
        while (true) {
            trials.sort(Comparator.comparingDouble(Trial::lr));
            int b = bestIndex(trials);
            Trial best = trials.get(b);
            boolean lowOk = worseOnSide(trials, b, -1, delta),
                    highOk = worseOnSide(trials, b, +1, delta);
            if (lowOk && highOk) {
                return new Result(
                        List.copyOf(trials),
                        best.lr(),
                        best.loss(),
                        true,
                        false,
                        factor,
                        cap,
                        delta);
            }
            if (trials.size() >= cap) {
                return new Result(
                        List.copyOf(trials),
                        best.lr(),
                        best.loss(),
                        false,
                        true,
                        factor,
                        cap,
                        delta);
            }
            // extend beyond the unbracketed edge (the lower one first when both are open)
            double next =
                    !lowOk
                            ? trials.get(0).lr() / factor
                            : trials.get(trials.size() - 1).lr() * factor;
            trials.add(new Trial(next, score(loss.applyAsDouble(next))));
        }
    }

    static double score(double l) {
        return Double.isFinite(l) ? l : Double.POSITIVE_INFINITY;
    }

    static int bestIndex(List<Trial> t) {
        int b = 0;
        for (int i = 1; i < t.size(); i++) {
            if (t.get(i).loss() < t.get(b).loss()) {
                b = i;
            }
        }
        return b;
    }

    private static boolean worseOnSide(List<Trial> t, int b, int dir, double delta) {
        for (int i = b + dir; i >= 0 && i < t.size(); i += dir) {
            if (t.get(i).loss() >= t.get(b).loss() + delta) {
                return true;
            }
        }
        return false;
    }
}
