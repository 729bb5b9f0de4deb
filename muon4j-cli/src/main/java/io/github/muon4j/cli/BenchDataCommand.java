package io.github.muon4j.cli;

import io.github.muon4j.bench.data.DataBench;
import io.github.muon4j.bench.data.DataBenchReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code bench data}: tokenization MB/s and batch assembly rate ({@link DataBench}). */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        description =
                "Tokenization MB/s per tokenizer on the built-in corpus; batch assembly rate.")
public final class BenchDataCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        System.out.print(DataBenchReport.markdown(DataBench.run()));
        return 0;
    }
}
