package io.github.muon4j.interop;

import io.github.muon4j.model.AttentionKind;
import io.github.muon4j.model.FfnKind;
import io.github.muon4j.model.ModelConfig;
import io.github.muon4j.model.ScoreFunction;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each muon4j parameter goes in a Hugging Face checkpoint, and how it is laid out there.
 *
 * <p>MHA + dense maps to {@code LlamaForCausalLM}: muon4j's RoPE already uses the half-split layout
 * that Llama's {@code rotate_half} expects, so q/k rows are copied unchanged. MLA (dense or MoE)
 * maps to {@code DeepseekV3ForCausalLM} with {@code rope_interleave = true}, as published
 * DeepSeek-V3 checkpoints are: transformers then de-interleaves the rotary slice ({@code view(...,
 * d/2, 2).transpose}) before {@code rotate_half}, so the rotary rows of {@code q_proj} (per head)
 * and of {@code kv_a_proj_with_mqa} are written interleaved: HF row {@code 2i} is muon4j row {@code
 * i}, HF row {@code 2i+1} is muon4j row {@code i + rope/2}. Routed experts, stacked {@code [E, out,
 * in]} in muon4j, become {@code mlp.experts.J.*}.
 */
public final class HfLayout {

    /** How a muon4j tensor becomes an HF tensor. */
    public enum Transform {
        COPY,
        /** rotary rows of every head of a [h * (nope + rope), in] query projection, interleaved */
        Q_ROPE_INTERLEAVE,
        /** the trailing rope rows of kv_a [kv_lora_rank + rope, in], interleaved */
        KV_ROPE_INTERLEAVE,
        /** expert J's slice of a stacked [E, out, in] tensor */
        EXPERT_SLICE
    }

    /** One HF tensor: its name, muon4j's parameter name, the transform, and the expert index. */
    public record Item(String hf, String ours, Transform transform, int expert) {}

    /**
     * DeepseekV3Attention's q_a_layernorm and kv_a_layernorm use RMSNorm's default eps, not
     * rms_norm_eps.
     */
    public static final double MLA_NORM_EPS = 1e-6;

    public static final String LLAMA = "LlamaForCausalLM";
    public static final String DEEPSEEK_V3 = "DeepseekV3ForCausalLM";

    private HfLayout() {}

    /**
     * The transformers class that represents {@code c} exactly; an {@link IllegalArgumentException}
     * in one line when none does.
     */
    public static String architecture(ModelConfig c) {
        if (c.attention() == AttentionKind.MHA) {
            if (c.ffn() == FfnKind.MOE) {
                throw new IllegalArgumentException(
                        "no transformers class represents MHA attention with an MoE"
                                + " feed-forward exactly (Llama has no experts, DeepSeek-V3 uses MLA): train with --attention mla"
                                + " to export an MoE model");
            }
            return LLAMA;
        }
        if (c.ffn() == FfnKind.MOE && c.scoreFunction() != ScoreFunction.SIGMOID) {
            throw new IllegalArgumentException(
                    "no transformers class represents a softmax MoE router with a"
                            + " selection bias exactly (DeepseekV3ForCausalLM routes with sigmoid scores): train with"
                            + " score_function sigmoid (the default) to export");
        }
        if (c.normEps() != MLA_NORM_EPS) {
            throw new IllegalArgumentException(
                    "no transformers class represents this model exactly: DeepseekV3ForCausalLM"
                            + " normalises the MLA latents with eps 1e-6 whatever rms_norm_eps is, and norm_eps is "
                            + c.normEps());
        }
        if (c.ffn() == FfnKind.MOE && c.nRoutedExperts() < 2) {
            throw new IllegalArgumentException(
                    "DeepseekV3ForCausalLM needs at least 2 routed experts, the model has "
                            + c.nRoutedExperts());
        }
        return DEEPSEEK_V3;
    }

