package io.github.muon4j.model;

import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import io.github.muon4j.Backend;

public class ScratchOps {
    interface Op { void run(NDManager s, NDArray x); }
    static void time(String name, NDManager m, NDArray x, Op op) {
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            try (NDManager s = m.newSubManager()) { op.run(s, x); }
            if (i >= 3) System.out.println(name + " " + (System.nanoTime() - t0) / 1e6 + " ms");
        }
    }
    public static void main(String[] a) {
        Backend.get();
        try (NDManager m = Backend.get().newManager()) {
            NDArray x = m.randomNormal(new Shape(2, 4, 8, 24));
            time("split", m, x, (s, y) -> { NDList l = y.split(new long[]{8}, 3); l.attach(s); });
            time("splitSections", m, x, (s, y) -> { NDList l = y.split(2, 0); l.attach(s); });
            time("concat", m, x, (s, y) -> { NDArray c = NDArrays.concat(new NDList(y, y), 3); c.attach(s); });
            time("broadcast", m, x, (s, y) -> { NDArray c = y.get("..., 0:1, :, :").broadcast(2, 4, 8, 24); c.attach(s); });
            time("argsort", m, x, (s, y) -> { NDArray c = y.flatten().argSort(); c.attach(s); });
            time("mul", m, x, (s, y) -> { NDArray c = y.mul(y); c.attach(s); });
            time("toLong", m, x, (s, y) -> { NDArray c = y.flatten().argSort(); c.attach(s); c.toLongArray(); });
            time("onehot", m, x, (s, y) -> { NDArray c = y.flatten().argSort().oneHot(10); c.attach(s); });
        }
    }
}
