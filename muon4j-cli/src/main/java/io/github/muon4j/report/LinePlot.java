package io.github.muon4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small line-chart writer (Java2D, headless, no dependencies): several named series, axis labels,
 * a legend, linear or logarithmic axes. Written to a temporary file and renamed, so a crash never
 * leaves half a PNG.
 */
public final class LinePlot {

    private record Series(String name, double[] x, double[] y, boolean dashed, boolean markers) {}

    /** A shaded range (e.g. a seed band) in the colour of series {@code series}. */
    private record Band(int series, double[] x, double[] lo, double[] hi) {}

    private final List<Band> bands = new ArrayList<>();

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean logX;
    private boolean logY;
    private int width = 900;
    private int height = 560;

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot line(String name, double[] x, double[] y) {
        series.add(new Series(name, x.clone(), y.clone(), false, x.length < 40));
        return this;
    }

    public LinePlot dashed(String name, double[] x, double[] y) {
        series.add(new Series(name, x.clone(), y.clone(), true, x.length < 40));
        return this;
    }

    /**
     * Shades [lo, hi] along x in the colour of the series added last (add the band after its line).
     */
    public LinePlot band(double[] x, double[] lo, double[] hi) {
        bands.add(new Band(Math.max(0, series.size() - 1), x.clone(), lo.clone(), hi.clone()));
        return this;
    }

    public LinePlot logX(boolean on) {
        logX = on;
        return this;
    }

    public LinePlot logY(boolean on) {
        logY = on;
        return this;
    }

    public LinePlot size(int w, int h) {
        width = w;
        height = h;
        return this;
    }

    private double tx(double v) {
        return logX ? Math.log10(v) : v;
    }

    private double ty(double v) {
        return logY ? Math.log10(v) : v;
    }

    private boolean usable(double x, double y) {
        return Double.isFinite(x) && Double.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
    }