    /** Every HF tensor of {@code c}'s architecture, in file order (MoE router biases excluded). */
    public static List<Item> items(ModelConfig c) {
        String arch = architecture(c);
        List<Item> out = new ArrayList<>();
        out.add(new Item("model.embed_tokens.weight", "embedding", Transform.COPY, -1));
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            String o = "layer" + l + "_";
            out.add(
                    new Item(
                            p + "input_layernorm.weight",
                            o + "attn_norm_gain",
                            Transform.COPY,
                            -1));
            if (arch.equals(LLAMA)) {
                for (String[] qkvo :
                        new String[][] {{"q", "wq"}, {"k", "wk"}, {"v", "wv"}, {"o", "wo"}}) {
                    out.add(
                            new Item(
                                    p + "self_attn." + qkvo[0] + "_proj.weight",
                                    o + "attention_" + qkvo[1],
                                    Transform.COPY,
                                    -1));
                }
            } else {
                String a = p + "self_attn.";
                if (c.qLoraRank() == 0) {
                    out.add(
                            new Item(
                                    a + "q_proj.weight",
                                    o + "attention_wq",
                                    Transform.Q_ROPE_INTERLEAVE,
                                    -1));
                } else {
                    out.add(
                            new Item(
                                    a + "q_a_proj.weight",
                                    o + "attention_wq_a",
                                    Transform.COPY,
                                    -1));
                    out.add(
                            new Item(
                                    a + "q_a_layernorm.weight",
                                    o + "attention_q_norm_gain",
                                    Transform.COPY,
                                    -1));
                    out.add(
                            new Item(
                                    a + "q_b_proj.weight",
                                    o + "attention_wq_b",
                                    Transform.Q_ROPE_INTERLEAVE,
                                    -1));
                }
                out.add(
                        new Item(
                                a + "kv_a_proj_with_mqa.weight",
                                o + "attention_wkv_a",
                                Transform.KV_ROPE_INTERLEAVE,
                                -1));
                out.add(
                        new Item(
                                a + "kv_a_layernorm.weight",
                                o + "attention_kv_norm_gain",
                                Transform.COPY,
                                -1));
                out.add(
                        new Item(
                                a + "kv_b_proj.weight", o + "attention_wkv_b", Transform.COPY, -1));
                out.add(new Item(a + "o_proj.weight", o + "attention_wo", Transform.COPY, -1));
            }
            out.add(
                    new Item(
                            p + "post_attention_layernorm.weight",
                            o + "ffn_norm_gain",
                            Transform.COPY,
                            -1));
            String m = p + "mlp.";
            if (!c.isMoeLayer(l)) {
                out.add(new Item(m + "gate_proj.weight", o + "ffn_w1", Transform.COPY, -1));
                out.add(new Item(m + "up_proj.weight", o + "ffn_w3", Transform.COPY, -1));
                out.add(new Item(m + "down_proj.weight", o + "ffn_w2", Transform.COPY, -1));
            } else {
                out.add(new Item(m + "gate.weight", o + "ffn_gate_weight", Transform.COPY, -1));
                for (int e = 0; e < c.nRoutedExperts(); e++) {
                    String x = m + "experts." + e + ".";
                    out.add(
                            new Item(
                                    x + "gate_proj.weight",
                                    o + "ffn_experts_w1",
                                    Transform.EXPERT_SLICE,
                                    e));
                    out.add(
                            new Item(
                                    x + "up_proj.weight",
                                    o + "ffn_experts_w3",
                                    Transform.EXPERT_SLICE,
                                    e));
                    out.add(
                            new Item(
                                    x + "down_proj.weight",
                                    o + "ffn_experts_w2",
                                    Transform.EXPERT_SLICE,
                                    e));
                }
                if (c.nSharedExperts() > 0) {
                    out.add(
                            new Item(
                                    m + "shared_experts.gate_proj.weight",
                                    o + "ffn_shared_w1",
                                    Transform.COPY,
                                    -1));
                    out.add(
                            new Item(
                                    m + "shared_experts.up_proj.weight",
                                    o + "ffn_shared_w3",
                                    Transform.COPY,
                                    -1));
                    out.add(
                            new Item(
                                    m + "shared_experts.down_proj.weight",
                                    o + "ffn_shared_w2",
                                    Transform.COPY,
                                    -1));
                }
            }
        }
        out.add(new Item("model.norm.weight", "final_norm_gain", Transform.COPY, -1));
        if (!c.tiedEmbeddings()) {
            out.add(new Item("lm_head.weight", "head", Transform.COPY, -1));
        }
        return out;
    }

    /** HF name of the selection bias of MoE layer {@code layer}. */
    public static String biasName(int layer) {
        return "model.layers." + layer + ".mlp.gate.e_score_correction_bias";
    }

    /**
     * muon4j rows -> HF rows for an interleaved rotary slice: {@code rows} rows of {@code cols},
     * rotary blocks of {@code rope} rows starting at each offset in {@code starts}.
     */
    static float[] interleave(float[] w, int cols, int rope, int[] starts, boolean toHf) {
        float[] out = w.clone();
        int half = rope / 2;
        for (int s : starts) {
            for (int i = 0; i < half; i++) {
                int ourA = s + i;
                int ourB = s + i + half;
                int hfA = s + 2 * i;
                int hfB = s + 2 * i + 1;
                if (toHf) {
                    System.arraycopy(w, ourA * cols, out, hfA * cols, cols);
                    System.arraycopy(w, ourB * cols, out, hfB * cols, cols);
                } else {
                    System.arraycopy(w, hfA * cols, out, ourA * cols, cols);
                    System.arraycopy(w, hfB * cols, out, ourB * cols, cols);
                }
            }
        }
        return out;
    }

    /** Row offsets of the rotary block of every head of a query projection. */
    static int[] queryRopeStarts(ModelConfig c) {
        int qk = c.qkNopeHeadDim() + c.qkRopeHeadDim();
        int[] s = new int[c.nHeads()];
        for (int h = 0; h < s.length; h++) {
            s[h] = h * qk + c.qkNopeHeadDim();
        }
        return s;
    }
}
