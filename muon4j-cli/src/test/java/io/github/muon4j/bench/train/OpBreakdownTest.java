package io.github.muon4j.bench.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.muon4j.bench.train.OpBreakdown.Call;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link OpBreakdown}: self times from nested calls, wall coverage, product FLOPs, the bound. */
class OpBreakdownTest {

    private static Call call(String name, long thread, double start, double seconds, long[]... s) {
        return new Call(name, thread, start, seconds, s.length == 0 ? null : s);
    }

    @Test
    void selfTimeIsDurationLessDirectChildren() {
        List<Call> calls =
                List.of(
                        call("aten::linear", 1, 0.0, 10.0), //  [0, 10] on thread 1
                        call("aten::t", 1, 0.5, 1.0), //       [0.5, 1.5] inside linear
                        call("aten::addmm", 1, 2.0, 7.0), //   [2, 9] inside linear
                        call("aten::copy_", 1, 3.0, 2.0), //   [3, 5] inside addmm
                        call("aten::mul", 1, 11.0, 1.0), //    after linear: top level
                        call("aten::mul", 2, 2.5, 3.0)); //   another thread, overlapping in time
        double[] self = OpBreakdown.selfSeconds(calls);
        // linear 10 - 1 - 7; t 1; addmm 7 - 2; copy 2; mul 1; the other thread's mul 3 (not a
        // child of anything on thread 1)
        assertArrayEquals(new double[] {2, 1, 5, 2, 1, 3}, self, 1e-12);
    }

    @Test
    void coverageIsTheUnionOfIntervalsOverThreads() {
        List<Call> calls =
                List.of(
                        call("a", 1, 0.0, 4.0),
                        call("b", 2, 3.0, 2.0), // [3, 5]: extends the first run to 5
                        call("c", 1, 1.0, 1.0), // inside
                        call("d", 1, 7.0, 1.0)); // a second run [7, 8]
        assertEquals(6.0, OpBreakdown.covered(calls), 1e-12);
        assertEquals(0.0, OpBreakdown.covered(List.of()), 0);
    }

    @Test
    void productFlopsFromTheRecordedOperands() {
        long[] none = {};
        // mm(a, b)
        assertEquals(
                2.0 * 4096 * 512 * 1408,
                OpBreakdown.productFlops("aten::mm", new long[][] {{4096, 512}, {512, 1408}}));
        // addmm(bias, a, b)
        assertEquals(
                2.0 * 8 * 16 * 4,
                OpBreakdown.productFlops("aten::addmm", new long[][] {{4}, {8, 16}, {16, 4}}));
        // through TorchScript: scalars first, out last (mm) or out first (addmm_)
        assertEquals(
                2.0 * 1024 * 512 * 50257,
                OpBreakdown.productFlops(
                        "aten::mm",
                        new long[][] {none, none, {1024, 512}, {512, 50257}, {1024, 50257}}));
        assertEquals(
                2.0 * 50257 * 1024 * 512,
                OpBreakdown.productFlops(
                        "aten::addmm_",
                        new long[][] {
                            none, none, {50257, 512}, {50257, 1024}, {1024, 512}, none, none
                        }));
        // batched: (b, m, k) x (b, k, n)
        assertEquals(
                2.0 * 6 * 5 * 7 * 3,
                OpBreakdown.productFlops("aten::bmm", new long[][] {{6, 5, 7}, {6, 7, 3}}));
        assertEquals(
                "1024 x 512 @ 512 x 50257",
                OpBreakdown.shapeLabel(
                        "aten::mm",
                        new long[][] {none, none, {1024, 512}, {512, 50257}, {1024, 50257}}));
        assertEquals("?", OpBreakdown.shapeLabel("aten::mm", new long[][] {{2, 3}, {4, 2}}));
        // not a product, or shapes that do not chain
        assertEquals(0, OpBreakdown.productFlops("aten::mul", new long[][] {{2, 3}, {3, 2}}));
        assertEquals(0, OpBreakdown.productFlops("aten::mm", new long[][] {{2, 3}, {4, 2}}));
        assertEquals(0, OpBreakdown.productFlops("aten::mm", null));
    }

