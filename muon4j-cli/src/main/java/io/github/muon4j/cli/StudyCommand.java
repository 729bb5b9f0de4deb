package io.github.muon4j.cli;

import io.github.muon4j.experiment.Budget;
import io.github.muon4j.experiment.Plan;
import io.github.muon4j.experiment.RunStore;
import io.github.muon4j.experiment.Shard;
import io.github.muon4j.experiment.Study;
import io.github.muon4j.experiment.StudyReport;
import io.github.muon4j.train.TrainConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j study}: the horizon-matched Muon-vs-AdamW study, as a fixed run list that processes
 * share.
 */
@Command(
        name = "study",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "The Muon-vs-AdamW study, horizon-matched: at each model size and data budget every arm trains a whole schedule",
            "ending at that budget; the speedup is the data (and FLOPs) AdamW needs to reach Muon's final loss.",
            "The study is a fixed list of runs (--plan): lr x weight-decay grids and the non-matrix rate per arm at the two",
            "smallest budgets (tuning seed 100), a local search around a transfer rule at larger budgets, 4 scoring seeds per budget, the frontier and a",
            "stability grid. Every finished run leaves one JSON summary in --results/runs; a run whose summary exists is never",
            "trained again, and REPORT.md, summary.json and the figures are rebuilt from the summaries (--report-only).",
            "Processes share a study through its results directory: --shard I/N trains runs I, I+N, ... (then helps with any",
            "other), claiming each run with a lock file so that no two processes train one run; --jobs N starts N such",
            "processes here. See README, \"The study\", for a Slurm job array."
        })
public final class StudyCommand implements Callable<Integer> {

    @Option(
            names = "--quick",
            description =
                    "small runs, smaller sizes and grids: the same report shape (sized for 20 minutes on 2 cores)")
    boolean quick;

    @Option(
            names = "--tiny",
            hidden = true,
            description = "a study of seconds (tests, the Slurm integration test)")
    boolean tiny;

    @Option(names = "--plan", description = "print the run list (index, state, name, run) and exit")
    boolean plan;

    @Option(
            names = "--shard",
            paramLabel = "I/N",
            description =
                    "train runs I, I+N, I+2N, ... (0 <= I < N), then help with the rest; no report")
    String shard;

    @Option(
            names = "--jobs",
            paramLabel = "N",
            description =
                    "processes here, as shards 0/N..N-1/N (default: 2 when the machine has at least twice "
                            + "--threads cores, else 1)")
    Integer jobs;

    @Option(
            names = "--report-only",
            description =
                    "train nothing: rebuild the report and figures from the summaries in --results")
    boolean reportOnly;

    @Option(
            names = "--json",
            description = "print a JSON object with the speedup table as the last line")
    boolean json;

    @Option(
            names = "--budget",
            description =
                    "start no new run after this much time (20m, 1.5h); the report covers what finished")
    String budget;

    @Option(
            names = "--results",
            paramLabel = "DIR",
            description =
                    "run summaries (DIR/runs), report and figures (default: results/horizon, or "
                            + "results/horizon-quick)")
    Path results;

    @Option(
            names = "--scratch",
            paramLabel = "DIR",
            description =
                    "where runs train before they are summarized and deleted (default: runs/study)")
    Path scratch;

    @Option(
            names = "--data",
            paramLabel = "PATH",
            description =
                    "training text: a path, or builtin:europarl, builtin:prose (default: builtin:europarl)")
    String data;

    @Option(
            names = "--threads",
            defaultValue = "1",
            description = "CPU threads per run (0: all cores; default: ${DEFAULT-VALUE})")
    Integer threads;

    @Option(
            names = "--poll",
            defaultValue = "20",
            hidden = true,
            description = "seconds between looks when every run waits for another process")
    double poll;

    @Override
    public Integer call() throws Exception {
        return io.github.muon4j.train.StopSignals.runStoppable(
                System.err, this::run); // SIGTERM/SIGINT: stop cleanly
    }

