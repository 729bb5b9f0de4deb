package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.model.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench train --json}: throughput, model and hardware FLOPs, the ceiling's spread, the
 * profile.
 */
class BenchTrainCliTest {

    @Test
    void jsonCarriesHardwareFlopsCeilingSpreadAndProfile(@TempDir Path dir) {
        Cli.Outcome o =
                benchTiny(
                        dir,
                        "--optimizer",
                        "muon,adamw",
                        "--steps",
                        "2",
                        "--head-chunk",
                        "0,8",
                        "--precision",
                        "fp32,bf16",
                        "--profile",
                        "--json");
        assertEquals(0, o.code(), o.err());
        JsonArray results =
                JsonParser.parseString(o.lastLine()).getAsJsonObject().getAsJsonArray("results");
        assertEquals(8, results.size(), "2 optimizers x 2 head chunks x 2 precisions");
        ModelConfig c = ModelConfig.preset("tiny");
        // Newton-Schulz per step, 5 iterations of 4 m^2 n + 2 m^3 (m <= n): per layer W_q, W_k, W_v
        // (inner x d), W_o (d x inner), SwiGLU W1, W3 (hidden x d) and W2 (d x hidden)
        double inner = c.nHeads() * (double) c.headDim(), d = c.dModel(), hid = c.ffnHidden();
        double ns = c.nLayers() * (4 * quintic(inner, d) + 3 * quintic(hid, d));
        for (int i = 0; i < results.size(); i++) {
            JsonObject r = results.get(i).getAsJsonObject();
            boolean muon = r.get("optimizer").getAsString().equals("muon");
            assertEquals(i % 2 == 0 ? 0 : 8, r.get("headChunk").getAsInt());
            assertEquals(
                    i % 4 < 2 ? "fp32" : "bf16",
                    r.get("precision").getAsString(),
                    "head chunks vary fastest, then precision");
            assertTrue(r.get("tokensPerSecond").getAsDouble() > 0);
            double model = r.get("flopsPerToken").getAsDouble();
            double opt = r.get("optimizerFlopsPerToken").getAsDouble();
            assertEquals(c.flopsPerToken(16), model, 1);
            assertEquals(
                    muon ? ns / 32 : 0,
                    opt,
                    1e-6 * ns,
                    "Newton-Schulz FLOPs per token (B x T = 32)");
            assertEquals(model + opt, r.get("hardwareFlopsPerToken").getAsDouble(), 1);
            assertEquals(
                    r.get("mfu").getAsDouble() * (model + opt) / model,
                    r.get("hfu").getAsDouble(),
                    1e-9);
            double med = r.get("matmulGflops").getAsDouble();
            assertTrue(
                    r.get("matmulGflopsMin").getAsDouble() <= med
                            && med <= r.get("matmulGflopsMax").getAsDouble());
            assertEquals(
                    3 + 1 + 2 * 4 + 2,
                    r.get("ceilingSamples").getAsInt(),
                    "before, after warm-up, per step of 4 variants, after");
            // the machine's best: the largest 2048^3 rate of libtorch, the external BLAS (NaN
            // without numpy) and, in bf16, libtorch's bf16
            double best = r.get("bestGflops").getAsDouble(),
                    torch = r.get("libtorch2048Gflops").getAsDouble();
            double ext = r.get("externalGflops").getAsDouble(),
                    bf16 = r.get("libtorch2048Bf16Gflops").getAsDouble();
            assertTrue(torch > 0 && best >= torch, "best " + best + " >= libtorch 2048^3 " + torch);
            assertTrue(Double.isNaN(ext) || best >= ext, "best >= external");
            assertTrue(
                    Double.isNaN(ext) == r.get("externalSource").getAsString().startsWith("none"),
                    r.get("externalSource").getAsString());
            if (r.get("precision").getAsString().equals("bf16")) {
                assertTrue(bf16 > 0 && best >= bf16, "bf16 ceiling sampled and counted");
            } else {
                assertEquals(
                        Double.isNaN(ext) ? torch : Math.max(torch, ext),
                        best,
                        1e-9,
                        "fp32 best ignores the bf16 rate");
            }
            assertEquals(
                    r.get("mfu").getAsDouble() * med / best, r.get("mfuBest").getAsDouble(), 1e-9);
            assertEquals(
                    r.get("hfu").getAsDouble() * med / best, r.get("hfuBest").getAsDouble(), 1e-9);
            assertTrue(r.get("modelShapesGflops").getAsDouble() > 0);
            JsonArray profile = r.getAsJsonArray("profile");
            assertEquals(8, profile.size());
            double share = 0;
            for (int p = 0; p < profile.size(); p++) {
                share += profile.get(p).getAsJsonObject().get("share").getAsDouble();
            }
            assertEquals(1.0, share, 1e-9);
        }
        assertTrue(o.out().contains("| head_loss |"), "the profile table is printed");
        assertTrue(!o.out().contains("under libtorch's profiler"), "no operator profile unasked");
    }

    @Test
    void opsBreaksAStepDownByOperatorAndBoundsItsUtilisation(@TempDir Path dir) {
        Cli.Outcome o =
                benchTiny(dir, "--optimizer", "adamw,muon", "--steps", "1", "--ops", "--json");
        assertEquals(0, o.code(), o.err());
        JsonArray results =
                JsonParser.parseString(o.lastLine()).getAsJsonObject().getAsJsonArray("results");
        ModelConfig c = ModelConfig.preset("tiny");
        // every weight's three products (y = x W^T, dx, dW: 2 n in out FLOPs each) for n = 32
        // tokens: per layer W_q, W_k, W_v, W_o (d x inner) and SwiGLU's three (d x hidden), and
        // the LM head (d x vocab); the attention kernel's own products are not operators
        double inner = c.nHeads() * (double) c.headDim(), d = c.dModel();
        double weights = c.nLayers() * (4 * d * inner + 3 * d * c.ffnHidden()) + d * c.vocabSize();
        JsonObject adamw = results.get(0).getAsJsonObject().getAsJsonObject("ops");
        assertEquals(6 * 32 * weights, adamw.get("productFlops").getAsDouble(), 1e-9 * weights);
        for (int i = 0; i < 2; i++) {
            JsonObject ops = results.get(i).getAsJsonObject().getAsJsonObject("ops");
            double all = ops.get("opsSeconds").getAsDouble();
            double products = ops.get("productSeconds").getAsDouble();
            assertTrue(0 < products && products < all, products + " of " + all);
            assertTrue(all <= ops.get("stepSeconds").getAsDouble() + 1e-3, "within the step");
            double share = 0;
            for (var k : ops.getAsJsonArray("kinds")) {
                share += k.getAsJsonObject().get("share").getAsDouble();
            }
            assertEquals(1.0, share, 1e-9);
        }
        assertTrue(o.out().contains("this step would reach MFU"), o.out());
        assertTrue(o.out().contains("No bound for Muon"), o.out());
    }

    /** {@code bench train} on the tiny preset at B = 2, T = 16, no warm-up, and {@code more}. */
    private static Cli.Outcome benchTiny(Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("bench", "train", "--preset", "tiny"));
        args.addAll(List.of("--batch-size", "2", "--seq-len", "16", "--warmup", "0"));
        args.addAll(List.of(more));
        return Cli.run(dir, args.toArray(String[]::new));
    }

    private static double quintic(double rows, double cols) {
        double m = Math.min(rows, cols), n = Math.max(rows, cols);
        return 5 * (4 * m * m * n + 2 * m * m * m);
    }
}
