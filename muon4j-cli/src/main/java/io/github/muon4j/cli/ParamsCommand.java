package io.github.muon4j.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code muon4j params}: parameter counts and KV-cache size of a preset, by closed-form formula.
 */
@Command(
        name = "params",
        mixinStandardHelpOptions = true,
        description = "Total and active parameters and KV-cache size of a model configuration.")
public final class ParamsCommand implements Callable<Integer> {

    @Option(
            names = "--preset",
            required = true,
            description = "tiny, 6L-256d, 6L-512d, 9L-512d, 12L-768d, 12L-1024d")
    String preset;

    @Option(
            names = "--attention",
            defaultValue = "mha",
            description = "mha | mla (default: ${DEFAULT-VALUE})")
    String attention;

    @Option(
            names = "--ffn",
            defaultValue = "dense",
            description = "dense | moe (default: ${DEFAULT-VALUE})")
    String ffn;

    @Option(
            names = "--vocab",
            description = "vocabulary size (default: the preset's: 257 for tiny, 50257 otherwise)")
    Integer vocab;

    @Option(names = "--json", description = "print one JSON object as the last line")
    boolean json;

    @Override
    public Integer call() {
        ModelConfig mc = build(preset, attention, ffn);
        if (vocab != null) {
            mc = mc.withVocab(vocab);
        }
        long cacheValues = mc.kvCacheValuesPerToken();
        System.out.printf(
                "preset %s, %s attention, %s feed-forward, vocab %d, context %d%n",
                preset, mc.attention(), mc.ffn(), mc.vocabSize(), mc.contextLength());
        System.out.printf(
                "  layers %d, d_model %d, heads %d, head_dim %d%n",
                mc.nLayers(), mc.dModel(), mc.nHeads(), mc.headDim());
        System.out.printf("  total parameters   %,d%n", mc.totalParams());
        System.out.printf("  active parameters  %,d%n", mc.activeParams());
        System.out.printf(
                "  KV cache per token %,d values (%,d bytes fp32), all %d layers%n",
                cacheValues, cacheValues * 4, mc.nLayers());
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("total_params", mc.totalParams());
            o.addProperty("active_params", mc.activeParams());
            o.addProperty("kv_cache_values_per_token", cacheValues);
            o.addProperty("kv_cache_bytes_per_token_fp32", cacheValues * 4);
            o.add("config", JsonParser.parseString(mc.toJson()));
            System.out.println(o);
        }
        return 0;
    }

    /**
     * A preset combined with the attention and feed-forward flags; bad values are one-line errors.
     */
    static ModelConfig build(String preset, String attention, String ffn) {
        return ModelConfig.preset(preset)
                .withAttention(parse(AttentionKind.class, "--attention", attention))
                .withFfn(parse(FfnKind.class, "--ffn", ffn));
    }

    static <E extends Enum<E>> E parse(Class<E> type, String flag, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    flag
                            + " must be one of "
                            + java.util.Arrays.toString(type.getEnumConstants())
                                    .toLowerCase(Locale.ROOT)
                            + ", not '"
                            + value
                            + "'");
        }
    }
}
