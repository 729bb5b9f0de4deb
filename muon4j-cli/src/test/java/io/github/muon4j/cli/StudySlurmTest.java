package io.github.muon4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny study run as a two-task Slurm job array ({@code sbatch --array=0-1}) on a real Slurm: each
 * task is {@code study --shard $SLURM_ARRAY_TASK_ID/2} against one results directory. Checks that
 * the study finishes, that every run was trained exactly once between the two tasks, and that both
 * tasks trained. CI starts a one-node Slurm first ({@code .ci/slurm-up}); elsewhere the test is
 * skipped, saying why.
 */
class StudySlurmTest {

    static boolean slurmTakesJobs() {
        try {
            Process p =
                    new ProcessBuilder("sinfo", "-h", "-o", "%T").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            return p.waitFor(20, TimeUnit.SECONDS)
                    && p.exitValue() == 0
                    && out.matches("(?s).*\\b(idle|mixed|allocated)\\b.*");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void tinyStudyRunsAsATwoTaskJobArray(@TempDir Path dir) throws Exception {
        assumeTrue(
                slurmTakesJobs(),
                "no Slurm here (sbatch/sinfo missing or no node takes jobs): run .ci/slurm-up as root to start a one-node Slurm");
        Path results = dir.resolve("results"), cache = dir.resolve("cache");
        List<String> java =
                StudyJob.command(
                        List.of(
                                "study",
                                "--tiny",
                                "--results",
                                results.toString(),
                                "--scratch",
                                dir.resolve("scratch-$SLURM_ARRAY_TASK_ID").toString(),
                                "--poll",
                                "1",
                                "--shard",
                                "SHARD"));
        StringBuilder cmd = new StringBuilder();
        for (String a : java) {
            cmd.append(
                            a.equals("SHARD")
                                    ? "\"$SLURM_ARRAY_TASK_ID/2\""
                                    : a.contains("$SLURM")
                                            ? "\"" + a + "\""
                                            : "'" + a.replace("'", "'\\''") + "'")
                    .append(' ');
        }
        Path script = dir.resolve("study-array.sh");
        Files.writeString(
                script, "#!/bin/bash\nset -e\nexport MUON4J_CACHE='" + cache + "'\n" + cmd + "\n");
        Process sb =
                new ProcessBuilder(
                                "sbatch",
                                "--array=0-1",
                                "--wait",
                                "--cpus-per-task=1",
                                "-o",
                                dir.resolve("task-%a.log").toString(),
                                script.toString())
                        .redirectErrorStream(true)
                        .start();
        String sbOut = new String(sb.getInputStream().readAllBytes());
        assertTrue(sb.waitFor(15, TimeUnit.MINUTES), "the job array did not finish in 15 minutes");
        String log0 = Files.readString(dir.resolve("task-0.log")),
                log1 = Files.readString(dir.resolve("task-1.log"));
        assertEquals(
                0,
                sb.exitValue(),
                "sbatch: " + sbOut + "\ntask 0:\n" + tail(log0) + "\ntask 1:\n" + tail(log1));
        Map<String, Integer> trained = new HashMap<>();
        int[] perTask = new int[2];
        Pattern p = Pattern.compile("^\\s*train \\S+ \\[([0-9a-f]{12})\\]", Pattern.MULTILINE);
        String[] logs = {log0, log1};
        for (int t = 0; t < 2; t++) {
            Matcher m = p.matcher(logs[t]);
            while (m.find()) {
                trained.merge(m.group(1), 1, Integer::sum);
                perTask[t]++;
            }
        }
        List<String> twice =
                trained.entrySet().stream()
                        .filter(e -> e.getValue() > 1)
                        .map(Map.Entry::getKey)
                        .collect(Collectors.toList());
        assertEquals(new ArrayList<String>(), twice, "runs trained by both tasks");
        assertTrue(
                perTask[0] > 0 && perTask[1] > 0,
                "both tasks trained: " + perTask[0] + ", " + perTask[1]);
        Cli.Outcome report =
                Cli.run(cache, "study", "--tiny", "--report-only", "--results", results.toString());
        assertEquals(0, report.code());
        Matcher done =
                Pattern.compile("(\\d+) of (\\d+) runs of the study finished")
                        .matcher(report.out());
        assertTrue(done.find(), report.out());
        assertEquals(done.group(2), done.group(1), "every run of the study finished");
        try (var files = Files.list(results.resolve("runs"))) {
            assertEquals(
                    trained.size(),
                    files.filter(f -> f.toString().endsWith(".json")).count(),
                    "one summary per trained run");
        }
    }

    private static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }
}
