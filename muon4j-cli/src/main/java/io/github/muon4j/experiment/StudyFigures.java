package io.github.muon4j.experiment;

import io.github.muon4j.experiment.Study.Arm;
import io.github.muon4j.experiment.Study.Settings;
import io.github.muon4j.experiment.Study.Size;
import io.github.muon4j.report.Figures;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The study's figures (SVG and PNG beside REPORT.md): one colour per optimizer, one line style per
 * seed, intervals on every point that has one.
 */
final class StudyFigures {

    private final Path dir;

    StudyFigures(Path dir) {
        this.dir = dir;
    }

    static Color colour(Arm a) {
        return switch (a) {
            case MUON -> Figures.VERMILLION;
            case ADAMW -> Figures.BLUE;
            case ADAMW1 -> Figures.GREEN;
        };
    }

    private static final Color[] SIZE_COLOURS = {
        Figures.BLACK, Figures.PURPLE, Figures.SKY, Figures.ORANGE
    };

    private static double[] col(List<double[]> rows, int c) {
        return rows.stream().mapToDouble(r -> r[c]).toArray();
    }

    /**
     * Data speedup per size vs budget (log2 axis at the budgets), 95% intervals, extrapolated
     * points marked apart.
     */
    void speedup(Map<String, List<StudyReport.Cell>> bySize, Settings s) throws IOException {
        XYChart c =
                Figures.chart(
                        "Muon's data speedup over AdamW (horizon-matched)",
                        "data budget D (tokens)",
                        "D_AdamW(L_Muon(D)) / D");
        Figures.log2X(c, v -> Figures.compact(v * s.tokens(s.budgets().get(0))));
        c.getStyler().setYAxisDecimalPattern("0.0");
        int i = 0;
        boolean any = false;
        List<Object[]> opens = new java.util.ArrayList<>();
        for (var e : bySize.entrySet()) {
            Color col = SIZE_COLOURS[i % SIZE_COLOURS.length];
            double dx =
                    (i - (bySize.size() - 1) / 2.0)
                            * 0.06; // side by side, so that intervals do not overlap
            List<double[]> in = new java.util.ArrayList<>(),
                    ex = new java.util.ArrayList<>(),
                    open = new java.util.ArrayList<>();
            for (StudyReport.Cell cell : e.getValue()) {
                if (cell.data() == null) {
                    continue;
                }
                double x = log2(cell.tokens() / (double) s.tokens(s.budgets().get(0))) + dx;
                double[] row = {
                    x, cell.data().value(), cell.data().ci().low(), cell.data().ci().high()
                };
                if (!Double.isFinite(row[1]) || !Double.isFinite(row[3])) {
                    open.add(row);
                }
                if (Double.isFinite(row[1])) {
                    (cell.data().extrapolated() ? ex : in).add(row);
                }
            }
            String name = "size " + e.getKey();
            if (!in.isEmpty()) {
                Figures.points(c, name, col(in, 0), col(in, 1), col, SeriesMarkers.CIRCLE);
                Figures.intervals(c, name, col(in, 0), col(in, 2), col(in, 3), col);
                any = true;
            }
            if (!ex.isEmpty()) {
                Figures.points(
                        c,
                        name + ", extrapolated (fitted law)",
                        col(ex, 0),
                        col(ex, 1),
                        col,
                        SeriesMarkers.TRIANGLE_UP);
                Figures.intervals(c, name + " ex", col(ex, 0), col(ex, 2), col(ex, 3), col);
                any = true;
            }
            opens.add(new Object[] {name, col, open});
            i++;
        }
        // unbounded (the fitted law never reaches Muon's loss) or intervals open above: an arrow at
        // the top
        double top = 1;
        for (var e : bySize.values()) {
            for (StudyReport.Cell cell : e) {
                if (cell.data() != null) {
                    for (double v : new double[] {cell.data().value(), cell.data().ci().high()}) {
                        top = Double.isFinite(v) ? Math.max(top, v) : top;
                    }
                }
            }
        }
        top *= 1.1;
        for (Object[] o : opens) {
            @SuppressWarnings("unchecked")
            List<double[]> open = (List<double[]>) o[2];
            if (open.isEmpty()) {
                continue;
            }
            double[] y = new double[open.size()], lo = new double[open.size()];
            for (int k = 0; k < y.length; k++) {
                y[k] = top;
                lo[k] =
                        Double.isFinite(open.get(k)[1])
                                ? open.get(k)[1]
                                : Double.isFinite(open.get(k)[2]) ? open.get(k)[2] : top;
            }
            Figures.points(
                    c,
                    o[0] + ": unbounded above (drawn at the top)",
                    col(open, 0),
                    y,
                    (Color) o[1],
                    SeriesMarkers.TRIANGLE_UP);
            Figures.intervals(c, o[0] + " open", col(open, 0), lo, y, (Color) o[1]);
            any = true;
        }
        if (!any) {
            return;
        }
        double span = log2(s.budgets().get(s.armBudgets() - 1) / (double) s.budgets().get(0));
        Figures.hline(c, "no speedup", -0.3, span + 0.3, 1.0, Color.GRAY);
        c.getStyler().setXAxisMin(-0.5);
        c.getStyler().setXAxisMax(span + 0.5);
        Figures.save(c, dir.resolve("speedup"));
    }

