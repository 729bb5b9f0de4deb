package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.github.muon4j.train.TrainConfig;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardTest {

    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void shardsSplitThePlanIntoDisjointPartsThatCoverEveryRun() {
        Plan plan = new Plan(TrainConfig.defaults(), Study.full());
        for (int n = 1; n <= 5; n++) {
            Set<Integer> seen = new HashSet<>();
            int total = 0;
            for (int i = 0; i < n; i++) {
                for (Plan.Slot s : new Shard(i, n).of(plan)) {
                    assertTrue(seen.add(s.index()), "slot " + s.index() + " in two shards of " + n);
                    total++;
                }
            }
            assertEquals(plan.slots().size(), total);
            assertEquals(plan.slots().size(), seen.size());
        }
        assertEquals(new Shard(1, 2), Shard.parse("1/2"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("2/2"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("x"));
    }

    /**
     * A training stand-in: a loss from the key (so that tuning picks some point), counted per key.
     */
    static RunStore.Training fake(Map<String, AtomicInteger> count) {
        return (label, key, c, dir) -> {
            count.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            Thread.onSpinWait();
            double loss = 2 + Integer.parseInt(key.substring(0, 4), 16) / 65536.0;
            return new RunSummary(
                    key,
                    label,
                    new JsonObject(),
                    null,
                    1,
                    new double[] {c.steps()},
                    new double[] {c.steps()},
                    new double[] {0},
                    new double[] {loss},
                    new double[] {5.5},
                    false,
                    false,
                    0,
                    new double[] {0, 0},
                    "",
                    null);
        };
    }

    @Test
    void twoShardsSharingAResultsDirectoryTrainEveryRunOnceAndNoRunTwice(@TempDir Path dir)
            throws Exception {
        Plan plan = new Plan(TrainConfig.defaults(), Study.full());
        Map<String, AtomicInteger> count = new ConcurrentHashMap<>();
        Path runs = dir.resolve("runs");
        Thread[] t = new Thread[2];
        Exception[] failed = new Exception[1];
        for (int i = 0; i < 2; i++) {
            Shard shard = new Shard(i, 2);
            RunStore store =
                    new RunStore(runs, dir.resolve("scratch"), QUIET).training(fake(count));
            t[i] =
                    new Thread(
                            () -> {
                                try {
                                    shard.run(plan, store, QUIET, 0.02);
                                } catch (Exception e) {
                                    failed[0] = e;
                                }
                            });
            t[i].start();
        }
        for (Thread x : t) {
            x.join(120_000);
        }
        assertEquals(null, failed[0]);
        RunStore check = new RunStore(runs, dir.resolve("scratch"), QUIET);
        check.refresh();
        assertEquals(plan.slots().size(), Shard.finished(plan, check), "every slot finished");
        Set<String> keys = new HashSet<>();
        Plan.Lookup l = Shard.lookup(plan, check);
        for (Plan.Slot s : plan.slots()) {
            keys.add(plan.resolve(s, l).key());
        }
        assertEquals(keys, count.keySet(), "trained exactly the plan's runs");
        count.forEach(
                (k, v) -> assertEquals(1, v.get(), "run " + k + " trained " + v.get() + " times"));
        try (var files = Files.list(runs)) {
            assertEquals(
                    keys.size(),
                    files.filter(f -> f.toString().endsWith(".json")).count(),
                    "one summary per run, no temporary files left");
        }
    }

    @Test
    void aClaimFileLeftByACrashedProcessDoesNotBlockTheRun(@TempDir Path dir) throws Exception {
        Plan plan = new Plan(TrainConfig.defaults(), Study.tiny());
        Plan.Run r = plan.resolve(plan.slots().get(0), x -> null);
        Path claims = dir.resolve("runs").resolve(".claims");
        Files.createDirectories(claims);
        Files.writeString(
                claims.resolve(r.key() + ".lock"),
                "12345@crashed-host\n"); // its lock died with its process
        Map<String, AtomicInteger> count = new ConcurrentHashMap<>();
        RunStore store =
                new RunStore(dir.resolve("runs"), dir.resolve("scratch"), QUIET)
                        .training(fake(count));
        assertEquals(
                RunStore.Outcome.TRAINED,
                store.train(r.label(), r.key(), plan.config(r), r.json()));
        assertEquals(
                RunStore.Outcome.ALREADY_DONE,
                store.train(r.label(), r.key(), plan.config(r), r.json()));
        assertEquals(1, count.get(r.key()).get());
    }
}
