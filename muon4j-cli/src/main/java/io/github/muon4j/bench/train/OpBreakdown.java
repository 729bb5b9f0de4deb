package io.github.muon4j.bench.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one training step's time goes, by kind of libtorch operator, read from libtorch's own
 * profiler: its trace lists every operator call with its thread, start, duration (nested calls
 * inside their callers) and input shapes. Per kind, the operators' self time (a call's duration
 * less that of the calls it made), summed over threads; the matrix products' FLOPs from their
 * shapes and the wall time during which one ran; and the wall time during which any operator ran.
 *
 * <p>From these, {@link #boundAt}: the utilisation a step would reach if every matrix product ran
 * at a given rate while the other operators took the time they took here. Time outside libtorch's
 * operators (Java, the profiler's own bookkeeping) is left out, so the bound is generous.
 *
 * @param stepSeconds wall time of the profiled step (with the profiler's overhead)
 * @param opsSeconds wall time during which at least one operator ran, on any thread
 * @param productSeconds wall time during which at least one matrix product ran
 * @param productFlops FLOPs of the matrix products, 2 m k n each (times the batch for bmm)
 * @param kinds self time per kind of operator, summed over threads, largest first
 * @param products the matrix products by operator and operand shapes, by self time, largest first
 *     (at most {@link #TOP})
 * @param others the operators outside the matrix products, by self time, largest first (at most
 *     {@link #TOP})
 */
public record OpBreakdown(
        double stepSeconds,
        double opsSeconds,
        double productSeconds,
        double productFlops,
        List<Kind> kinds,
        List<Product> products,
        List<Op> others) {

    /** One kind of operator: its self time, summed over threads, and its share of all. */
    public record Kind(String kind, double seconds, double share) {}

    /** One operator: its self time summed over its calls. */
    public record Op(String name, double seconds, int calls) {}

    /**
     * The calls of one product operator at one shape, {@code "m x k @ k x n"} (batched: {@code "b x
     * m x k @ b x k x n"}): their self time and FLOPs.
     */
    public record Product(String operator, String shape, int calls, double seconds, double flops) {
        /** GFLOP/s over their self time. */
        public double gflops() {
            return flops / seconds / 1e9;
        }
    }

    /** How many operators {@link #others} lists. */
    static final int TOP = 8;

    static final String PRODUCTS = "matrix products";
    static final String ATTENTION = "attention kernel";
    static final String SOFTMAX = "softmax";
    static final String OTHER = "other operators";

    /** The products' rate over the wall time they ran, GFLOP/s. */
    public double productGflops() {
        return productSeconds > 0 ? productFlops / productSeconds / 1e9 : Double.NaN;
    }

    /** Wall time with some operator but no matrix product running. */
    public double otherSeconds() {
        return opsSeconds - productSeconds;
    }

    /**
     * The share of {@code bestGflops} that {@code flops} per step would reach if the products ran
     * at {@code bestGflops} and the rest of the operators' wall time stayed as measured: {@code
     * flops / (productFlops / best + otherSeconds) / best}.
     */
    public double boundAt(double flops, double bestGflops) {
        double best = bestGflops * 1e9;
        return flops / (productFlops / best + otherSeconds()) / best;
    }

    /** The kind of an operator, by its libtorch name. */
    static String kind(String name) {
        if (isProduct(name)) {
            return PRODUCTS;
        }
        if (name.contains("scaled_dot_product") || name.contains("flash_attention")) {
            return ATTENTION;
        }
        if (name.contains("softmax")) {
            return SOFTMAX;
        }
        return OTHER;
    }

    /** Whether an operator is a matrix product (mm, bmm, addmm, baddbmm, in place or not). */
    static boolean isProduct(String name) {
        return switch (name) {
            case "aten::mm",
                    "aten::bmm",
                    "aten::addmm",
                    "aten::addmm_",
                    "aten::baddbmm",
                    "aten::baddbmm_" ->
                    true;
            default -> false;
        };
    }

    /**
     * FLOPs of a product from its recorded shapes: 2 m k n (times the batch) for the last two
     * consecutive operands (m, k) and (k, n), or (b, m, k) and (b, k, n), whose inner dimensions
     * agree. The trace lists an operator's arguments as called: {@code mm(a, b)}, {@code addmm(c,
     * a, b)}, and through TorchScript also scalars (empty shapes) and the {@code out} array, before
     * or after the operands; 0 if no such pair.
     */
    static double productFlops(String name, long[][] shapes) {
        long[][] ab = operands(name, shapes);
        if (ab == null) {
            return 0;
        }
        long[] a = ab[0], b = ab[1];
        int r = a.length;
        double f = 2.0 * a[r - 2] * a[r - 1] * b[r - 1];
        return r == 3 ? f * a[0] : f;
    }

    /** The two operands of {@link #productFlops}, or null. */
    static long[][] operands(String name, long[][] shapes) {
        if (!isProduct(name) || shapes == null) {
            return null;
        }
        for (int i = shapes.length - 2; i >= 0; i--) {
            long[] a = shapes[i], b = shapes[i + 1];
            int r = a.length;
            if (r >= 2
                    && r <= 3
                    && b.length == r
                    && a[r - 1] == b[r - 2]
                    && (r == 2 || a[0] == b[0])) {
                return new long[][] {a, b};
            }
        }
        return null;
    }

    /** "m x k @ k x n" for a product's operands, "?" when they are not known. */
    static String shapeLabel(String name, long[][] shapes) {
        long[][] ab = operands(name, shapes);
        if (ab == null) {
            return "?";
        }
        return label(ab[0]) + " @ " + label(ab[1]);
    }

    private static String label(long[] dims) {
        StringBuilder s = new StringBuilder();
        for (long d : dims) {
            s.append(s.length() == 0 ? "" : " x ").append(d);
        }
        return s.toString();
    }

    /** One operator call of the trace; times in seconds. */
    record Call(String name, long thread, double start, double seconds, long[][] shapes) {
        double end() {
            return start + seconds;
        }
    }

    /** Reads a trace written by libtorch's profiler (a JSON array of complete events). */
    public static OpBreakdown fromTrace(Path trace, double stepSeconds) throws IOException {
        try (Reader r = Files.newBufferedReader(trace)) {
            JsonArray events = JsonParser.parseReader(r).getAsJsonArray();
            List<Call> calls = new ArrayList<>(events.size());
            for (JsonElement e : events) {
                JsonObject o = e.getAsJsonObject();
                if (!o.has("ph") || !o.get("ph").getAsString().equals("X") || !o.has("dur")) {
                    continue;
                }
                calls.add(
                        new Call(
                                o.get("name").getAsString(),
                                o.has("tid") ? o.get("tid").getAsLong() : 0,
                                o.get("ts").getAsDouble() * 1e-6,
                                o.get("dur").getAsDouble() * 1e-6,
                                shapes(o.get("shape"))));
            }
            return of(calls, stepSeconds);
        }
    }

    private static long[][] shapes(JsonElement e) {
        if (e == null || !e.isJsonArray()) {
            return null;
        }
        JsonArray a = e.getAsJsonArray();
        long[][] s = new long[a.size()][];
        for (int i = 0; i < s.length; i++) {
            JsonElement d = a.get(i);
            if (!d.isJsonArray()) {
                s[i] = new long[0];
                continue;
            }
            JsonArray dims = d.getAsJsonArray();
            s[i] = new long[dims.size()];
            for (int j = 0; j < s[i].length; j++) {
                s[i][j] = dims.get(j).getAsLong();
            }
        }
        return s;
    }

    /** The breakdown of a step's operator calls. */
    static OpBreakdown of(List<Call> calls, double stepSeconds) {
        Map<String, double[]> byKind = new HashMap<>();
        Map<String, double[]> byOp = new HashMap<>(); // name -> {self seconds, calls}
        double[] self = selfSeconds(calls);
        double flops = 0, all = 0;
        List<Call> products = new ArrayList<>();
        Map<List<String>, double[]> byShape = new HashMap<>(); // {operator, shape} -> {s, FLOPs, n}
        for (int i = 0; i < calls.size(); i++) {
            Call c = calls.get(i);
            String k = kind(c.name());
            byKind.computeIfAbsent(k, x -> new double[1])[0] += self[i];
            all += self[i];
            if (k.equals(PRODUCTS)) {
                double f = productFlops(c.name(), c.shapes());
                flops += f;
                products.add(c);
                double[] p =
                        byShape.computeIfAbsent(
                                List.of(c.name(), shapeLabel(c.name(), c.shapes())),
                                x -> new double[3]);
                p[0] += self[i];
                p[1] += f;
                p[2]++;
            } else {
                double[] op = byOp.computeIfAbsent(c.name(), x -> new double[2]);
                op[0] += self[i];
                op[1]++;
            }
        }
        List<Kind> kinds = new ArrayList<>();
        for (String k : List.of(PRODUCTS, ATTENTION, SOFTMAX, OTHER)) {
            double s = byKind.getOrDefault(k, new double[1])[0];
            kinds.add(new Kind(k, s, all > 0 ? s / all : Double.NaN));
        }
        kinds.sort(Comparator.comparingDouble(Kind::seconds).reversed());
        List<Op> others = new ArrayList<>();
        byOp.forEach((name, v) -> others.add(new Op(name, v[0], (int) v[1])));
        others.sort(Comparator.comparingDouble(Op::seconds).reversed());
        List<Product> shapes = new ArrayList<>();
        byShape.forEach(
                (key, v) ->
                        shapes.add(new Product(key.get(0), key.get(1), (int) v[2], v[0], v[1])));
        shapes.sort(Comparator.comparingDouble(Product::seconds).reversed());
        return new OpBreakdown(
                stepSeconds,
                covered(calls),
                covered(products),
                flops,
                kinds,
                List.copyOf(shapes.subList(0, Math.min(TOP, shapes.size()))),
                List.copyOf(others.subList(0, Math.min(TOP, others.size()))));
    }

    /**
     * Each call's self time: its duration less the durations of the calls directly inside it (on
     * its thread, starting and ending within it).
     */
    static double[] selfSeconds(List<Call> calls) {
        Integer[] order = new Integer[calls.size()];
        Arrays.setAll(order, i -> i);
        // by thread, then start; an enclosing call (longer) before the calls it encloses; at equal
        // start and length the later in the trace first, as libtorch writes a call when it ends,
        // after the calls it made
        Arrays.sort(
                order,
                Comparator.<Integer>comparingLong(i -> calls.get(i).thread())
                        .thenComparingDouble(i -> calls.get(i).start())
                        .thenComparing(
                                Comparator.<Integer>comparingDouble(i -> calls.get(i).seconds())
                                        .reversed())
                        .thenComparing(Comparator.<Integer>reverseOrder()));
        double[] self = new double[calls.size()];
        int[] stack = new int[calls.size()];
        int depth = 0;
        long thread = Long.MIN_VALUE;
        for (int i : order) {
            Call c = calls.get(i);
            self[i] = c.seconds();
            if (c.thread() != thread) {
                depth = 0;
                thread = c.thread();
            }
            // slack for the trace's rounding of start and duration (nanoseconds)
            while (depth > 0 && calls.get(stack[depth - 1]).end() < c.end() - 1e-8) {
                depth--;
            }
            if (depth > 0) {
                self[stack[depth - 1]] -= c.seconds();
            }
            stack[depth++] = i;
        }
        for (int i = 0; i < self.length; i++) {
            self[i] = Math.max(0, self[i]);
        }
        return self;
    }

    /** Wall time covered by at least one of the calls (the union of their intervals). */
    static double covered(List<Call> calls) {
        List<Call> sorted = new ArrayList<>(calls);
        sorted.sort(Comparator.comparingDouble(Call::start));
        if (sorted.isEmpty()) {
            return 0;
        }
        double total = 0, from = sorted.get(0).start(), to = sorted.get(0).end();
        for (Call c : sorted) {
            if (c.start() > to) { // a gap: the run so far is done
                total += to - from;
                from = c.start();
                to = c.end();
            } else {
                to = Math.max(to, c.end());
            }
        }
        return total + (to - from);
    }
}
