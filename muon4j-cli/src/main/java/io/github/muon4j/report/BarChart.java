package io.github.muon4j.report;

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

/** A labelled bar chart (Java2D, headless), written atomically as PNG. */
public final class BarChart {

    private final String title;
    private final String yLabel;
    private final List<String> labels = new ArrayList<>();
    private final List<Double> values = new ArrayList<>();

    public BarChart(String title, String yLabel) {
        this.title = title;
        this.yLabel = yLabel;
    }

    public BarChart bar(String label, double value) {
        labels.add(label);
        values.add(value);
        return this;
    }

    public void write(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int width = 900, height = 500, left = 90, right = 20, top = 45, bottom = 60;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(
                RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double max = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                max = Math.max(max, v);
            }
        }
        max = max <= 0 ? 1 : max * 1.12;
        int pw = width - left - right, ph = height - top - bottom;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i <= 5; i++) {
            int py = top + ph - (int) Math.round(ph * i / 5.0);
            g.setColor(new Color(0xe8e8e8));
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.DARK_GRAY);
            String s = LinePlot.fmt(max * i / 5.0);
            g.drawString(s, left - 8 - fm.stringWidth(s), py + 5);
        }
        int n = Math.max(1, values.size());
        int slot = pw / n, bw = (int) (slot * 0.6);
        for (int i = 0; i < values.size(); i++) {
            double v = values.get(i);
            int h = Double.isFinite(v) ? (int) Math.round(v / max * ph) : 0;
            int x = left + i * slot + (slot - bw) / 2;
            g.setColor(Png.PALETTE[i % Png.PALETTE.length]);
            g.fillRect(x, top + ph - h, bw, h);
            g.setColor(Color.BLACK);
            String vs = Double.isFinite(v) ? LinePlot.fmt(v) : "n/a";
            g.drawString(vs, x + bw / 2 - fm.stringWidth(vs) / 2, top + ph - h - 5);
            String l = labels.get(i);
            g.drawString(l, x + bw / 2 - fm.stringWidth(l) / 2, top + ph + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.setFont(font.deriveFont(Font.BOLD, 15f));
        g.drawString(title, left, 26);
        g.setFont(font);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString(yLabel, -(top + ph / 2) - fm.stringWidth(yLabel) / 2, 18);
        gy.dispose();
        g.dispose();
        Png.write(img, png);
    }
}
