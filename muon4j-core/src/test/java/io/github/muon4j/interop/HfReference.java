package io.github.muon4j.interop;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader of an exported Hugging Face directory that shares no code with muon4j's model: it parses
 * {@code model.safetensors} and {@code config.json} itself and runs the forward pass of
 * transformers' LlamaForCausalLM or DeepseekV3ForCausalLM (eager attention; DeepSeek-V3 with
 * rope_interleave and the sigmoid top-k router) in plain Java doubles, one token row at a time.
 */
final class HfReference {

    private final JsonObject cfg;
    private final Map<String, double[]> w = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private final String arch;

    HfReference(Path dir) throws IOException {
        cfg =
                JsonParser.parseString(Files.readString(dir.resolve("config.json")))
                        .getAsJsonObject();
        arch = cfg.getAsJsonArray("architectures").get(0).getAsString();
        byte[] data = Files.readAllBytes(dir.resolve("model.safetensors"));
        ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonObject header =
                JsonParser.parseString(new String(data, 8, n, StandardCharsets.UTF_8))
                        .getAsJsonObject();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonObject t = e.getValue().getAsJsonObject();
            long begin = t.getAsJsonArray("data_offsets").get(0).getAsLong();
            long end = t.getAsJsonArray("data_offsets").get(1).getAsLong();
            String dtype = t.get("dtype").getAsString();
            int size = dtype.equals("F32") ? 4 : 2;
            double[] v = new double[(int) ((end - begin) / size)];
            int base = 8 + n + (int) begin;
            for (int i = 0; i < v.length; i++) {
                switch (dtype) {
                    case "F32" -> v[i] = bb.getFloat(base + 4 * i);
                    case "BF16" ->
                            v[i] = Float.intBitsToFloat((bb.getShort(base + 2 * i) & 0xffff) << 16);
                    default -> throw new IllegalArgumentException("dtype " + dtype);
                }
            }
            long[] shape = new long[t.getAsJsonArray("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.getAsJsonArray("shape").get(i).getAsLong();
            }
            w.put(e.getKey(), v);
            shapes.put(e.getKey(), shape);
        }
    }

    Map<String, long[]> shapes() {
        return shapes;
    }

    double[] tensor(String name) {
        return w.get(name);
    }

    private int i(String k) {
        return cfg.get(k).getAsInt();
    }

    private double d(String k) {
        return cfg.get(k).getAsDouble();
    }

    /** y = W x for W [out, in] stored row-major. */
    private double[] lin(String name, double[] x) {
        double[] m = w.get(name);
        if (m == null) {
            throw new IllegalStateException("missing tensor " + name);
        }
        int out = m.length / x.length;
        double[] y = new double[out];
        for (int r = 0; r < out; r++) {
            double s = 0;
            for (int c = 0; c < x.length; c++) {
                s += m[r * x.length + c] * x[c];
            }
            y[r] = s;
        }
        return y;
    }

    private double[] rms(double[] x, String gain) {
        return rms(x, gain, d("rms_norm_eps"));
    }

    /**
     * DeepseekV3Attention builds q_a_layernorm and kv_a_layernorm with RMSNorm's default eps, 1e-6.
     */
    private static final double MLA_NORM_EPS = 1e-6;

