package io.github.muon4j.cli;

import ai.djl.ndarray.NDManager;
import io.github.muon4j.Backend;
import io.github.muon4j.interop.HfExport;
import io.github.muon4j.interop.HfLayout;
import io.github.muon4j.interop.Safetensors;
import io.github.muon4j.train.TrainedModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j export}: a checkpoint as a Hugging Face directory (safetensors, config, tokenizer).
 */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Export a checkpoint for Hugging Face transformers (safetensors, config, tokenizer).",
            "Writes model.safetensors, config.json, generation_config.json, tokenizer.json and tokenizer_config.json.",
            "MHA + dense -> LlamaForCausalLM; MLA (dense or MoE, sigmoid router) -> DeepseekV3ForCausalLM."
        })
public final class ExportCommand implements Callable<Integer> {

    @Option(
            names = "--checkpoint",
            required = true,
            paramLabel = "RUN_OR_CKPT",
            description = "run or checkpoint directory")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(
            names = "--dtype",
            defaultValue = "f32",
            description = "f32 | bf16 | f16 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Override
    public Integer call() throws Exception {
        // a SIGTERM/SIGINT ends the command at once (exit 143/130) without a JVM crash in native
        // code
        try (io.github.muon4j.train.StopSignals signals =
                io.github.muon4j.train.StopSignals.install(System.err)) {
            return body();
        }
    }

    private Integer body() throws Exception {
        Safetensors.DType t = Safetensors.DType.parse(dtype);
        try (NDManager manager = Backend.get().newManager()) {
            TrainedModel tm = TrainedModel.load(checkpoint, manager);
            String arch = HfLayout.architecture(tm.config());
            HfExport.write(tm.model(), tm.tokenizer(), out, t);
            System.err.printf(
                    "muon4j: exported %s (step %d) as %s, %s, tokenizer %s -> %s%n",
                    tm.checkpoint().dir(),
                    tm.checkpoint().step(),
                    arch,
                    dtype,
                    tm.tokenizer().name(),
                    out);
        }
        return 0;
    }
}
