package io.github.muon4j.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import io.github.muon4j.infer.Generator;
import io.github.muon4j.infer.SamplingConfig;
import io.github.muon4j.train.TrainedModel;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code muon4j generate}: streams text from a checkpoint, decoding with the KV cache. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        description = "Generate text from a checkpoint (KV-cache decoding).")
public final class GenerateCommand implements Callable<Integer> {

    @Option(
            names = "--checkpoint",
            required = true,
            paramLabel = "DIR",
            description = "checkpoint or run directory")
    Path checkpoint;

    @Option(names = "--prompt", required = true, description = "text to continue")
    String prompt;

    @Option(
            names = "--max-tokens",
            defaultValue = "100",
            description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(
            names = "--temperature",
            defaultValue = "0.8",
            description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(
            names = "--top-k",
            defaultValue = "40",
            description = "0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(
            names = "--top-p",
            defaultValue = "1.0",
            description = "nucleus sampling threshold (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(
            names = "--seed",
            defaultValue = "0",
            description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() throws Exception {
        // a SIGTERM/SIGINT ends the command at once (exit 143/130) without a JVM crash in native
        // code
        try (io.github.muon4j.train.StopSignals signals =
                io.github.muon4j.train.StopSignals.install(System.err)) {
            return body();
        }
    }

    private Integer body() {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("--max-tokens must be at least 1");
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (NDManager manager = Backend.get().newManager()) {
            TrainedModel tm = TrainedModel.load(checkpoint, manager);
            int[] promptIds = tm.tokenizer().encode(prompt);
            if (promptIds.length == 0) {
                throw new IllegalArgumentException("--prompt is empty");
            }
            int room = tm.config().contextLength() - promptIds.length;
            if (room < 1) {
                throw new IllegalArgumentException(
                        "--prompt is "
                                + promptIds.length
                                + " tokens, longer than the context of "
                                + tm.config().contextLength());
            }
            int n = Math.min(maxTokens, room);
            SamplingConfig s =
                    (temperature <= 0
                                    ? SamplingConfig.greedy()
                                    : SamplingConfig.of(temperature, topK, topP, seed))
                            .withStopToken(tm.tokenizer().eotToken());
            Generator g = new Generator(tm.model());
            List<Integer> ids = new ArrayList<>();
            StringBuilder shown = new StringBuilder();
            out.print(prompt);
            int[] result =
                    g.generate(
                            promptIds,
                            n,
                            s,
                            t -> {
                                ids.add(t);
                                // decode the whole continuation and print what is new: BPE pieces
                                // and UTF-8 bytes
                                // that straddle tokens come out whole
                                String text =
                                        tm.tokenizer()
                                                .decode(
                                                        ids.stream()
                                                                .mapToInt(Integer::intValue)
                                                                .toArray());
                                int safe =
                                        text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
                                if (safe > shown.length()) {
                                    out.print(text.substring(shown.length(), safe));
                                    shown.setLength(0);
                                    shown.append(text, 0, safe);
                                }
                            });
            String full = tm.tokenizer().decode(result);
            if (full.length() > shown.length()) {
                out.print(full.substring(shown.length()));
            }
            out.println();
            Generator.Stats st = g.lastStats();
            System.err.printf(
                    "muon4j: %d tokens, decode %.1f tokens/s%n",
                    result.length, st.decodeTokensPerSecond());
            if (json) {
                JsonObject o = new JsonObject();
                o.addProperty("prompt", prompt);
                com.google.gson.JsonArray pa = new com.google.gson.JsonArray();
                for (int t : promptIds) {
                    pa.add(t);
                }
                o.add("prompt_ids", pa);
                com.google.gson.JsonArray ia = new com.google.gson.JsonArray();
                for (int t : result) {
                    ia.add(t);
                }
                o.add("ids", ia);
                o.addProperty("text", full);
                o.addProperty("tokens", result.length);
                o.addProperty("decode_tokens_per_s", st.decodeTokensPerSecond());
                out.println(o);
            }
        }
        return 0;
    }
}