    /**
     * Final loss vs budget per arm: each seed's ladder in the arm's colour (a line style per seed),
     * the seed mean with its t interval.
     */
    void lossVsData(Size z, StudyReport r, Map<Arm, double[][]> ladders) throws IOException {
        XYChart c =
                Figures.chart(
                        "Size " + z.name() + ": final validation loss at each budget",
                        "data budget D (tokens)",
                        "final validation loss (nats)");
        double[] all = r.budgetTokens(Arm.ADAMW);
        Figures.log2X(c, v -> Figures.compact(v * all[0]));
        c.getStyler().setXAxisMin(-0.25);
        c.getStyler().setXAxisMax(log2(all[all.length - 1] / all[0]) + 0.25);
        c.getStyler().setYAxisDecimalPattern("0.00");
        boolean any = false;
        for (Arm a : Arm.values()) {
            double[][] lad = ladders.get(a);
            if (lad == null) {
                continue;
            }
            any = true;
            double[] d = r.budgetTokens(a), x = new double[d.length];
            for (int i = 0; i < d.length; i++) {
                x[i] = log2(d[i] / all[0]);
            }
            double[] mean = Horizon.columnMeans(lad),
                    lo = new double[d.length],
                    hi = new double[d.length];
            for (int b = 0; b < d.length; b++) {
                double[] v = new double[lad.length];
                for (int k = 0; k < lad.length; k++) {
                    v[k] = lad[k][b];
                }
                Stats.Interval ci = Stats.tInterval(v);
                lo[b] = ci.low();
                hi[b] = ci.high();
            }
            Figures.line(
                    c,
                    a.title + " (mean, 95% t)",
                    x,
                    mean,
                    colour(a),
                    new BasicStroke(2.2f),
                    SeriesMarkers.CIRCLE);
            Figures.intervals(c, a.title, x, lo, hi, colour(a));
            for (int k = 0; k < lad.length; k++) {
                Figures.line(
                                c,
                                a.title + " seed " + r.plan().settings().seeds().get(k),
                                x,
                                lad[k],
                                colour(a),
                                Figures.stroke(k),
                                null)
                        .setShowInLegend(a == Arm.MUON);
            }
        }
        if (!any) {
            return;
        }
        Figures.save(c, dir.resolve(z.name() + "-loss_vs_data"));
    }

