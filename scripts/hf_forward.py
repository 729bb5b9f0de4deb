#!/usr/bin/env python3
"""An independent reader of a Hugging Face export (numpy only, float64).

Written from the semantics of transformers' LlamaForCausalLM and DeepseekV3ForCausalLM (eager
attention, RMSNorm, rotate_half RoPE; DeepSeek-V3: MLA with rope_interleave, the sigmoid
top-k router with e_score_correction_bias, shared experts) and of the tokenizers library's
byte-level BPE (pre-tokenizer regex, bytes-to-unicode, merges by priority, ignore_merges). It
reads only the exported files: model.safetensors, config.json, tokenizer.json.

    hf_forward.py logits DIR IDS          IDS comma-separated; prints {"logits": [[...], ...]}
    hf_forward.py greedy DIR IDS N        prints {"ids": [...]} (stops after eos_token_id)
    hf_forward.py encode DIR TEXT_FILE    prints {"ids": [...]} for the file's UTF-8 text
    hf_forward.py decode DIR IDS          prints {"text": "..."}
"""
import json
import struct
import sys

import numpy as np


# ----------------------------------------------------------------------------- safetensors

def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        raw = data[base + b:base + e]
        if t["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif t["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2")
        elif t["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("unsupported dtype " + t["dtype"])
        out[name] = a.astype(np.float64).reshape(t["shape"])
    return out, header.get("__metadata__", {})


# ----------------------------------------------------------------------------- model

def rms_norm(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def silu(x):
    return x / (1.0 + np.exp(-x))


def mlp(x, w, prefix):
    g = x @ w[prefix + "gate_proj.weight"].T
    u = x @ w[prefix + "up_proj.weight"].T
    return (silu(g) * u) @ w[prefix + "down_proj.weight"].T


def rope_tables(dim, theta, t):
    inv_freq = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    freqs = np.outer(np.arange(t, dtype=np.float64), inv_freq)  # (T, dim/2)
    emb = np.concatenate([freqs, freqs], axis=-1)  # (T, dim)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def deinterleave(x):
    # (..., d) with pairs (2i, 2i+1) -> (..., d) with evens first, then odds
    return np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)


def attention(q, k, v, scale):
    # q, k (H, T, dq); v (H, T, dv); causal softmax
    t = q.shape[1]
    s = q @ k.transpose(0, 2, 1) * scale
    s = s + np.triu(np.full((t, t), -np.inf), 1)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(axis=-1, keepdims=True)
    return p @ v  # (H, T, dv)


def llama_attention(x, w, p, cfg):
    t = x.shape[0]
    h = cfg["num_attention_heads"]
    kvh = cfg.get("num_key_value_heads", h)
    hd = cfg.get("head_dim") or cfg["hidden_size"] // h
    q = (x @ w[p + "q_proj.weight"].T).reshape(t, h, hd).transpose(1, 0, 2)
    k = (x @ w[p + "k_proj.weight"].T).reshape(t, kvh, hd).transpose(1, 0, 2)
    v = (x @ w[p + "v_proj.weight"].T).reshape(t, kvh, hd).transpose(1, 0, 2)
    cos, sin = rope_tables(hd, cfg.get("rope_theta", 10000.0), t)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    k = np.repeat(k, h // kvh, axis=0)
    v = np.repeat(v, h // kvh, axis=0)
    o = attention(q, k, v, hd ** -0.5).transpose(1, 0, 2).reshape(t, h * hd)
    return o @ w[p + "o_proj.weight"].T


def deepseek_attention(x, w, p, cfg):
    t = x.shape[0]
    h = cfg["num_attention_heads"]
    nope, rope, vd = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    rank = cfg["kv_lora_rank"]
    eps = 1e-6  # DeepseekV3Attention builds q_a_layernorm / kv_a_layernorm with RMSNorm's default eps
    if cfg.get("q_lora_rank") is None:
        q = x @ w[p + "q_proj.weight"].T
    else:
        q = rms_norm(x @ w[p + "q_a_proj.weight"].T, w[p + "q_a_layernorm.weight"], eps) @ w[p + "q_b_proj.weight"].T
    q = q.reshape(t, h, nope + rope).transpose(1, 0, 2)
    q_pass, q_rot = q[..., :nope], q[..., nope:]
    ckv = x @ w[p + "kv_a_proj_with_mqa.weight"].T
    k_pass, k_rot = ckv[:, :rank], ckv[:, rank:]
    kv = (rms_norm(k_pass, w[p + "kv_a_layernorm.weight"], eps) @ w[p + "kv_b_proj.weight"].T)
    kv = kv.reshape(t, h, nope + vd).transpose(1, 0, 2)
    k_pass, v = kv[..., :nope], kv[..., nope:]
    k_rot = k_rot.reshape(1, t, rope)
    cos, sin = rope_tables(rope, cfg.get("rope_theta", 10000.0), t)
    if cfg.get("rope_interleave", True):
        q_rot, k_rot = deinterleave(q_rot), deinterleave(k_rot)
    q_rot, k_rot = apply_rope(q_rot, cos, sin), apply_rope(k_rot, cos, sin)
    k_rot = np.broadcast_to(k_rot, (h, t, rope))
    qs = np.concatenate([q_pass, q_rot], axis=-1)
    ks = np.concatenate([k_pass, k_rot], axis=-1)
    o = attention(qs, ks, v, (nope + rope) ** -0.5).transpose(1, 0, 2).reshape(t, h * vd)
    return o @ w[p + "o_proj.weight"].T


def deepseek_moe(x, w, p, cfg):
    e = cfg["n_routed_experts"]
    k = cfg["num_experts_per_tok"]
    ng, tg = cfg.get("n_group", 1), cfg.get("topk_group", 1)
    scores = 1.0 / (1.0 + np.exp(-(x @ w[p + "gate.weight"].T)))  # (T, E)
    choice = scores + w[p + "gate.e_score_correction_bias"][None, :]
    grouped = choice.reshape(-1, ng, e // ng)
    group_scores = np.sort(grouped, axis=-1)[..., -2:].sum(-1)  # (T, ng)
    keep = np.argsort(-group_scores, axis=-1, kind="stable")[:, :tg]
    mask = np.zeros_like(group_scores)
    np.put_along_axis(mask, keep, 1.0, axis=-1)
    choice = np.where(np.repeat(mask, e // ng, axis=-1) > 0, choice, 0.0)
    idx = np.argsort(-choice, axis=-1, kind="stable")[:, :k]  # (T, k)
    wts = np.take_along_axis(scores, idx, axis=-1)
    if cfg.get("norm_topk_prob", True):
        wts = wts / (wts.sum(-1, keepdims=True) + 1e-20)
    wts = wts * cfg.get("routed_scaling_factor", 1.0)
    y = np.zeros_like(x)
    for ti in range(x.shape[0]):
        for j in range(k):
            y[ti] += wts[ti, j] * mlp(x[ti:ti + 1], w, p + "experts.%d." % idx[ti, j])[0]
    if cfg.get("n_shared_experts", 0):
        y = y + mlp(x, w, p + "shared_experts.")
    return y


def forward(d, ids):
    cfg = json.load(open(d + "/config.json"))
    w, _ = load_safetensors(d + "/model.safetensors")
    arch = cfg["architectures"][0]
    eps = cfg["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][np.asarray(ids)]
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        if arch == "LlamaForCausalLM":
            x = x + llama_attention(a, w, p + "self_attn.", cfg)
        elif arch == "DeepseekV3ForCausalLM":
            x = x + deepseek_attention(a, w, p + "self_attn.", cfg)
        else:
            raise ValueError("unsupported architecture " + arch)
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        if arch == "DeepseekV3ForCausalLM" and l >= cfg["first_k_dense_replace"]:
            x = x + deepseek_moe(m, w, p + "mlp.", cfg)
        else:
            x = x + mlp(m, w, p + "mlp.")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def greedy(d, ids, n):
    cfg = json.load(open(d + "/config.json"))
    eos = cfg.get("eos_token_id")
    ids = list(ids)
    out = []
    for _ in range(n):
        nxt = int(np.argmax(forward(d, ids)[-1]))
        out.append(nxt)
        ids.append(nxt)
        if nxt == eos:
            break
    return out


# ----------------------------------------------------------------------------- tokenizer

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


class HfBpe:
    def __init__(self, path):
        import regex  # the tokenizers library's regexes use \p{..} classes

        tj = json.load(open(path, encoding="utf-8"))
        model = tj["model"]
        assert model["type"] == "BPE"
        self.vocab = model["vocab"]
        self.inv = {v: k for k, v in self.vocab.items()}
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.ignore_merges = model.get("ignore_merges", False)
        self.b2u = bytes_to_unicode()
        self.u2b = {c: b for b, c in self.b2u.items()}
        self.splits = []  # regexes applied in order (each isolates its matches)
        self.byte_level_regex = False
        pre = tj["pre_tokenizer"]
        steps = pre["pretokenizers"] if pre["type"] == "Sequence" else [pre]
        for s in steps:
            if s["type"] == "Split":
                assert s["behavior"] == "Isolated" and not s["invert"]
                self.splits.append(regex.compile(s["pattern"]["Regex"]))
            elif s["type"] == "ByteLevel":
                assert not s.get("add_prefix_space", False)
                if s.get("use_regex", True):
                    self.splits.append(regex.compile(GPT2_PATTERN))
            else:
                raise ValueError("unsupported pre-tokenizer " + s["type"])
        assert not tj.get("added_tokens"), "added tokens are not handled by this reader"
        assert tj.get("normalizer") is None

    @staticmethod
    def isolate(pieces, rx):
        out = []
        for p in pieces:
            last = 0
            for m in rx.finditer(p):
                if m.start() > last:
                    out.append(p[last:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                last = m.end()
            if last < len(p):
                out.append(p[last:])
        return out

    def bpe(self, word):
        if self.ignore_merges and word in self.vocab:
            return [word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return parts

    def encode(self, text):
        pieces = [text] if text else []
        for rx in self.splits:
            pieces = self.isolate(pieces, rx)
        ids = []
        for p in pieces:
            word = "".join(self.b2u[b] for b in p.encode("utf-8"))
            ids.extend(self.vocab[t] for t in self.bpe(word))
        return ids

    def decode(self, ids):
        s = "".join(self.inv[i] for i in ids)
        return bytes(self.u2b[c] for c in s).decode("utf-8", errors="replace")


def main(argv):
    if len(argv) < 4 and not (len(argv) == 3 and argv[1] == "decode"):
        raise SystemExit(__doc__)
    cmd, d = argv[1], argv[2]
    if cmd == "logits":
        ids = [int(v) for v in argv[3].split(",")]
        print(json.dumps({"logits": forward(d, ids).tolist()}))
    elif cmd == "greedy":
        ids = [int(v) for v in argv[3].split(",")]
        print(json.dumps({"ids": greedy(d, ids, int(argv[4]))}))
    elif cmd == "encode":
        text = open(argv[3], encoding="utf-8", newline="").read()
        print(json.dumps({"ids": HfBpe(d + "/tokenizer.json").encode(text)}))
    elif cmd == "decode":
        ids = [int(v) for v in argv[3].split(",")] if argv[3] else []
        print(json.dumps({"text": HfBpe(d + "/tokenizer.json").decode(ids)}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
