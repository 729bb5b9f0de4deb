package io.github.muon4j.report;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {

    @Test
    void drawsSeriesInDistinctColours(@TempDir Path dir) throws Exception {
        double[] x = {1, 2, 3, 4};
        Path png = dir.resolve("p.png");
        new LinePlot("loss", "step", "loss")
                .line("train", x, new double[] {4, 3, 2.5, 2})
                .dashed("val", x, new double[] {4.2, 3.3, Double.NaN, 2.2})
                .logY(true)
                .write(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(900, img.getWidth());
        int blue = 0, red = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x1 = 0; x1 < img.getWidth(); x1++) {
                int rgb = img.getRGB(x1, y) & 0xffffff;
                if (rgb == 0x1f77b4) blue++;
                if (rgb == 0xd62728) red++;
            }
        }
        assertTrue(blue > 50 && red > 20, "both series drawn: blue " + blue + " red " + red);
        assertEquals("0.001", LinePlot.fmt(0.001));
        assertEquals("2.5e6", LinePlot.fmt(2.5e6));
        assertEquals("2e-4", LinePlot.fmt(2e-4));
    }

    @Test
    void logTicksAreRoundNumbers() {
        // 0.001 .. 0.1: 1-2-5 per decade
        java.util.List<Double> t = LinePlot.ticks(Math.log10(0.001), Math.log10(0.1), true);
        assertEquals(
                java.util.List.of("0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1"),
                t.stream().map(v -> LinePlot.fmt(Math.pow(10, v))).toList());
        assertEquals("5", LinePlot.fmt(LinePlot.snap(Math.pow(10, Math.log10(5)))));
        // many decades: powers of ten only
        assertEquals(9, LinePlot.ticks(0, 8, true).size());
        // less than a factor 2: 1..9 x 10^k
        assertEquals(
                java.util.List.of(Math.log10(3), Math.log10(4)),
                LinePlot.ticks(Math.log10(2.5), Math.log10(4.5), true));
    }
}
