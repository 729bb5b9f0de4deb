package io.github.muon4j.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One of N processes sharing a study: it owns the plan's slots I, I+N, I+2N, ... ({@code I} from 0,
 * as Slurm's {@code $SLURM_ARRAY_TASK_ID} of {@code --array=0-(N-1)}). It trains its own slots in
 * plan order, always going back to the earliest one that has become trainable; when none of its own
 * is trainable (they wait for tuning runs, or another process holds them) it trains any unclaimed
 * trainable slot of the plan, so an array finishes even when some of its tasks never start; it
 * returns when the whole plan is finished (or at the store's deadline).
 */
public record Shard(int index, int count) {

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException(
                    "--shard: need I/N with 0 <= I < N (got " + index + "/" + count + ")");
        }
    }

    /** Parses {@code I/N}. */
    public static Shard parse(String s) {
        String[] p = s.split("/");
        try {
            if (p.length == 2) {
                return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("--shard: '" + s + "' is not I/N (for example 0/2)");
    }

    public boolean owns(Plan.Slot slot) {
        return slot.index() % count == index;
    }

    public List<Plan.Slot> of(Plan plan) {
        return plan.slots().stream().filter(this::owns).toList();
    }

    /** What a finished pass left. */
    public record Progress(int finished, int total, int trainedHere) {
        public boolean complete() {
            return finished == total;
        }
    }

    /** The lookup of a plan's finished runs in a store. */
    public static Plan.Lookup lookup(Plan plan, RunStore store) {
        return r -> store.get(plan.key(r));
    }

    /** How many of the plan's slots are finished. */
    public static int finished(Plan plan, RunStore store) {
        Plan.Lookup l = lookup(plan, store);
        int n = 0;
        for (Plan.Slot s : plan.slots()) {
            Plan.Run r = plan.resolve(s, l);
            if (r != null && l.get(r.spec()) != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Trains this shard's slots, then helps with the rest, until the plan is finished or the
     * deadline.
     *
     * @param pollSeconds how long to wait when every unfinished slot waits for another process
     */
    public Progress run(Plan plan, RunStore store, PrintStream log, double pollSeconds)
            throws IOException, InterruptedException {
        Plan.Lookup l = lookup(plan, store);
        List<Plan.Slot> mine = of(plan);
        List<Plan.Slot> rest = new ArrayList<>(plan.slots());
        rest.removeAll(mine);
        java.util.Set<Integer> done = new java.util.HashSet<>();
        int here = 0;
        long lastNote = 0;
        while (!store.pastDeadline()) {
            store.refresh();
            if (trainFirst(plan, store, l, mine, log, done)
                    || trainFirst(plan, store, l, rest, log, done)) {
                here++;
                continue;
            }
            int finished = finished(plan, store);
            if (finished == plan.slots().size()) {
                break;
            }
            if (System.nanoTime() - lastNote > 600e9) {
                log.printf(
                        "study: shard %d/%d waits (%d of %d runs finished; the rest wait for runs other processes are training)%n",
                        index, count, finished, plan.slots().size());
                lastNote = System.nanoTime();
            }
            Thread.sleep((long) (pollSeconds * 1000));
        }
        return new Progress(finished(plan, store), plan.slots().size(), here);
    }

    /**
     * Trains the first trainable, unfinished, unclaimed slot of the list; false if there is none.
     */
    private static boolean trainFirst(
            Plan plan,
            RunStore store,
            Plan.Lookup l,
            List<Plan.Slot> slots,
            PrintStream log,
            java.util.Set<Integer> done)
            throws IOException {
        for (Plan.Slot s : slots) {
            if (store.pastDeadline()) {
                return false;
            }
            if (done.contains(s.index())) {
                continue;
            }
            Plan.Run r = plan.resolve(s, l);
            if (r == null) {
                continue;
            }
            if (l.get(r.spec()) != null) {
                done.add(s.index());
                continue;
            }
            if (store.train(r.label(), r.key(), plan.config(r), r.json())
                    == RunStore.Outcome.TRAINED) {
                return true;
            }
        }
        return false;
    }
}
