package io.github.muon4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.function.DoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The study's figures, drawn with XChart and saved as SVG and PNG. Conventions: one colour per
 * optimizer (Okabe-Ito, safe for colour-blind readers), one line style per seed, the legend outside
 * the plot, intervals as vertical bars on the points that have one, log axes drawn in log2
 * coordinates so that the ticks fall on the data's own values (budgets, batch sizes).
 */
public final class Figures {

    public static final Color VERMILLION = new Color(0xD5, 0x5E, 0x00);
    public static final Color BLUE = new Color(0x00, 0x72, 0xB2);
    public static final Color GREEN = new Color(0x00, 0x9E, 0x73);
    public static final Color PURPLE = new Color(0xCC, 0x79, 0xA7);
    public static final Color ORANGE = new Color(0xE6, 0x9F, 0x00);
    public static final Color SKY = new Color(0x56, 0xB4, 0xE9);
    public static final Color BLACK = Color.BLACK;

    /** Line styles for seeds 1, 2, 3, 4, ...: solid, dashed, dotted, dash-dot. */
    private static final float[][] DASHES = {null, {8f, 5f}, {2f, 4f}, {8f, 4f, 2f, 4f}, {14f, 4f}};

    private Figures() {}

    public static BasicStroke stroke(int seedIndex) {
        float[] d = DASHES[Math.floorMod(seedIndex, DASHES.length)];
        return d == null
                ? new BasicStroke(1.6f)
                : new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, d, 0f);
    }

    public static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart c =
                new XYChartBuilder()
                        .width(820)
                        .height(480)
                        .title(title)
                        .xAxisTitle(xTitle)
                        .yAxisTitle(yTitle)
                        .build();
        Styler s = c.getStyler();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesColor(new Color(0xE4, 0xE4, 0xE4));
        c.getStyler().setPlotBorderVisible(false);
        c.getStyler().setLegendBorderColor(Color.WHITE);
        c.getStyler().setChartTitleBoxVisible(false);
        c.getStyler().setAntiAlias(true);
        c.getStyler().setMarkerSize(7);
        c.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        c.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        c.getStyler().setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        c.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        c.getStyler().setYAxisDecimalPattern("0.00");
        s.setToolTipsEnabled(false);
        return c;
    }

    /**
     * A log2 x axis: data are given as log2(value); ticks at whole powers of two are labelled with
     * {@code label(2^k)}, the others left blank.
     */
    public static void log2X(XYChart c, DoubleFunction<String> label) {
        c.setCustomXAxisTickLabelsFormatter(v -> tick(v, label));
    }

    /** The same for the y axis. */
    public static void log2Y(XYChart c, DoubleFunction<String> label) {
        c.setCustomYAxisTickLabelsFormatter(v -> tick(v, label));
    }

    /**
     * The label of a log2 tick: the value at whole powers of two; blank elsewhere, as a run of
     * spaces of a length unique to the tick (XChart drops every label of an axis whose labels
     * repeat).
     */
    static String tick(double v, DoubleFunction<String> label) {
        return Math.abs(v - Math.rint(v)) < 1e-6
                ? label.apply(Math.pow(2, Math.rint(v)))
                : " ".repeat(1 + (int) Math.round((v + 100) * 8) % 400);
    }

    /**
     * A log2 y axis from 2^0 to the power of two above {@code max}, so that labelled ticks fall
     * inside it.
     */
    public static void boundsLog2(XYChart c, double max) {
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(Math.ceil(Math.log(Math.max(2, max)) / Math.log(2)));
    }

    public static double[] log2(double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = Math.log(v[i]) / Math.log(2);
        }
        return o;
    }

    /** A line (with markers at the data, or none). */
    public static XYSeries line(
            XYChart c,
            String name,
            double[] x,
            double[] y,
            Color col,
            BasicStroke stroke,
            Marker marker) {
        XYSeries s = c.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setLineColor(col);
        s.setLineStyle(stroke);
        s.setMarker(marker == null ? SeriesMarkers.NONE : marker);
        s.setMarkerColor(col);
        return s;
    }

    /** Points without a line. */
    public static XYSeries points(
            XYChart c, String name, double[] x, double[] y, Color col, Marker marker) {
        XYSeries s = c.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(marker);
        s.setMarkerColor(col);
        return s;
    }

    /** A vertical interval at each x (drawn only where both ends are finite), not in the legend. */
    public static void intervals(
            XYChart c, String name, double[] x, double[] lo, double[] hi, Color col) {
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(lo[i]) || !Double.isFinite(hi[i])) {
                continue;
            }
            XYSeries s =
                    c.addSeries(
                            name + " interval " + i,
                            new double[] {x[i], x[i]},
                            new double[] {lo[i], hi[i]});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setLineColor(col);
            s.setLineStyle(new BasicStroke(1.3f));
            s.setMarker(SeriesMarkers.NONE);
            s.setShowInLegend(false);
        }
    }

    /** A horizontal reference line (e.g. speedup 1), not in the legend. */
    public static void hline(XYChart c, String name, double x0, double x1, double y, Color col) {
        XYSeries s = c.addSeries(name, new double[] {x0, x1}, new double[] {y, y});
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setLineColor(col);
        s.setLineStyle(
                new BasicStroke(
                        1f,
                        BasicStroke.CAP_BUTT,
                        BasicStroke.JOIN_MITER,
                        10f,
                        new float[] {3f, 3f},
                        0f));
        s.setMarker(SeriesMarkers.NONE);
        s.setShowInLegend(false);
    }

    /**
     * Writes {@code base}.svg and {@code base}.png (each written whole, then renamed into place).
     */
    public static void save(XYChart c, Path base) throws IOException {
        ByteArrayOutputStream svg = new ByteArrayOutputStream();
        VectorGraphicsEncoder.saveVectorGraphic(
                c, svg, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        write(base.resolveSibling(base.getFileName() + ".svg"), svg.toByteArray());
        write(
                base.resolveSibling(base.getFileName() + ".png"),
                BitmapEncoder.getBitmapBytes(c, BitmapEncoder.BitmapFormat.PNG));
    }

    private static void write(Path f, byte[] bytes) throws IOException {
        Path tmp =
                f.resolveSibling(
                        "." + f.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A compact number: 204800 -> "205k", 1638400 -> "1.64M", 16 -> "16". */
    public static String compact(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.3gM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.3gk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
