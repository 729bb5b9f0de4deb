package io.github.muon4j.bench.chaos;

/** The second process of {@code bench chaos}: {@code threads} busy loops until it is killed. */
public final class BusyLoad {

    private BusyLoad() {}

    static volatile long sink;

    public static void main(String[] args) {
        int threads = Integer.parseInt(args[0]);
        for (int i = 0; i < threads; i++) {
            Thread t =
                    new Thread(
                            () -> {
                                long x = 1;
                                while (true) {
                                    x = x * 6364136223846793005L + 1442695040888963407L;
                                    if (x == 0) {
                                        sink = x;
                                    }
                                }
                            },
                            "load-" + i);
            t.start();
        }
    }
}
