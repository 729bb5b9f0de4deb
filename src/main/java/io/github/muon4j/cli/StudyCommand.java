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
            "Full study: sized for about 4 hours on an idle 2-core machine, in as many sittings as you like; --quick: the same report from small runs (sized for about 20 minutes; neither time is measured yet, see REPRODUCTION.md)."
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

    @Option(names = "--data", paramLabel = "PATH", description = "training text (default: the built-in corpus)")
    String data;

    @Option(names = "--threads", defaultValue = "1", description = "CPU threads per run (0: all cores; default: ${DEFAULT-VALUE}: on a shared machine "
            + "one thread avoids oversubscription, which slowed runs here by 20x)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        Study.Settings s = quick ? Study.quick() : Study.full();
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
        Study.Result r = Study.run(user, s, cache, System.err, java.util.Set.copyOf(parts != null ? parts : Study.PARTS), reportOnly);
        StudyReport.write(r, dir, command);
        String report = Files.readString(dir.resolve("REPORT.md"));
        System.out.print(report);
        System.out.printf("report: %s (%d runs trained now, %d reused)%n", dir.resolve("REPORT.md"), cache.trained(), cache.reused());
        return 0;
    }
}