    private double[] rms(double[] x, String gain, double eps) {
        double ms = 0;
        for (double v : x) {
            ms += v * v;
        }
        double inv = 1 / Math.sqrt(ms / x.length + eps);
        double[] g = w.get(gain);
        double[] y = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            y[k] = g[k] * (x[k] * inv);
        }
        return y;
    }

    private double[] mlp(double[] x, String p) {
        double[] g = lin(p + "gate_proj.weight", x);
        double[] u = lin(p + "up_proj.weight", x);
        for (int k = 0; k < g.length; k++) {
            g[k] = g[k] / (1 + Math.exp(-g[k])) * u[k];
        }
        return lin(p + "down_proj.weight", g);
    }

    /** HF's rotate_half RoPE on x (dim) at position pos: x*cos + rotate_half(x)*sin. */
    private double[] rope(double[] x, int pos) {
        int dim = x.length;
        int half = dim / 2;
        double[] y = new double[dim];
        for (int k = 0; k < dim; k++) {
            double invFreq = 1 / Math.pow(d("rope_theta"), (2.0 * (k % half)) / dim);
            double ang = pos * invFreq;
            double rot = k < half ? -x[k + half] : x[k - half];
            y[k] = x[k] * Math.cos(ang) + rot * Math.sin(ang);
        }
        return y;
    }

    /** transformers' de-interleave: view(d/2, 2).transpose -> evens then odds. */
    private static double[] deinterleave(double[] x) {
        double[] y = new double[x.length];
        for (int k = 0; k < x.length / 2; k++) {
            y[k] = x[2 * k];
            y[k + x.length / 2] = x[2 * k + 1];
        }
        return y;
    }

    private static double[] slice(double[] x, int from, int to) {
        return Arrays.copyOfRange(x, from, to);
    }

    /** Logits (T, vocab) of the token ids. */
    double[][] logits(int[] ids) {
        int t = ids.length;
        int dm = i("hidden_size");
        double[] emb = w.get("model.embed_tokens.weight");
        double[][] h = new double[t][];
        for (int p = 0; p < t; p++) {
            h[p] = slice(emb, ids[p] * dm, (ids[p] + 1) * dm);
        }
        for (int l = 0; l < i("num_hidden_layers"); l++) {
            String p = "model.layers." + l + ".";
            double[][] a = new double[t][];
            for (int q = 0; q < t; q++) {
                a[q] = rms(h[q], p + "input_layernorm.weight");
            }
            double[][] att =
                    arch.equals("LlamaForCausalLM")
                            ? llamaAttention(a, p + "self_attn.")
                            : mla(a, p + "self_attn.");
            for (int q = 0; q < t; q++) {
                double[] x = add(h[q], att[q]);
                double[] m = rms(x, p + "post_attention_layernorm.weight");
                boolean moe =
                        arch.equals("DeepseekV3ForCausalLM") && l >= i("first_k_dense_replace");
                h[q] = add(x, moe ? moe(m, p + "mlp.") : mlp(m, p + "mlp."));
            }
        }
        String head =
                cfg.get("tie_word_embeddings").getAsBoolean()
                        ? "model.embed_tokens.weight"
                        : "lm_head.weight";
        double[][] out = new double[t][];
        for (int q = 0; q < t; q++) {
            out[q] = lin(head, rms(h[q], "model.norm.weight"));
        }
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = a.clone();
        for (int k = 0; k < y.length; k++) {
            y[k] += b[k];
        }
        return y;
    }

    private double[][] llamaAttention(double[][] x, String p) {
        int t = x.length;
        int heads = i("num_attention_heads");
        int hd = i("head_dim");
        int rep = heads / i("num_key_value_heads"); // repeat_kv: query head h reads key/value
        // head h / rep
        double[][][] q = new double[t][heads][];
        double[][][] k = new double[t][heads][];
        double[][][] v = new double[t][heads][];
        for (int s = 0; s < t; s++) {
            double[] qa = lin(p + "q_proj.weight", x[s]);
            double[] ka = lin(p + "k_proj.weight", x[s]);
            double[] va = lin(p + "v_proj.weight", x[s]);
            for (int h = 0; h < heads; h++) {
                int g = h / rep;
                q[s][h] = rope(slice(qa, h * hd, (h + 1) * hd), s);
                k[s][h] = rope(slice(ka, g * hd, (g + 1) * hd), s);
                v[s][h] = slice(va, g * hd, (g + 1) * hd);
            }
        }
        return output(q, k, v, Math.pow(hd, -0.5), p);
    }

    private double[][] mla(double[][] x, String p) {
        int t = x.length;
        int heads = i("num_attention_heads");
        int nope = i("qk_nope_head_dim");
        int rope = i("qk_rope_head_dim");
        int vd = i("v_head_dim");
        int rank = i("kv_lora_rank");
        boolean inter = cfg.get("rope_interleave").getAsBoolean();
        double[][][] q = new double[t][heads][];
        double[][][] k = new double[t][heads][];
        double[][][] v = new double[t][heads][];
        for (int s = 0; s < t; s++) {
            double[] qa =
                    cfg.get("q_lora_rank").isJsonNull()
                            ? lin(p + "q_proj.weight", x[s])
                            : lin(
                                    p + "q_b_proj.weight",
                                    rms(
                                            lin(p + "q_a_proj.weight", x[s]),
                                            p + "q_a_layernorm.weight",
                                            MLA_NORM_EPS));
            double[] ckv = lin(p + "kv_a_proj_with_mqa.weight", x[s]);
            double[] kRot = slice(ckv, rank, rank + rope);
            kRot = rope(inter ? deinterleave(kRot) : kRot, s);
            double[] kv =
                    lin(
                            p + "kv_b_proj.weight",
                            rms(slice(ckv, 0, rank), p + "kv_a_layernorm.weight", MLA_NORM_EPS));
            for (int h = 0; h < heads; h++) {
                int b = h * (nope + rope);
                double[] qRot = slice(qa, b + nope, b + nope + rope);
                qRot = rope(inter ? deinterleave(qRot) : qRot, s);
                q[s][h] = concat(slice(qa, b, b + nope), qRot);
                int c = h * (nope + vd);
                k[s][h] = concat(slice(kv, c, c + nope), kRot);
                v[s][h] = slice(kv, c + nope, c + nope + vd);
            }
        }
        return output(q, k, v, Math.pow(nope + rope, -0.5), p);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] y = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, y, a.length, b.length);
        return y;
    }

    /** Causal softmax attention per head, then o_proj. */
    private double[][] output(
            double[][][] q, double[][][] k, double[][][] v, double scale, String p) {
        int t = q.length;
        int heads = q[0].length;
        int vd = v[0][0].length;
        double[][] out = new double[t][];
        for (int s = 0; s < t; s++) {
            double[] o = new double[heads * vd];
            for (int h = 0; h < heads; h++) {
                double[] sc = new double[s + 1];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= s; j++) {
                    double dot = 0;
                    for (int c = 0; c < q[s][h].length; c++) {
                        dot += q[s][h][c] * k[j][h][c];
                    }
                    sc[j] = dot * scale;
                    mx = Math.max(mx, sc[j]);
                }
                double sum = 0;
                for (int j = 0; j <= s; j++) {
                    sc[j] = Math.exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (int j = 0; j <= s; j++) {
                    for (int c = 0; c < vd; c++) {
                        o[h * vd + c] += sc[j] / sum * v[j][h][c];
                    }
                }
            }
            out[s] = lin(p + "o_proj.weight", o);
        }
        return out;
    }

    /** DeepseekV3MoE: sigmoid scores, top-k on scores + bias, weights normalised and scaled. */
    private double[] moe(double[] x, String p) {
        int e = i("n_routed_experts");
        int k = i("num_experts_per_tok");
        double[] logits = lin(p + "gate.weight", x);
        double[] bias = w.get(p + "gate.e_score_correction_bias");
        double[] scores = new double[e];
        List<Integer> ids = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            scores[j] = 1 / (1 + Math.exp(-logits[j]));
            ids.add(j);
        }
        ids.sort(Comparator.comparingDouble(j -> -(scores[j] + bias[j])));
        double sum = 0;
        for (int j = 0; j < k; j++) {
            sum += scores[ids.get(j)];
        }
        double norm = cfg.get("norm_topk_prob").getAsBoolean() ? sum + 1e-20 : 1;
        double[] y = new double[x.length];
        for (int j = 0; j < k; j++) {
            int ex = ids.get(j);
            double wt = scores[ex] / norm * d("routed_scaling_factor");
            double[] ye = mlp(x, p + "experts." + ex + ".");
            for (int c = 0; c < y.length; c++) {
                y[c] += wt * ye[c];
            }
        }
        if (i("n_shared_experts") > 0) {
            y = add(y, mlp(x, p + "shared_experts."));
        }
        return y;
    }

    /** Greedy continuation: argmax of the last position, full forward each step, stop after eos. */
    int[] greedy(int[] prompt, int n) {
        int eos = cfg.get("eos_token_id").getAsInt();
        List<Integer> ids = new ArrayList<>();
        for (int id : prompt) {
            ids.add(id);
        }
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            double[][] lg = logits(ids.stream().mapToInt(Integer::intValue).toArray());
            double[] last = lg[lg.length - 1];
            int best = 0;
            for (int j = 1; j < last.length; j++) {
                if (last[j] > last[best]) {
                    best = j;
                }
            }
            out.add(best);
            ids.add(best);
            if (best == eos) {
                break;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