    private Integer run() throws Exception {
        CompareCommand.require(!(quick && tiny), "--quick and --tiny: give one of them");
        Study.Settings s = tiny ? Study.tiny() : quick ? Study.quick() : Study.full();
        Path dir = results != null ? results : Path.of("results", s.name());
        CompareCommand.require(threads >= 0, "--threads must be >= 0");
        CompareCommand.require(poll > 0, "--poll must be positive");
        Shard one = shard == null ? null : Shard.parse(shard);
        int cores = Runtime.getRuntime().availableProcessors();
        int n = jobs != null ? jobs : threads > 0 && cores >= 2 * threads ? 2 : 1;
        CompareCommand.require(n >= 1 && n <= 64, "--jobs must be between 1 and 64");
        CompareCommand.require(one == null || jobs == null, "--shard and --jobs: give one of them");
        CompareCommand.require(
                !(reportOnly && (one != null || plan)),
                "--report-only trains nothing: it takes neither --shard nor --plan");
        TrainConfig user = TrainConfig.defaults();
        if (data == null && (reportOnly || plan)) {
            data = dataOfSummaries(dir.resolve("runs"));
        }
        if (data != null) {
            user =
                    user.overlay(
                            "{\"data\": " + new com.google.gson.Gson().toJson(data) + "}",
                            "--data");
        }
        user = user.overlay("{\"threads\": " + threads + "}", "--threads");
        Plan p = new Plan(user, s);
        RunStore store =
                new RunStore(
                        dir.resolve("runs"),
                        scratch != null ? scratch : Path.of("runs", "study"),
                        System.err);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--results: " + dir + " is not a directory");
        }
        store.refresh();
        if (plan) {
            printPlan(p, store, one, System.out);
            return 0;
        }
        if (budget != null) {
            Budget b = Budget.parse(budget);
            CompareCommand.require(
                    b.isTime(),
                    "--budget '" + budget + "': the study takes a time budget (90m, 2h)");
            store.deadline(System.nanoTime() + (long) (b.minutes() * 60e9));
        }
        if (!reportOnly) {
            if (data != null) {
                Study.checkData(
                        p); // a bad --data fails here, in one line, before any process starts
            }
            Files.createDirectories(dir);
            if (one != null) {
                Shard.Progress g = one.run(p, store, System.err, poll);
                System.err.printf(
                        "study: shard %s: %d runs trained here; %d of %d runs of the study finished%n",
                        shard, g.trainedHere(), g.finished(), g.total());
                return 0;
            }
            List<StudyJob> children = new ArrayList<>();
            for (int i = 1; i < n; i++) {
                children.add(
                        StudyJob.start(childArgs(i + "/" + n), "[shard " + i + "/" + n + "] "));
            }
            try {
                new Shard(0, n).run(p, store, System.err, poll);
            } finally {
                var signals = io.github.muon4j.train.StopSignals.active();
                for (StudyJob c : children) {
                    if (signals != null && signals.requested()) {
                        c.process().destroy(); // a stop reached only this process: pass it on
                        // (SIGTERM)
                    }
                    int rc = c.waitFor();
                    if (rc != 0) {
                        System.err.printf(
                                "muon4j: a study process exited with %d; the runs it left are trained by the next `study`%n",
                                rc);
                    }
                }
            }
            store.refresh();
        }
        StudyReport.Output out = StudyReport.write(p, store, dir, commandLine(s));
        System.out.print(out.report());
        System.out.printf(
                "report: %s (%d runs trained now; %d of %d runs of the study finished)%n",
                dir.resolve("REPORT.md"),
                store.trained(),
                Shard.finished(p, store),
                p.slots().size());
        if (json) {
            System.out.println(out.json());
        }
        return 0;
    }

    private String commandLine(Study.Settings s) {
        return "./muon4j study"
                + (quick ? " --quick" : "")
                + (tiny ? " --tiny" : "")
                + (data != null ? " --data " + data : "");
    }

    static void printPlan(Plan p, RunStore store, Shard only, PrintStream out)
            throws java.io.IOException {
        Plan.Lookup l = Shard.lookup(p, store);
        Study.Settings s = p.settings();
        out.printf(
                "# study %s: %d runs; data %s; %d x %d tokens per step; budgets (steps) %s; sizes:%n",
                s.name(),
                p.slots().size(),
                p.user().data() == null ? "the built-in corpus" : p.user().data(),
                s.batch(),
                s.seqLen(),
                s.budgets());
        int last = s.budgets().get(s.armBudgets() - 1);
        for (Study.Size z : s.sizes()) {
            out.printf(
                    "#   %s: %d layers x %d wide, %.1f tokens per parameter at the largest budget (all parameters, embeddings included)%n",
                    z.name(), z.layers(), z.dModel(), Study.tokensPerParam(p.user(), s, z, last));
        }
        out.println("# index\tstate\tslot\trun");
        for (Plan.Slot slot : p.slots()) {
            if (only != null && !only.owns(slot)) {
                continue;
            }
            Plan.Run r = p.resolve(slot, l);
            String state, run;
            if (r == null) {
                state = "waiting";
                run = "settings from " + slot.waitsFor();
            } else {
                state =
                        l.get(r.spec()) != null
                                ? "done"
                                : store.claimed(r.key()) ? "training" : "ready";
                run = r.label() + " [" + r.key() + "]";
            }
            out.printf("%d\t%s\t%s\t%s%n", slot.index(), state, slot.id(), run);
        }
    }

    /**
     * The training text the summaries in {@code runs} were trained on (their study spec's "data"),
     * so that {@code --report-only} from a clone needs no --data; null when none says.
     */
    static String dataOfSummaries(Path runs) throws java.io.IOException {
        if (!Files.isDirectory(runs)) {
            return null;
        }
        try (var files = Files.list(runs)) {
            for (Path f :
                    files.filter(
                                    q ->
                                            q.getFileName().toString().endsWith(".json")
                                                    && !q.getFileName().toString().startsWith("."))
                            .sorted()
                            .toList()) {
                com.google.gson.JsonObject o =
                        com.google.gson.JsonParser.parseString(Files.readString(f))
                                .getAsJsonObject();
                if (o.has("spec") && o.get("spec").isJsonObject()) {
                    com.google.gson.JsonElement d = o.getAsJsonObject("spec").get("data");
                    return d == null || d.isJsonNull() ? null : d.getAsString();
                }
            }
        }
        return null;
    }

    /** This command's options for shard {@code i/n}. */
    private List<String> childArgs(String shardSpec) {
        List<String> a = new ArrayList<>(List.of("study"));
        if (quick) {
            a.add("--quick");
        }
        if (tiny) {
            a.add("--tiny");
        }
        if (budget != null) {
            a.addAll(List.of("--budget", budget));
        }
        if (results != null) {
            a.addAll(List.of("--results", results.toString()));
        }
        if (scratch != null) {
            a.addAll(List.of("--scratch", scratch.toString()));
        }
        if (data != null) {
            a.addAll(List.of("--data", data));
        }
        a.addAll(
                List.of(
                        "--threads",
                        threads.toString(),
                        "--poll",
                        Double.toString(poll),
                        "--shard",
                        shardSpec));
        return a;
    }
}