    /** Loss-matched speedup vs target loss. */
    void lossMatched(Size z, List<double[]> lm) throws IOException {
        XYChart c =
                Figures.chart(
                        "Size " + z.name() + ": loss-matched speedup",
                        "target validation loss (nats)",
                        "D_AdamW(L) / D_Muon(L)");
        c.getStyler().setXAxisDecimalPattern("0.00");
        c.getStyler().setYAxisDecimalPattern("0.0");
        Figures.line(
                c,
                "Muon over AdamW",
                col(lm, 0),
                col(lm, 1),
                Figures.VERMILLION,
                new BasicStroke(2f),
                null);
        Figures.save(c, dir.resolve(z.name() + "-loss_matched"));
    }

    /**
     * Validation curves of every scoring seed at one budget: colour per arm, line style per seed.
     */
    boolean curves(Size z, StudyReport r, int b) throws IOException {
        Settings s = r.plan().settings();
        XYChart c =
                Figures.chart(
                        String.format(
                                Locale.ROOT,
                                "Size %s: validation loss, %s-token runs (after the first evaluation)",
                                z.name(),
                                Figures.compact(s.tokens(s.budgets().get(b)))),
                        "tokens",
                        "validation loss (nats)");
        c.setCustomXAxisTickLabelsFormatter(v -> v == 0 ? "0" : Figures.compact(v));
        boolean any = false;
        for (Arm a : Arm.values()) {
            StudyReport.ArmRuns runs = r.arm(z, a, b);
            for (int k = 0; k < runs.runs().size(); k++) {
                RunSummary x = runs.runs().get(k);
                int from =
                        x.tokens().length > 1 && x.tokens()[0] == 0
                                ? 1
                                : 0; // the loss at initialisation would flatten the rest
                double[] tk = java.util.Arrays.copyOfRange(x.tokens(), from, x.tokens().length);
                double[] vl = java.util.Arrays.copyOfRange(x.valLoss(), from, x.valLoss().length);
                Figures.line(
                        c,
                        a.title + " seed " + x.seed(),
                        tk,
                        vl,
                        colour(a),
                        Figures.stroke(k),
                        SeriesMarkers.CIRCLE);
                any = true;
            }
        }
        if (any) {
            Figures.save(c, dir.resolve(z.name() + "-curves"));
        }
        return any;
    }

    /**
     * Final loss vs rate multiple (log2 axis), colour per arm, solid with clipping, dashed without;
     * diverged runs as crosses at the top.
     */
    boolean stability(Map<String, List<double[]>> series, Plan plan) throws IOException {
        if (series.isEmpty()) {
            return false;
        }
        XYChart c =
                Figures.chart(
                        "Stability: final loss at multiples of the tuned rate",
                        "multiple of the tuned rate",
                        "final validation loss (nats)");
        Figures.log2X(c, v -> String.format(Locale.ROOT, "%.0fx", v));
        double cap = 0;
        for (List<double[]> v : series.values()) {
            for (double[] p : v) {
                if (p[2] == 0) {
                    cap = Math.max(cap, p[1]);
                }
            }
        }
        cap += 0.25;
        for (var e : series.entrySet()) {
            Arm a = e.getKey().startsWith("muon") ? Arm.MUON : Arm.ADAMW;
            boolean clip = e.getKey().endsWith("-clip");
            List<double[]> ok = e.getValue().stream().filter(p -> p[2] == 0).toList(),
                    bad = e.getValue().stream().filter(p -> p[2] == 1).toList();
            String name = a.title + (clip ? ", clipping" : ", no clipping");
            if (!ok.isEmpty()) {
                Figures.points(
                        c,
                        name,
                        Figures.log2(col(ok, 0)),
                        col(ok, 1),
                        colour(a),
                        clip ? SeriesMarkers.CIRCLE : SeriesMarkers.DIAMOND);
            }
            if (!bad.isEmpty()) {
                double[] y = new double[bad.size()];
                java.util.Arrays.fill(y, cap);
                double[] xs = Figures.log2(col(bad, 0));
                for (int i = 0; i < xs.length; i++) {
                    xs[i] += clip ? -0.08 : 0.08;
                }
                Figures.points(
                        c,
                        name + ": diverged (drawn at the top)",
                        xs,
                        y,
                        colour(a),
                        SeriesMarkers.CROSS);
            }
        }
        Figures.save(c, dir.resolve("stability"));
        return true;
    }

