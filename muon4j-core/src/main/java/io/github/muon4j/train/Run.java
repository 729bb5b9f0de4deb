package io.github.muon4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.Backend;
import io.github.muon4j.data.BatchLoader;
import io.github.muon4j.data.DataSets;
import io.github.muon4j.data.TokenDataset;
import io.github.muon4j.data.Tokenizer;
import io.github.muon4j.data.Tokenizers;
import io.github.muon4j.infer.Generator;
import io.github.muon4j.interop.CheckpointTensors;
import io.github.muon4j.interop.HfImport;
import io.github.muon4j.infer.SamplingConfig;
import io.github.muon4j.model.DecoderLM;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.optim.DecoupledAdamW;
import io.github.muon4j.optim.AdjustLr;
import io.github.muon4j.optim.Muon;
import io.github.muon4j.optim.MuonWithAdamW;
import io.github.muon4j.optim.ParamRole;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One training run: its configuration, model, optimizer, data and run directory, and the progress
 * counters a checkpoint holds. Built fresh by {@link #start} or from a checkpoint by {@link #resume}.
 */
public final class Run implements AutoCloseable {

    private static final Gson GSON = new Gson();

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
    private volatile int stepInProgress = 1; // the step the optimizer is applying: the schedules are read here

    private Run(TrainConfig config, ModelConfig modelConfig, Tokenizer tokenizer, Path out, PrintStream log) {
        this.config = config;
        this.modelConfig = modelConfig;
        this.tokenizer = tokenizer;
        this.out = out;
        Backend backend = Backend.init(config.threads(), config.device().toString());
        this.manager = backend.newManager();
        try {
            DataSets.Pair data =
                    DataSets.open(config.data(), config.valData(), config.valFraction(), tokenizer, DataSets.defaultCacheDir(), log::println);
            this.trainData = data.train();
            this.valData = data.val();
            this.model = new DecoderLM(modelConfig);
            model.initialize(manager, DataType.FLOAT32);
            boolean muon = config.optimizer() == OptimizerKind.MUON;
            LrSchedule.Kind kind = config.schedule();
            this.matrixLr = LrSchedule.of(kind, (float) config.lr(), config.warmup(), config.steps());
            this.otherLr = LrSchedule.of(kind, (float) config.adamwLr(), config.warmup(), config.steps());
            // the schedules follow the trainer's step, not the optimizers' update counts, which skip
            // non-finite steps: the learning rate logged for a step is the one applied in it
            this.matrixApplied = matrixLr.atStep(() -> stepInProgress);
            this.otherApplied = otherLr.atStep(() -> stepInProgress);
            this.optimizer = optimizerFor(muon, model.roles(), matrixApplied, otherApplied, (float) config.weightDecay());
            this.trainLoader =
                    new BatchLoader(trainData, config.batchSize(), config.seqLen(), config.seed(), BatchLoader.Order.RANDOM, 4);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Muon for hidden matrices and expert stacks, AdamW for the rest; or AdamW for everything, matrices
     * at {@code matrixLr}. The policy is the same in both arms: the non-matrix parameters (embedding,
     * head, norms, routers) get AdamW at {@code otherLr} with the same betas and decay either way; only
     * the matrices' optimizer and rate differ. Muon's update uses Keller Jordan's ORIGINAL scaling
     * (msign(G) x sqrt(max(1, rows/cols)), update RMS about 1/sqrt(cols), not matched to AdamW's), so
     * its rate is not on AdamW's scale and must be tuned on its own. Weight decay is decoupled and
     * multiplied by each parameter's own rate (PyTorch's convention, in Muon as in AdamW), applied to
     * every parameter in both arms.
     */
    public static MuonWithAdamW optimizerFor(
            boolean muon, Map<String, ParamRole> roles, Tracker matrixLr, Tracker otherLr, float weightDecay) {
        // AdamW-only: every parameter goes to AdamW, matrices still at their own learning rate
        ParameterTracker adamLr =
                muon ? otherLr : (ParameterTracker) (name, n) -> {
                    ParamRole r = roles.get(name);
                    return (r != null && r.isMuon() ? matrixLr : otherLr).getNewValue(n);
                };
        DecoupledAdamW adamw =
                DecoupledAdamW.builder()
                        .optLearningRateTracker(adamLr)
                        .optBeta1(0.9f)
                        .optBeta2(0.95f)
                        .optEpsilon(1e-8f)
                        .optWeightDecays(weightDecay)
                        .build();
        MuonWithAdamW.Builder b = MuonWithAdamW.builder().optAdamW(adamw).optRoles(roles);
        if (muon) {
            b.optMuon(
                    Muon.builder()
                            .optLearningRateTracker(matrixLr)
                            .optMomentum(0.95f)
                            .optNesterov(true)
                            .optNsSteps(5)
                            .optAdjustLr(AdjustLr.ORIGINAL)
                            .optWeightDecays(weightDecay)
                            .build());
        } else {
            b.optOverride(".*", MuonWithAdamW.Group.ADAMW);
        }
        return b.build();
    }

    /**
     * A fresh run. Refuses a run directory that already holds a run, or that another process has
     * locked (two runs started at the same moment on one {@code --out}: one wins).
     */
    public static Run start(TrainConfig config, PrintStream log) throws IOException {
        HfImport hf = config.initFrom() != null ? HfImport.open(Path.of(config.initFrom())) : null;
        Tokenizer tok = hf != null ? hf.tokenizer() : Tokenizers.byName(config.tokenizerOrDefault());
        ModelConfig mc = hf != null ? initFromConfig(config, hf, tok) : modelConfigFor(config, tok);
        Path out = Path.of(config.out() != null ? config.out() : defaultOut("train"));
        refuseExistingRun(out);
        Run run = new Run(config, mc, tok, out, log);
        try {
            if (hf != null) {
                hf.loadInto(run.model);
                log.println("muon4j: initialised from " + config.initFrom());
            }
            try {
                run.lock = RunLock.acquire(out);
            } catch (java.nio.file.FileSystemException e) {
                String why = e.getReason() != null ? e.getReason() : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : "cannot write there";
                throw new IllegalArgumentException("--out " + out + ": cannot create the run directory (" + why + ")");
            }
            refuseExistingRun(out);
            Checkpoint.removeTemporaries(out);
            writeAtomically(out.resolve("config.json"), configJson(config, mc, tok));
            run.metrics = Metrics.open(out.resolve("metrics.jsonl"), -1);
        } catch (IOException | RuntimeException e) {
            run.close();
            throw e;
        }
        return run;
    }

    private static void refuseExistingRun(Path out) throws IOException {
        if (Files.exists(out.resolve("config.json")) || !Checkpoint.list(out).isEmpty()) {
            throw new IllegalArgumentException(
                    "--out " + out + " already holds a run: use --resume " + out + " to continue it, or another --out");
        }
    }

    /**
     * Continues the run whose checkpoint (or run directory) is {@code dir}, exactly where it stopped.
     * Given a run directory, damaged newer checkpoints are skipped with one warning line on {@code log}.
     */
    public static Run resume(Path dir, String tokenizerFlag, PrintStream log) throws IOException {
        Path runDir = Files.exists(dir.resolve(Checkpoint.MANIFEST)) ? dir.toAbsolutePath().getParent() : dir;
        // lock first: the checkpoint chosen must not be pruned or rewritten by a live run under us
        RunLock lock = Files.isDirectory(runDir) ? RunLock.acquire(runDir) : null;
        Run run = null;
        try {
            Checkpoint ck = Checkpoint.openNewestIntact(dir, log::println);
            Saved saved = Saved.of(ck);
            if (tokenizerFlag != null && !io.github.muon4j.data.Tokenizers.canonicalName(tokenizerFlag).equals(saved.tokenizer())) {
                throw new IllegalArgumentException(
                        "tokenizer mismatch: checkpoint " + ck.dir() + " was trained with '" + saved.tokenizer() + "', not '"
                                + tokenizerFlag + "'");
            }
            Tokenizer tok = Tokenizers.byName(saved.tokenizer());
            Path out = ck.dir().getParent();
            run = new Run(saved.train(), saved.model(), tok, out, log);
            run.lock = lock;
            lock = null;
            try {
                run.load(ck);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("checkpoint " + ck.dir() + " could not be loaded: " + e.getMessage());
            }
            int removed = Checkpoint.removeTemporaries(out);
            if (removed > 0) {
                log.println("muon4j: removed " + removed + " unfinished checkpoint write(s) left in " + out);
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

    /** What a checkpoint's {@code config.json} holds; a missing or ill-typed field is bad input. */
    record Saved(TrainConfig train, ModelConfig model, String tokenizer) {
        static Saved of(Checkpoint ck) {
            String where = "checkpoint " + ck.dir() + ": config.json ";
            JsonObject o;
            try {
                o = JsonParser.parseString(ck.partText("config.json")).getAsJsonObject();
            } catch (RuntimeException e) {
                if (e instanceof IllegalArgumentException iae && iae.getMessage().contains("has no part")) {
                    throw iae;
                }
                throw new IllegalArgumentException(where + "is not a JSON object");
            }
            if (!(o.get("train") instanceof JsonObject t) || !(o.get("model") instanceof JsonObject m)
                    || o.get("tokenizer") == null || !o.get("tokenizer").isJsonPrimitive()) {
                throw new IllegalArgumentException(where + "lacks 'train', 'model' or 'tokenizer'");
            }
            TrainConfig tc = TrainConfig.fromJson(t.toString(), ck.dir() + "/config.json");
            ModelConfig mc;
            try {
                mc = ModelConfig.fromJson(m.toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + e.getMessage());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "'model' has a field of the wrong type");
            }
            return new Saved(tc, mc, o.get("tokenizer").getAsString());
        }
    }

    /** The model of an {@code --init-from} directory; the tokenizer and sequence length must fit it. */
    static ModelConfig initFromConfig(TrainConfig c, HfImport hf, Tokenizer tok) {
        ModelConfig mc = hf.modelConfig(c.seed());
        if (c.tokenizer() != null && !c.tokenizer().equals(tok.name())) {
            throw new IllegalArgumentException("--tokenizer " + c.tokenizer() + " differs from the tokenizer of --init-from "
                    + c.initFrom() + " (" + tok.name() + ")");
        }
        if (mc.vocabSize() < tok.vocabSize()) {
            throw new IllegalArgumentException("--init-from " + c.initFrom() + ": vocab_size " + mc.vocabSize()
                    + " is smaller than its tokenizer's vocabulary (" + tok.vocabSize() + ")");
        }
        if (c.seqLen() > mc.contextLength()) {
            throw new IllegalArgumentException("seq_len " + c.seqLen() + " exceeds max_position_embeddings "
                    + mc.contextLength() + " of --init-from " + c.initFrom());
        }
        return mc;
    }

    /** The preset with the flags applied, then the {@code model} overrides; validated. */
    public static ModelConfig modelConfigFor(TrainConfig c, Tokenizer tok) {
        ModelConfig mc =
                ModelConfig.preset(c.preset())
                        .withAttention(c.attention())
                        .withFfn(c.ffn())
                        .withVocab(tok.vocabSize())
                        .withSeed(c.seed());
        if (c.model() != null && c.model().size() > 0) {
            JsonObject flags = JsonParser.parseString(mc.toJson()).getAsJsonObject();
            JsonObject o = new JsonObject();
            o.addProperty("preset", c.preset());
            for (String k : new String[] {"attention", "ffn", "vocab_size", "seed"}) {
                o.add(k, flags.get(k));
            }
            for (var e : c.model().entrySet()) {
                o.add(e.getKey(), e.getValue());
            }
            mc = ModelConfig.fromJson(o.toString());
            if (mc.vocabSize() < tok.vocabSize()) {
                throw new IllegalArgumentException(
                        "vocab_size " + mc.vocabSize() + " is smaller than the vocabulary of tokenizer '" + tok.name() + "' (" + tok.vocabSize() + ")");
            }
        }
        if (c.seqLen() > mc.contextLength()) {
            throw new IllegalArgumentException(
                    "seq_len " + c.seqLen() + " exceeds the model's context_length " + mc.contextLength() + " (preset " + c.preset() + ")");
        }
        return mc;
    }

    static String configJson(TrainConfig c, ModelConfig mc, Tokenizer tok) {
        JsonObject o = new JsonObject();
        o.add("train", JsonParser.parseString(c.toJson()));
        o.add("model", JsonParser.parseString(mc.toJson()));
        o.addProperty("tokenizer", tok.name());
        o.addProperty("vocab_size", tok.vocabSize());
        return new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    static String defaultOut(String command) {
        return "runs/" + command + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    // ------------------------------------------------------------------ checkpoints

    /** Writes a checkpoint of the current step. */
    public void saveCheckpoint() throws IOException {
        Map<String, Checkpoint.Part> parts = new LinkedHashMap<>();
        parts.put("config.json", o -> o.write(configJson(config, modelConfig, tokenizer).getBytes(StandardCharsets.UTF_8)));
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
            try (DataInputStream in = new DataInputStream(ck.part("model.params"))) { // before safetensors
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

    /** Mean validation loss over the first {@code batches} x batch_size windows of the validation data (each token once). */
    public double evaluate(int batches) {
        return Evaluator.loss(model, valData, config.batchSize(), config.seqLen(), Evaluator.windowCount(batches, config.batchSize()), manager);
    }

    /** A line of generated text, seeded by {@code i}. */
    public String sample(int i) {
        String[] prompts = {"The ", "It is ", "In the "};
        String prompt = prompts[i % prompts.length];
        Generator g = new Generator(model);
        SamplingConfig s = SamplingConfig.of(0.8, 40, 0.95, config.seed() + i).withStopToken(tokenizer.eotToken());
        int[] ids = g.generate(tokenizer.encode(prompt), Math.min(80, modelConfig.contextLength() - 8), s, t -> {});
        return prompt + tokenizer.decode(ids).replace('\n', ' ');
    }

    // ------------------------------------------------------------------ accessors used by TrainLoop

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
                "%s %s/%s, %s, %s tokens", config.preset(), config.attention(), config.ffn(), config.optimizer(), tokenizer.name());
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
