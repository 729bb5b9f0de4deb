package io.github.muon4j.cli;

import io.github.muon4j.experiment.Budget;
import io.github.muon4j.experiment.RunCache;
import io.github.muon4j.experiment.Study;
import io.github.muon4j.experiment.StudyReport;
import io.github.muon4j.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j study}: the whole Muon-vs-AdamW study, resumable, its report regenerated from run summaries. */
@Command(
        name = "study",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "The Muon-vs-AdamW study: sizes, batch-size frontier, stability, architecture grid (resumable).",
            "Muon vs AdamW at three model sizes (each tuned by the compare protocol, 3 seeds), the batch-size frontier",
            "(4 batch sizes, both optimizers), a 112-run stability grid (learning rate x seed x optimizer) and",
            "MHA/MLA x dense/MoE x Muon/AdamW. Each finished run leaves one small JSON summary in --results; runs",
            "whose summary exists are never trained again, and REPORT.md is regenerated from the summaries.",
            "Full study: sized for about 4 hours on an idle 2-core machine, in as many sittings as you like; --quick: the same report from small runs (sized for about 20 minutes: measured 17 minutes with --jobs 2 while other work shared the machine; the full study is estimated at about 2.9 hours, see REPRODUCTION.md).",
            "With --jobs 2 (the default on 2 or more cores at one thread per run) a second muon4j process trains sizes M and L while",
            "this one trains size S, stability, the frontier and the grid; a last pass trains whatever is still missing."
        })
public final class StudyCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "small runs: the same report shape (sized for about 20 minutes on an idle 2-core machine)")
    boolean quick;

    @Option(names = "--budget", description = "stop starting new runs after this much time (20m, 1.5h); the report covers what finished")
    String budget;

    @Option(names = "--parts", split = ",", description = "train only these parts (sizeS, sizeM, stability, frontier, sizeL, arch; default: all); "
            + "the others are read from the summaries, so parallel processes can share the study")
    java.util.List<String> parts;

    @Option(names = "--report-only", description = "train nothing: regenerate the report from the summaries there are")
    boolean reportOnly;

    @Option(names = "--results", paramLabel = "DIR", description = "run summaries and the report (default: results/study, or results/study-quick)")
    Path results;

    @Option(names = "--scratch", paramLabel = "DIR", description = "where runs train before they are summarized and deleted (default: runs/study)")
    Path scratch;

    @Option(names = "--data", paramLabel = "PATH", description = "training text: a path, or builtin:europarl, builtin:prose (default: builtin:europarl)")
    String data;

    @Option(names = "--threads", defaultValue = "1", description = "CPU threads per run (0: all cores; default: ${DEFAULT-VALUE}: on a shared machine "
            + "one thread avoids oversubscription, which slowed runs here by 20x)")
    Integer threads;

    @Option(names = "--jobs", paramLabel = "N", description = "processes sharing the study: 1 or 2 (default: 2 when the machine has at least twice --threads cores, else 1)")
    Integer jobs;

    @Override
    public Integer call() throws Exception {
        return io.github.muon4j.train.StopSignals.runStoppable(System.err, this::run); // SIGTERM/SIGINT: stop cleanly
    }

    private Integer run() throws Exception {
        Study.Settings s = quick ? Study.quick() : Study.full();
        int cores = Runtime.getRuntime().availableProcessors();
        int n = jobs != null ? jobs : threads != null && threads > 0 && cores >= 2 * threads ? 2 : 1;
        CompareCommand.require(n == 1 || n == 2, "--jobs must be 1 or 2");
        Path dir = results != null ? results : Path.of(quick ? "results/study-quick" : "results/study");
        Path tmp = scratch != null ? scratch : Path.of("runs/study");
        RunCache cache = new RunCache(dir.resolve("runs"), tmp, false, System.err);
        if (parts != null) {
            for (String p : parts) {
                CompareCommand.require(Study.PARTS.contains(p), "--parts: '" + p + "' is not one of " + String.join(", ", Study.PARTS));
            }
        }
        if (budget != null) {
            Budget b = Budget.parse(budget);
            if (!b.isTime()) {
                throw new IllegalArgumentException("--budget '" + budget + "': the study takes a time budget (90m, 2h)");
            }
            cache.deadline(System.nanoTime() + (long) (b.minutes() * 60e9));
        }
        TrainConfig user = TrainConfig.defaults();
        if (data != null) {
            user = user.overlay("{\"data\": " + new com.google.gson.Gson().toJson(data) + "}", "--data");
        }
        if (threads != null) {
            CompareCommand.require(threads >= 0, "--threads must be >= 0");
            user = user.overlay("{\"threads\": " + threads + "}", "--threads");
        }
        Files.createDirectories(dir);
        String command = "./muon4j study" + (quick ? " --quick" : "") + (data != null ? " --data " + data : "");
        java.util.Set<String> selected = java.util.Set.copyOf(parts != null ? parts : Study.PARTS);
        java.util.List<java.util.Set<String>> split = Study.split(selected, reportOnly ? 1 : n);
        if (split.size() == 2) {
            // the second job's parts in a child process; this one trains the first job's, then waits
            StudyJob child = StudyJob.start(childArgs(split.get(1)), "[job 2] ");
            try {
                Study.run(user, s, cache, System.err, split.get(0), false);
            } finally {
                var signals = io.github.muon4j.train.StopSignals.active();
                if (signals != null && signals.requested()) {
                    child.process().destroy(); // a stop reached only this process: pass it on (SIGTERM)
                }
                int rc = child.waitFor();
                if (rc != 0) {
                    System.err.printf("muon4j: the second study job exited with %d; its missing runs are trained here%n", rc);
                }
            }
        }
        // the last pass: reads every finished run, trains what is still missing of the selected parts
        Study.Result r = Study.run(user, s, cache, System.err, selected, reportOnly);
        StudyReport.write(r, dir, command);
        String report = Files.readString(dir.resolve("REPORT.md"));
        System.out.print(report);
        System.out.printf("report: %s (%d runs trained now, %d reused)%n", dir.resolve("REPORT.md"), cache.trained(), cache.reused());
        return 0;
    }

    /** This command's options for the second job: the same study, its parts, one job, no report of its own. */
    private java.util.List<String> childArgs(java.util.Set<String> childParts) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("study"));
        if (quick) {
            a.add("--quick");
        }
        if (budget != null) {
            a.addAll(java.util.List.of("--budget", budget));
        }
        if (results != null) {
            a.addAll(java.util.List.of("--results", results.toString()));
        }
        if (scratch != null) {
            a.addAll(java.util.List.of("--scratch", scratch.toString()));
        }
        if (data != null) {
            a.addAll(java.util.List.of("--data", data));
        }
        if (threads != null) {
            a.addAll(java.util.List.of("--threads", threads.toString()));
        }
        a.addAll(java.util.List.of("--parts", String.join(",", Study.PARTS.stream().filter(childParts::contains).toList()), "--jobs", "1"));
        return a;
    }
}