    /** Steps to each target per batch size, and a (steps, tokens) Pareto plot per arm. */
    void frontier(List<Frontier.Cell> cells, double[] targets, StringBuilder md)
            throws IOException {
        XYChart c =
                Figures.chart(
                        "Batch-size frontier: steps to target",
                        "batch size (sequences)",
                        "steps to target");
        Figures.log2X(c, v -> String.format(Locale.ROOT, "%.0f", v));
        Figures.log2Y(c, v -> String.format(Locale.ROOT, "%.0f", v));
        for (Arm a : Plan.FRONTIER_ARMS) {
            for (int t = 0; t < targets.length; t++) {
                List<double[]> pts = new java.util.ArrayList<>(), cen = new java.util.ArrayList<>();
                for (Frontier.Cell cell : cells) {
                    if (cell.arm() != a) {
                        continue;
                    }
                    Frontier.Hit h = Frontier.hit(cell, targets[t]);
                    if (h.reached() == 0) {
                        continue;
                    }
                    double[] row = {
                        log2(cell.batch()) + (a == Arm.MUON ? -0.04 : 0.04),
                        log2(h.steps()),
                        log2(h.stepsLo()),
                        log2(h.stepsHi())
                    };
                    (h.censored() ? cen : pts).add(row);
                }
                String name = String.format(Locale.ROOT, "%s, target %.3f", a.title, targets[t]);
                if (!pts.isEmpty()) {
                    Figures.line(
                            c,
                            name,
                            col(pts, 0),
                            col(pts, 1),
                            colour(a),
                            Figures.stroke(t),
                            SeriesMarkers.CIRCLE);
                    Figures.intervals(c, name, col(pts, 0), col(pts, 2), col(pts, 3), colour(a));
                }
                if (!cen.isEmpty()) {
                    Figures.points(
                            c,
                            name + ", censored (some seeds never reach it)",
                            col(cen, 0),
                            col(cen, 1),
                            colour(a),
                            SeriesMarkers.TRIANGLE_UP);
                }
            }
        }
        Figures.boundsLog2(
                c,
                cells.stream()
                        .flatMap(x -> x.runs().stream())
                        .mapToDouble(r -> r.steps()[r.steps().length - 1])
                        .max()
                        .orElse(2));
        Figures.save(c, dir.resolve("frontier_steps"));
        md.append("![steps to target per batch size](frontier_steps.svg)\n\n");
        for (Arm a : Plan.FRONTIER_ARMS) {
            XYChart p =
                    Figures.chart(
                            a.title + ": steps vs tokens to target (one point per batch size)",
                            "steps to target",
                            "tokens to target");
            Figures.log2X(p, v -> String.format(Locale.ROOT, "%.0f", v));
            Figures.log2Y(p, v -> Figures.compact(v));
            for (int t = 0; t < targets.length; t++) {
                List<double[]> pts = new java.util.ArrayList<>();
                for (Frontier.Cell cell : cells) {
                    if (cell.arm() == a) {
                        Frontier.Hit h = Frontier.hit(cell, targets[t]);
                        if (h.reached() == h.runs() && h.runs() > 0) {
                            pts.add(new double[] {log2(h.steps()), log2(h.tokens())});
                        }
                    }
                }
                if (!pts.isEmpty()) {
                    Figures.line(
                            p,
                            String.format(Locale.ROOT, "target %.3f", targets[t]),
                            col(pts, 0),
                            col(pts, 1),
                            colour(a),
                            Figures.stroke(t),
                            SeriesMarkers.CIRCLE);
                }
            }
            Figures.save(p, dir.resolve("frontier_pareto-" + a.id));
            md.append("![")
                    .append(a.title)
                    .append(" steps vs tokens](frontier_pareto-")
                    .append(a.id)
                    .append(".svg)\n\n");
        }
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }
}