    /** Renders the chart to a PNG file. */
    public void write(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(
                RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);

        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (usable(s.x[i], s.y[i])) {
                    x0 = Math.min(x0, tx(s.x[i]));
                    x1 = Math.max(x1, tx(s.x[i]));
                    y0 = Math.min(y0, ty(s.y[i]));
                    y1 = Math.max(y1, ty(s.y[i]));
                }
            }
        }
        for (Band bd : bands) {
            for (int i = 0; i < bd.x.length; i++) {
                for (double v : new double[] {bd.lo[i], bd.hi[i]}) {
                    if (usable(bd.x[i], v)) {
                        y0 = Math.min(y0, ty(v));
                        y1 = Math.max(y1, ty(v));
                    }
                }
            }
        }
        if (!(x0 <= x1)) {
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }
        if (x1 - x0 < 1e-12) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        if (y1 - y0 < 1e-12) {
            y0 -= 0.5;
            y1 += 0.5;
        }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;

        int left = 80, right = 20, top = 40, bottom = 60;
        int pw = width - left - right, ph = height - top - bottom;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();

        // grid and ticks: on a log axis at 1-2-5 x 10^k, so that every label is a round number
        g.setStroke(new BasicStroke(1f));
        for (double fx : ticks(x0, x1, logX)) {
            int px = left + (int) Math.round((fx - x0) / (x1 - x0) * pw);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(px, top, px, top + ph);
            g.setColor(Color.DARK_GRAY);
            String xs = fmt(logX ? snap(Math.pow(10, fx)) : fx);
            g.drawString(xs, px - fm.stringWidth(xs) / 2, top + ph + 18);
        }
        for (double fy : ticks(y0, y1, logY)) {
            int py = top + ph - (int) Math.round((fy - y0) / (y1 - y0) * ph);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.DARK_GRAY);
            String ys = fmt(logY ? snap(Math.pow(10, fy)) : fy);
            g.drawString(ys, left - 8 - fm.stringWidth(ys), py + 5);
        }
        // bands under the lines
        for (Band bd : bands) {
            Color c = Png.PALETTE[bd.series % Png.PALETTE.length];
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 50));
            java.awt.geom.Path2D.Double poly = new java.awt.geom.Path2D.Double();
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < bd.x.length; i++) {
                if (usable(bd.x[i], bd.lo[i]) && usable(bd.x[i], bd.hi[i])) {
                    pts.add(
                            new double[] {
                                left + (tx(bd.x[i]) - x0) / (x1 - x0) * pw,
                                top + ph - (ty(bd.lo[i]) - y0) / (y1 - y0) * ph,
                                top + ph - (ty(bd.hi[i]) - y0) / (y1 - y0) * ph
                            });
                }
            }
            if (pts.size() >= 2) {
                poly.moveTo(pts.get(0)[0], pts.get(0)[2]);
                for (double[] q : pts) {
                    poly.lineTo(q[0], q[2]);
                }
                for (int i = pts.size() - 1; i >= 0; i--) {
                    poly.lineTo(pts.get(i)[0], pts.get(i)[1]);
                }
                poly.closePath();
                g.fill(poly);
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);

        // series
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(Png.PALETTE[k % Png.PALETTE.length]);
            g.setStroke(
                    s.dashed
                            ? new BasicStroke(
                                    2f,
                                    BasicStroke.CAP_BUTT,
                                    BasicStroke.JOIN_ROUND,
                                    1f,
                                    new float[] {7f, 5f},
                                    0f)
                            : new BasicStroke(2f));
            int prevX = Integer.MIN_VALUE, prevY = 0;
            for (int i = 0; i < s.x.length; i++) {
                if (!usable(s.x[i], s.y[i])) {
                    prevX = Integer.MIN_VALUE;
                    continue;
                }
                int px = left + (int) Math.round((tx(s.x[i]) - x0) / (x1 - x0) * pw);
                int py = top + ph - (int) Math.round((ty(s.y[i]) - y0) / (y1 - y0) * ph);
                if (prevX != Integer.MIN_VALUE) {
                    g.drawLine(prevX, prevY, px, py);
                }
                if (s.markers) {
                    g.fillOval(px - 3, py - 3, 7, 7);
                }
                prevX = px;
                prevY = py;
            }
        }

        // labels, title, legend
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 15f));
        g.drawString(title, left, 24);
        g.setFont(font);
        g.drawString(
                xLabel + (logX ? " (log)" : ""),
                left + pw / 2 - fm.stringWidth(xLabel) / 2,
                height - 15);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        String yl = yLabel + (logY ? " (log)" : "");
        gy.drawString(yl, -(top + ph / 2) - fm.stringWidth(yl) / 2, 18);
        gy.dispose();
        int ly = top + 12;
        for (int k = 0; k < series.size(); k++) {
            String n = series.get(k).name;
            int lx = left + pw - 10 - fm.stringWidth(n) - 30;
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(lx - 4, ly - 12, fm.stringWidth(n) + 38, 18);
            g.setColor(Png.PALETTE[k % Png.PALETTE.length]);
            g.setStroke(new BasicStroke(3f));
            g.drawLine(lx, ly - 4, lx + 22, ly - 4);
            g.setColor(Color.BLACK);
            g.drawString(n, lx + 28, ly + 1);
            ly += 20;
        }
        g.dispose();

        Png.write(img, png);
    }

    /**
     * Tick positions (in axis units: log10 of the value on a log axis) inside [a, b]. Linear: 6
     * evenly spaced. Log: the values m x 10^k, m in {1, 2, 5}, that fall inside (only powers of ten
     * when that gives more than 10 ticks; 1..9 x 10^k when {1, 2, 5} gives fewer than 3).
     */
    static List<Double> ticks(double a, double b, boolean log) {
        List<Double> out = new ArrayList<>();
        if (!log) {
            for (int i = 0; i <= 5; i++) {
                out.add(a + (b - a) * i / 5.0);
            }
            return out;
        }
        List<Double> t125 = at(a, b, new double[] {1, 2, 5});
        if (t125.size() > 10) {
            return at(a, b, new double[] {1});
        }
        if (t125.size() >= 3) {
            return t125;
        }
        List<Double> t9 = at(a, b, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        return t9.size() >= 2 ? t9 : ticks(a, b, false);
    }

    private static List<Double> at(double a, double b, double[] mantissas) {
        List<Double> out = new ArrayList<>();
        for (int k = (int) Math.floor(a) - 1; k <= (int) Math.ceil(b); k++) {
            for (double m : mantissas) {
                double t = Math.log10(m) + k;
                if (t >= a - 1e-9 && t <= b + 1e-9) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /** 10^log10(5) is 4.999...: round a log tick back to the round number it stands for. */
    static double snap(double v) {
        return Double.parseDouble(String.format(java.util.Locale.ROOT, "%.6g", v));
    }

    static String fmt(double v) {
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e5 || a < 1e-3) {
            // 2e-04, 1.5e+06: compact scientific, no trailing zeros
            return String.format(java.util.Locale.ROOT, "%.1e", v)
                    .replace(".0e", "e")
                    .replaceAll("e([+-])0*(\\d)", "e$1$2")
                    .replace("e+", "e");
        }
        if (a >= 100 || (a >= 1 && v == Math.rint(v))) {
            return String.format("%.0f", v);
        }
        if (a >= 1) {
            return String.format("%.2f", v);
        }
        return String.format(java.util.Locale.ROOT, "%.3f", v).replaceAll("0+$", "");
    }
}
