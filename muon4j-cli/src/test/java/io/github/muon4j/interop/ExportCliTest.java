package io.github.muon4j.interop;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.muon4j.cli.Cli;
import io.github.muon4j.cli.Cli.Outcome;
import io.github.muon4j.data.ByteTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: train a tiny MLA + MoE model, {@code muon4j export} it, continue a prompt greedily
 * from the exported files alone and compare with {@code muon4j generate --temperature 0}; then
 * {@code train --init-from} the export and export again; and the one-line refusals.
 */
class ExportCliTest {

    private static final String[] SMALL = {
        "--batch-size",
        "2",
        "--seq-len",
        "32",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--eval-every",
        "0",
        "--eval-batches",
        "1",
        "--samples",
        "0",
        "--threads",
        "1"
    };

    private static String[] args(String[] head, String... tail) {
        String[] a = java.util.Arrays.copyOf(head, head.length + SMALL.length + tail.length);
        System.arraycopy(SMALL, 0, a, head.length, SMALL.length);
        System.arraycopy(tail, 0, a, head.length + SMALL.length, tail.length);
        return a;
    }

    @Test
    void exportContinuesLikeGenerateAndInitFromRoundTrips(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        Path model = dir.resolve("model.json");
        Files.writeString(
                model,
                "{\"n_layers\": 2, \"d_model\": 32, \"n_heads\": 4, \"n_routed_experts\": 6,"
                        + " \"top_k\": 2, \"n_shared_experts\": 1, \"n_dense_layers\": 1, \"init_scale\": 0.2}");
        Path runA = dir.resolve("a");
        Outcome t =
                Cli.run(
                        cache,
                        args(
                                new String[] {
                                    "train",
                                    "--attention",
                                    "mla",
                                    "--ffn",
                                    "moe",
                                    "--out",
                                    runA.toString(),
                                    "--model-config",
                                    model.toString()
                                }));
        assertEquals(0, t.code(), t.err());

        Path hfA = dir.resolve("hf-a");
        Outcome e =
                Cli.run(cache, "export", "--checkpoint", runA.toString(), "--out", hfA.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("DeepseekV3ForCausalLM"), e.err());

        String prompt = "The Commission";
        Outcome g =
                Cli.run(
                        cache,
                        "generate",
                        "--checkpoint",
                        runA.toString(),
                        "--prompt",
                        prompt,
                        "--max-tokens",
                        "12",
                        "--temperature",
                        "0",
                        "--json");
        assertEquals(0, g.code(), g.err());
        String generated =
                JsonParser.parseString(g.lastLine()).getAsJsonObject().get("text").getAsString();
        ByteTokenizer tok = new ByteTokenizer();
        int[] fromFiles = new HfReference(hfA).greedy(tok.encode(prompt), 12);
        assertEquals(
                generated, tok.decode(fromFiles), "greedy continuation from the exported files");
        System.out.println(
                "greedy from the export = muon4j generate --temperature 0: '" + generated + "'");

        // continued pre-training from the export, then export again: the model config survives
        Path runB = dir.resolve("b");
        Outcome i =
                Cli.run(
                        cache,
                        args(
                                new String[] {
                                    "train", "--init-from", hfA.toString(), "--out", runB.toString()
                                }));
        assertEquals(0, i.code(), i.err());
        JsonObject cfgA =
                JsonParser.parseString(Files.readString(runA.resolve("config.json")))
                        .getAsJsonObject();
        JsonObject cfgB =
                JsonParser.parseString(Files.readString(runB.resolve("config.json")))
                        .getAsJsonObject();
        JsonObject ma = cfgA.getAsJsonObject("model");
        JsonObject mb = cfgB.getAsJsonObject("model");
        for (String k :
                new String[] {
                    "n_layers",
                    "d_model",
                    "n_heads",
                    "attention",
                    "ffn",
                    "kv_lora_rank",
                    "n_routed_experts",
                    "top_k",
                    "n_shared_experts",
                    "n_dense_layers",
                    "expert_hidden",
                    "ffn_hidden",
                    "score_function",
                    "vocab_size"
                }) {
            assertEquals(ma.get(k), mb.get(k), k);
        }
        Path hfB = dir.resolve("hf-b");
        assertEquals(
                0,
                Cli.run(cache, "export", "--checkpoint", runB.toString(), "--out", hfB.toString())
                        .code());
        assertEquals(
                Files.readString(hfA.resolve("config.json")),
                Files.readString(hfB.resolve("config.json")));

        // one-line refusals, exit 2, nothing written
        Outcome bad =
                Cli.run(
                        cache,
                        "export",
                        "--checkpoint",
                        runA.toString(),
                        "--out",
                        dir.resolve("x").toString(),
                        "--dtype",
                        "f8");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--dtype"), bad.err());
        assertFalse(Files.exists(dir.resolve("x")));
        Outcome none =
                Cli.run(
                        cache,
                        args(
                                new String[] {
                                    "train",
                                    "--init-from",
                                    dir.resolve("nowhere").toString(),
                                    "--out",
                                    dir.resolve("c").toString()
                                }));
        assertEquals(2, none.code());
        assertEquals(1, none.err().strip().lines().count(), none.err());
        assertTrue(none.err().contains("--init-from"), none.err());
    }

    @Test
    void mhaWithMoeIsRefusedInOneLine(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        Path model = dir.resolve("model.json");
        Files.writeString(
                model,
                "{\"n_layers\": 1, \"d_model\": 16, \"n_heads\": 2, \"n_routed_experts\": 4, \"top_k\": 1,"
                        + " \"n_shared_experts\": 0}");
        Path run = dir.resolve("a");
        assertEquals(
                0,
                Cli.run(
                                cache,
                                args(
                                        new String[] {
                                            "train",
                                            "--ffn",
                                            "moe",
                                            "--out",
                                            run.toString(),
                                            "--model-config",
                                            model.toString()
                                        }))
                        .code());
        Outcome e =
                Cli.run(
                        cache,
                        "export",
                        "--checkpoint",
                        run.toString(),
                        "--out",
                        dir.resolve("hf").toString());
        assertEquals(2, e.code());
        assertEquals(1, e.err().strip().lines().count(), e.err());
        assertTrue(
                e.err().contains("no transformers class represents MHA attention with an MoE"),
                e.err());
        assertFalse(Files.exists(dir.resolve("hf")));
    }
}
