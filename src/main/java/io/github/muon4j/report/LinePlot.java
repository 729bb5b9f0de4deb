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
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
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

        // grid and ticks
        g.setStroke(new BasicStroke(1f));
        for (int i = 0; i <= 5; i++) {
            double fx = x0 + (x1 - x0) * i / 5.0;
            double fy = y0 + (y1 - y0) * i / 5.0;
            int px = left + (int) Math.round(pw * i / 5.0);
            int py = top + ph - (int) Math.round(ph * i / 5.0);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(px, top, px, top + ph);
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.DARK_GRAY);
            String xs = fmt(logX ? Math.pow(10, fx) : fx);
            String ys = fmt(logY ? Math.pow(10, fy) : fy);
            g.drawString(xs, px - fm.stringWidth(xs) / 2, top + ph + 18);
            g.drawString(ys, left - 8 - fm.stringWidth(ys), py + 5);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);

        // series
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(Png.PALETTE[k % Png.PALETTE.length]);
            g.setStroke(
                    s.dashed
                            ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 5f}, 0f)
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
        g.drawString(xLabel + (logX ? " (log)" : ""), left + pw / 2 - fm.stringWidth(xLabel) / 2, height - 15);
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

    static String fmt(double v) {
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e5 || a < 1e-3) {
            return String.format("%.2g", v);
        }
        if (a >= 100 || (a >= 1 && v == Math.rint(v))) {
            return String.format("%.0f", v);
        }
        if (a >= 1) {
            return String.format("%.2f", v);
        }
        return String.format("%.3f", v);
    }
}
