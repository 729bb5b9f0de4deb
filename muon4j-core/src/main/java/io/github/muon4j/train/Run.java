package io.github.muon4j.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import io.github.muon4j.Backend;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.infer.Generator;
import io.github.muon4j.infer.SamplingConfig;
import io.github.muon4j.interop.CheckpointTensors;
import io.github.muon4j.interop.HfImport;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.MuonWithAdamW;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One training run: its configuration, model, optimizer, data and run directory, and the progress
 * counters a checkpoint holds. Built fresh by {@link #start} or from a checkpoint by {@link
 * #resume}.
 */
public final class Run implements AutoCloseable {

    private final TrainConfig config;
    private final ModelConfig modelConfig;
    private final Tokenizer tokenizer;
    private final Path out;
    private final NDManager manager;
    private final DecoderLM model;
    private final MuonWithAdamW optimizer;
    private final LrSchedule matrixLr;
    private final LrSchedule otherLr;
    private final LrSchedule.AtStep matrixApplied;
    private final LrSchedule.AtStep otherApplied;
    private final TokenDataset trainData;
    private final TokenDataset valData;
    private final BatchLoader trainLoader;
    private Metrics metrics;
    private RunLock lock;
    private volatile RunState state = RunState.fresh();
    private volatile int stepInProgress =
            1; // the step the optimizer is applying: the schedules are read here

    private Run(
            TrainConfig config,
            ModelConfig modelConfig,
            Tokenizer tokenizer,
            Path out,
            PrintStream log) {
        this.config = config;
        this.modelConfig = modelConfig;
        this.tokenizer = tokenizer;
        this.out = out;
        Backend backend = Backend.init(config.threads(), config.device().toString());
        this.manager = backend.newManager();
        try {
            DataSets.Pair data =
                    DataSets.open(
                            config.data(),
                            config.valData(),
                            config.valFraction(),
                            tokenizer,
                            DataSets.defaultCacheDir(),
                            log::println);
            this.trainData = data.train();
            this.valData = data.val();
            this.model = new DecoderLM(modelConfig);
            model.initialize(manager, DataType.FLOAT32);
            boolean muon = config.optimizer() == OptimizerKind.MUON;
            LrSchedule.Kind kind = config.schedule();
            this.matrixLr =
                    LrSchedule.of(kind, (float) config.lr(), config.warmup(), config.steps());
            this.otherLr =
                    LrSchedule.of(kind, (float) config.adamwLr(), config.warmup(), config.steps());
            // the schedules follow the trainer's step, not the optimizers' update counts, which
            // skip
            // non-finite steps: the learning rate logged for a step is the one applied in it
            this.matrixApplied = matrixLr.atStep(() -> stepInProgress);
            this.otherApplied = otherLr.atStep(() -> stepInProgress);
            this.optimizer =
                    OptimizerRecipe.of(
                            muon,
                            model.roles(),
                            matrixApplied,
                            otherApplied,
                            (float) config.weightDecay());
            this.trainLoader =
                    new BatchLoader(
                            trainData,
                            config.batchSize(),
                            config.seqLen(),
                            config.seed(),
                            BatchLoader.Order.RANDOM,
                            4);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A fresh run. Refuses a run directory that already holds a run, or that another process has
     * locked (two runs started at the same moment on one {@code --out}: one wins).
     */
    public static Run start(TrainConfig config, PrintStream log) throws IOException {
        HfImport hf = config.initFrom() != null ? HfImport.open(Path.of(config.initFrom())) : null;
        Tokenizer tok =
                hf != null ? hf.tokenizer() : Tokenizers.byName(config.tokenizerOrDefault());
        ModelConfig mc =
                hf != null ? ModelChoice.initFrom(config, hf, tok) : ModelChoice.of(config, tok);
        Path out = Path.of(config.out() != null ? config.out() : RunDirectory.defaultOut("train"));
        RunDirectory.refuseExistingRun(out);
        Run run = new Run(config, mc, tok, out, log);
        try {
            if (hf != null) {
                hf.loadInto(run.model);
                log.println("muon4j: initialised from " + config.initFrom());
            }
            run.lock = RunDirectory.lock(out);
            RunDirectory.refuseExistingRun(out);
            Checkpoint.removeTemporaries(out);
            RunDirectory.writeAtomically(
                    out.resolve(RunDirectory.CONFIG), RunDirectory.configJson(config, mc, tok));
            run.metrics = Metrics.open(out.resolve("metrics.jsonl"), -1);
        } catch (IOException | RuntimeException e) {
            run.close();
            throw e;
        }
        return run;
    }

    /** {@code resume} with no flags besides {@code --tokenizer}. */
    public static Run resume(Path dir, String tokenizerFlag, PrintStream log) throws IOException {
        return resume(dir, tokenizerFlag, new JsonObject(), f -> "--" + f.replace('_', '-'), log);
    }

    /**
     * Continues the run whose checkpoint (or run directory) is {@code dir}, exactly where it
     * stopped. Given a run directory, damaged newer checkpoints are skipped with one warning line
     * on {@code log}; a run directory whose run stopped before its first checkpoint restarts from
     * step 0 with its {@code config.json} (one line says so). {@code given}: other flags given with
     * the resume, as snake_case settings, applied or refused by {@code ResumeFlags}; {@code flag}
     * spells a setting as its flag in messages.
     */
    public static Run resume(
            Path dir,
            String tokenizerFlag,
            JsonObject given,
            java.util.function.Function<String, String> flag,
            PrintStream log)
            throws IOException {
        Path runDir =
                Files.exists(dir.resolve(Checkpoint.MANIFEST))
                        ? dir.toAbsolutePath().getParent()
                        : dir;
        // lock first: the checkpoint chosen must not be pruned or rewritten by a live run under us
        RunLock lock = Files.isDirectory(runDir) ? RunLock.acquire(runDir) : null;
        Run run = null;
        try {
            if (runDir == dir && RunDirectory.startedWithoutCheckpoint(runDir)) {
                RunDirectory.Saved saved = RunDirectory.Saved.of(runDir);
                checkTokenizer(tokenizerFlag, saved, runDir.toString());
                TrainConfig tc = ResumeFlags.apply(saved.train(), 0, given, flag, log::println);
                log.println(
                        "muon4j: "
                                + runDir
                                + " stopped before its first checkpoint: restarting it from step 0 with its config.json");
                Checkpoint.removeTemporaries(runDir);
                Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
                run = new Run(tc, saved.model(), Tokenizers.byName(saved.tokenizer()), runDir, log);
                run.lock = lock;
                lock = null;
                RunDirectory.writeAtomically(
                        runDir.resolve(RunDirectory.CONFIG),
                        RunDirectory.configJson(tc, saved.model(), run.tokenizer));
                run.metrics = Metrics.open(runDir.resolve("metrics.jsonl"), -1);
                return run;
            }
            Checkpoint ck = Checkpoint.openNewestIntact(dir, log::println);
            RunDirectory.Saved saved = RunDirectory.Saved.of(ck);
            checkTokenizer(tokenizerFlag, saved, "checkpoint " + ck.dir());
            TrainConfig tc = ResumeFlags.apply(saved.train(), ck.step(), given, flag, log::println);
            Tokenizer tok = Tokenizers.byName(saved.tokenizer());
            Path out = ck.dir().getParent();
            run = new Run(tc, saved.model(), tok, out, log);
            run.lock = lock;
            lock = null;
            try {
                run.load(ck);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(
                        "checkpoint " + ck.dir() + " could not be loaded: " + e.getMessage());
            }
            int removed = Checkpoint.removeTemporaries(out);
            if (removed > 0) {
                log.println(
                        "muon4j: removed "
                                + removed
                                + " unfinished checkpoint write(s) left in "
                                + out);
            }
            if (tc != saved.train()) {
                RunDirectory.writeAtomically(
                        out.resolve(RunDirectory.CONFIG),
                        RunDirectory.configJson(tc, saved.model(), tok));
            }
            run.metrics = Metrics.open(out.resolve("metrics.jsonl"), run.state.step());
            return run;
        } catch (IOException | RuntimeException e) {
            if (run != null) {
                run.close();
            }
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
    }

    private static void checkTokenizer(
            String tokenizerFlag, RunDirectory.Saved saved, String where) {
        if (tokenizerFlag != null
                && !Tokenizers.canonicalName(tokenizerFlag).equals(saved.tokenizer())) {
            throw new IllegalArgumentException(
                    "tokenizer mismatch: "
                            + where
                            + " was trained with '"
                            + saved.tokenizer()
                            + "', not '"
                            + tokenizerFlag
                            + "'");
        }
    }

    // ------------------------------------------------------------------ checkpoints

    /** Writes a checkpoint of the current step. */
    public void saveCheckpoint() throws IOException {
        Map<String, Checkpoint.Part> parts = new LinkedHashMap<>();
        parts.put(
                RunDirectory.CONFIG,
                o ->
                        o.write(
                                RunDirectory.configJson(config, modelConfig, tokenizer)
                                        .getBytes(StandardCharsets.UTF_8)));
        parts.put("model.safetensors", o -> CheckpointTensors.writeWeights(model, o));
        parts.put("optimizer.safetensors", o -> CheckpointTensors.writeOptimizer(optimizer, o));
        String st = state.withSnapshot(trainLoader.state(), model.balanceBiases()).toJson();
        parts.put("state.json", o -> o.write(st.getBytes(StandardCharsets.UTF_8)));
        Checkpoint.write(out, state.step(), parts, config.keepCheckpoints());
    }

    private void load(Checkpoint ck) throws IOException {
        loadWeights(model, manager, ck);
        // loaded arrays are new tensors: make them trainable again
        model.getParameters().forEach(p -> p.getValue().getArray().setRequiresGradient(true));
        if (ck.hasPart("optimizer.safetensors")) {
            CheckpointTensors.readOptimizer(optimizer, ck.partFile("optimizer.safetensors"));
        } else {
            try (var in = ck.part("optimizer.bin")) { // checkpoints written before safetensors
                optimizer.loadState(in);
            }
        }
        RunState st = RunState.fromJson(ck.partText("state.json"));
        trainLoader.restore(st.data());
        state = st.withSnapshot(null, null);
    }

    /** Loads a checkpoint's weights and MoE balancing biases into {@code model}. */
    static void loadWeights(DecoderLM model, NDManager manager, Checkpoint ck) throws IOException {
        if (ck.hasPart("model.safetensors")) {
            CheckpointTensors.readWeights(model, ck.partFile("model.safetensors"));
        } else {
            try (DataInputStream in =
                    new DataInputStream(ck.part("model.params"))) { // before safetensors
                model.loadParameters(manager, in);
            } catch (ai.djl.MalformedModelException e) {
                throw new IOException("model.params does not fit this model: " + e.getMessage(), e);
            }
        }
        List<float[]> biases = RunState.balanceBiasesOf(ck.partText("state.json"));
        if (!biases.isEmpty()) {
            model.setBalanceBiases(biases);
        }
    }

    // ------------------------------------------------------------------ evaluation and samples

    /**
     * Mean validation loss over the first {@code batches} x batch_size windows of the validation
     * data (each token once).
     */
    public double evaluate(int batches) {
        return Evaluator.loss(
                model,
                valData,
                config.batchSize(),
                config.seqLen(),
                Evaluator.windowCount(batches, config.batchSize()),
                manager);
    }

    /** A line of generated text, seeded by {@code i}. */
    public String sample(int i) {
        String[] prompts = {"The ", "It is ", "In the "};
        String prompt = prompts[i % prompts.length];
        Generator g = new Generator(model);
        SamplingConfig s =
                SamplingConfig.of(0.8, 40, 0.95, config.seed() + i)
                        .withStopToken(tokenizer.eotToken());
        int[] ids =
                g.generate(
                        tokenizer.encode(prompt),
                        Math.min(80, modelConfig.contextLength() - 8),
                        s,
                        t -> {});
        return prompt + tokenizer.decode(ids).replace('\n', ' ');
    }

    // ------------------------------------------------------------------ accessors used by
    // TrainLoop

    /** The run's progress (what {@code state.json} of its next checkpoint will hold). */
    public RunState state() {
        return state;
    }

    void setState(RunState s) {
        state = s;
    }

    /** The step about to be applied: the learning-rate schedules are read at it. */
    void beginStep(int step) {
        stepInProgress = step;
        matrixApplied.reset();
        otherApplied.reset();
    }

    /** The learning rates the optimizers applied in the current step (matrices, the rest). */
    LrSchedule.AtStep matrixApplied() {
        return matrixApplied;
    }

    LrSchedule.AtStep otherApplied() {
        return otherApplied;
    }

    public TrainConfig config() {
        return config;
    }

    public ModelConfig modelConfig() {
        return modelConfig;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public DecoderLM model() {
        return model;
    }

    public MuonWithAdamW optimizer() {
        return optimizer;
    }

    LrSchedule matrixLr() {
        return matrixLr;
    }

    LrSchedule otherLr() {
        return otherLr;
    }

    BatchLoader trainLoader() {
        return trainLoader;
    }

    NDManager manager() {
        return manager;
    }

    Metrics metrics() {
        return metrics;
    }

    public Path out() {
        return out;
    }

    public int step() {
        return state.step();
    }

    /** The Muon parameter whose Newton-Schulz orthogonality error the diagnostics report. */
    String diagnosedParameter() {
        return model.roles().entrySet().stream()
                .filter(e -> e.getValue().isMuon())
                .map(Map.Entry::getKey)
                .findFirst()
                .orElse(null);
    }

    /** A one-line description of the run, e.g. for plot titles. */
    public String title() {
        return String.format(
                "%s %s/%s, %s, %s tokens",
                config.preset(),
                config.attention(),
                config.ffn(),
                config.optimizer(),
                tokenizer.name());
    }

    @Override
    public void close() throws IOException {
        try {
            if (metrics != null) {
                metrics.close();
            }
            trainLoader.close();
        } finally {
            try {
                manager.close();
            } finally {
                if (lock != null) {
                    lock.close();
                    lock = null;
                }
            }
        }
    }
}