    @Test
    void kindsOthersAndTheBound() {
        List<Call> calls =
                List.of(
                        // as libtorch writes them: a call after the calls it made (here with
                        // the same start and length as its one call)
                        call("aten::mm", 1, 0.0, 2.0, new long[] {4, 8}, new long[] {8, 2}),
                        call("aten::matmul", 1, 0.0, 2.0, new long[] {4, 8}, new long[] {8, 2}),
                        call("aten::_scaled_dot_product_flash_attention_for_cpu", 1, 2.0, 1.0),
                        call("aten::_softmax", 1, 3.0, 0.5),
                        call("aten::mul", 1, 3.5, 0.25),
                        call("aten::mul", 1, 3.75, 0.5));
        OpBreakdown o = OpBreakdown.of(calls, 5.0);
        assertEquals(5.0, o.stepSeconds());
        assertEquals(4.25, o.opsSeconds(), 1e-12);
        assertEquals(2.0, o.productSeconds(), 1e-12);
        assertEquals(2.0 * 4 * 8 * 2, o.productFlops());
        assertEquals(2.25, o.otherSeconds(), 1e-12);
        // largest first; matmul's self time is 0 (its mm holds the time)
        assertEquals(
                List.of(
                        new OpBreakdown.Kind(OpBreakdown.PRODUCTS, 2.0, 2.0 / 4.25),
                        new OpBreakdown.Kind(OpBreakdown.ATTENTION, 1.0, 1.0 / 4.25),
                        new OpBreakdown.Kind(OpBreakdown.OTHER, 0.75, 0.75 / 4.25),
                        new OpBreakdown.Kind(OpBreakdown.SOFTMAX, 0.5, 0.5 / 4.25)),
                o.kinds());
        assertEquals(
                List.of(
                        "aten::_scaled_dot_product_flash_attention_for_cpu",
                        "aten::mul",
                        "aten::_softmax",
                        "aten::matmul"),
                o.others().stream().map(OpBreakdown.Op::name).toList(),
                "every operator but the products, by self time");
        assertEquals(
                List.of(new OpBreakdown.Product("aten::mm", "4 x 8 @ 8 x 2", 1, 2.0, 128)),
                o.products());
        assertEquals(64e-9, o.products().get(0).gflops(), 1e-18);
        assertEquals(2, o.others().get(1).calls());
        assertEquals(0.75, o.others().get(1).seconds(), 1e-12);
        // 128 FLOPs at 64 GFLOP/s take 2e-9 s; with the other 2.25 s, 1e3 FLOPs per step reach
        // 1e3 / (2e-9 + 2.25) / 64e9
        assertEquals(1e3 / (2e-9 + 2.25) / 64e9, o.boundAt(1e3, 64), 1e-24);
    }

    @Test
    void readsLibtorchsTraceFormat(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("t.json");
        Files.writeString(
                trace,
                """
                [

                {
                  "name": "aten::mm",
                  "ph": "X",
                  "ts": 1000.000000,
                  "dur": 250.500000,
                  "tid": 1,
                  "pid": "CPU Functions",
                  "shape": [[256, 128], [128, 64]],
                  "cpu mem": "0 b",
                  "args": {}
                },

                {
                  "name": "aten::mul",
                  "ph": "X",
                  "ts": 1300.000000,
                  "dur": 100.000000,
                  "tid": 1,
                  "pid": "CPU Functions",
                  "shape": [[256, 64], []],
                  "cpu mem": "0 b",
                  "args": {}
                }
                ]
                """);
        OpBreakdown o = OpBreakdown.fromTrace(trace, 0.001);
        assertEquals(2.0 * 256 * 128 * 64, o.productFlops());
        assertEquals(250.5e-6, o.productSeconds(), 1e-12);
        assertEquals(350.5e-6, o.opsSeconds(), 1e-12);
        assertEquals(1, o.others().size());
        assertEquals("aten::mul", o.others().get(0).name());
        assertEquals(100e-6, o.others().get(0).seconds(), 1e-12);
    }
}
