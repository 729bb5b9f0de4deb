#!/usr/bin/env python3
"""Writes src/test/resources/golden/muon_golden.json: expected Muon updates in float32.

The update rules are those of KellerJordan/Muon muon.py (muon_update and the SingleDeviceMuon
step), restated here in float32 (the reference casts to bfloat16 for speed on GPUs):
  momentum  M.lerp_(G, 1 - beta)                     i.e. M = beta*M + (1-beta)*G
  nesterov  U = G.lerp(M, beta)                      i.e. U = (1-beta)*G + beta*M; else U = M
  NS        X = U / (||U||_F + 1e-7), transposed when rows > cols, then 5 times
            A = X X^T; B = b*A + c*A A; X = a*X + B X   with (a,b,c) = (3.4445, -4.7750, 2.0315)
  scale     ORIGINAL sqrt(max(1, rows/cols)); MATCH_RMS_ADAMW 0.2*sqrt(max(rows, cols)) (Moonlight)
  weight    W *= 1 - lr*wd; W += -lr * scale * X
rows/cols are the last two dims; leading dims are a batch of matrices.

Run with the Debian PyTorch: /usr/bin/python3 scripts/golden_muon.py  (apt-get install python3-torch)
"""
import json
import math
import os
import sys

import torch

LR = 0.02
BETA = 0.95
NS_STEPS = 5
STEPS = 3
SHAPES = {"tall": [16, 8], "wide": [8, 24], "stack": [3, 8, 12]}


def newton_schulz(u, steps):
    a, b, c = 3.4445, -4.7750, 2.0315
    tall = u.size(-2) > u.size(-1)
    x = u / (torch.linalg.matrix_norm(u, dim=(-2, -1), keepdim=True) + 1e-7)
    if tall:
        x = x.transpose(-2, -1)
    for _ in range(steps):
        gram = x @ x.transpose(-2, -1)
        poly = b * gram + c * (gram @ gram)
        x = a * x + poly @ x
    if tall:
        x = x.transpose(-2, -1)
    return x


def scale_of(adjust, rows, cols):
    if adjust == "ORIGINAL":
        return max(1.0, rows / cols) ** 0.5
    return 0.2 * math.sqrt(max(rows, cols))


def flat(t):
    # 9 significant digits round-trip a float32 exactly and keep the file small
    return [float("%.9g" % v) for v in t.flatten().tolist()]


def run(w0, grads, nesterov, adjust, wd):
    w = w0.clone()
    m = torch.zeros_like(w)
    rows, cols = w.shape[-2], w.shape[-1]
    out = []
    for g in grads:
        g = g.clone()
        m.lerp_(g, 1 - BETA)
        u = g.lerp_(m, BETA) if nesterov else m
        x = newton_schulz(u, NS_STEPS)
        x = x * scale_of(adjust, rows, cols)
        w.mul_(1 - LR * wd)
        w.add_(x, alpha=-LR)
        out.append(flat(w))
    return out


def main():
    torch.manual_seed(20250924)
    torch.set_num_threads(1)
    shapes = {}
    for name, shape in SHAPES.items():
        w0 = (0.1 * torch.randn(shape)).float()
        grads = [torch.randn(shape).float() for _ in range(STEPS)]
        shapes[name] = {
            "shape": shape,
            "w0": flat(w0),
            "grads": [flat(g) for g in grads],
            "_w0": w0,
            "_grads": grads,
        }
    cases = []
    for name, s in shapes.items():
        for nesterov in (True, False):
            for adjust in ("ORIGINAL", "MATCH_RMS_ADAMW"):
                for wd in (0.0, 0.1):
                    weights = run(s["_w0"], s["_grads"], nesterov, adjust, wd)
                    cases.append({"shape": name, "nesterov": nesterov, "adjust": adjust,
                                  "wd": wd, "weights": weights})
    for s in shapes.values():
        del s["_w0"], s["_grads"]
    doc = {
        "generator": "scripts/golden_muon.py (torch " + torch.__version__ + ", float32)",
        "lr": LR, "momentum": BETA, "ns_steps": NS_STEPS,
        "shapes": shapes, "cases": cases,
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "src", "test", "resources", "golden", "muon_golden.json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print("wrote", path, len(cases), "cases", file=sys.stderr)


if __name__ == "__main__":
    main()
