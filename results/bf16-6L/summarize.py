#!/usr/bin/env python3
"""Rebuild this folder's evidence: one summary JSON per run, and the table of BENCHMARKS.md.

  python3 results/bf16-6L/summarize.py runs/bf16-6L   # from the run directories: writes runs/*.json
  python3 results/bf16-6L/summarize.py                # from the committed runs/*.json: table only

  --set NAME (first argument) reads and writes runs-NAME/ instead of runs/: the same commands on another
  machine (runs-xeon: a 2-core Intel Xeon with AMX).

A run directory is `<precision>-seed<seed>` as written by the commands in README.md; its metrics.jsonl
holds one line per step (train_loss, tokens_per_s) and per evaluation (val_loss).
"""
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMAND = ("./muon4j train --preset 6L-512d --optimizer adamw --batch-size 4 --seq-len 128 --steps 300"
           " --warmup 30 --eval-every 50 --seed {seed} --precision {precision}")


def summary(run_dir):
    precision, seed = run_dir.name.split("-seed")
    val, train, speed = {}, {}, []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        m = json.loads(line)
        if "val_loss" in m:
            val[str(m["step"])] = m["val_loss"]
        if "train_loss" in m:
            train[str(m["step"])] = m["train_loss"]
            if m["step"] > 10:
                speed.append(m["tokens_per_s"])
    return {
        "run": run_dir.name, "precision": precision, "seed": int(seed), "preset": "6L-512d",
        "optimizer": "adamw", "batch": 4, "seq_len": 128, "steps": 300, "warmup": 30,
        "command": COMMAND.format(seed=seed, precision=precision),
        "val_loss": val, "train_loss": train,
        "median_tokens_per_s_after_step_10": statistics.median(speed),
    }


def main():
    args = sys.argv[1:]
    folder = HERE / "runs"
    if args[:1] == ["--set"] and len(args) > 1:
        folder = HERE / f"runs-{args[1]}"
        args = args[2:]
    if args:
        folder.mkdir(exist_ok=True)
        for d in sorted(Path(args[0]).iterdir()):
            if (d / "metrics.jsonl").is_file():
                s = summary(d)
                if len(s["train_loss"]) != s["steps"]:
                    sys.exit(f"{d}: {len(s['train_loss'])} of {s['steps']} steps; is the run finished?")
                (folder / f"{d.name}.json").write_text(json.dumps(s, indent=1) + "\n")
    runs = {(s["precision"], s["seed"]): s
            for s in (json.loads(p.read_text()) for p in sorted(folder.glob("*.json")))}
    seeds = sorted({seed for (_, seed) in runs})
    missing = [f"{p}-seed{s}" for p in ("fp32", "bf16") for s in seeds if (p, s) not in runs]
    if missing:
        sys.exit("no summary for " + ", ".join(missing) + ": every seed needs both precisions")
    if len(seeds) < 2:
        sys.exit(f"{len(seeds)} seed(s): the spread and the interval need at least 2")
    cols = [(p, seed) for p in ("fp32", "bf16") for seed in seeds]
    print("| step | " + " | ".join(f"{p} seed {s}" for p, s in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for step in runs[cols[0]]["val_loss"]:
        print(f"| {step} | " + " | ".join(f"{runs[c]['val_loss'][step]:.4f}" for c in cols) + " |")
    for p in ("fp32", "bf16"):
        final = [runs[(p, s)]["val_loss"]["300"] for s in seeds]
        speed = [runs[(p, s)]["median_tokens_per_s_after_step_10"] for s in seeds]
        print(f"{p}: final mean {statistics.mean(final):.4f}, seed spread {max(final) - min(final):.4f},"
              f" standard deviation {statistics.stdev(final):.4f};"
              f" median tokens/s after step 10 {min(speed):.0f}-{max(speed):.0f}")
    # bf16 minus fp32 at step 300, seed by seed (the two runs of a seed share data order and initial weights)
    diff = [runs[("bf16", s)]["val_loss"]["300"] - runs[("fp32", s)]["val_loss"]["300"] for s in seeds]
    mean, sd = statistics.mean(diff), statistics.stdev(diff)
    df = len(diff) - 1
    t = T975[max(k for k in T975 if k <= df)]  # between table rows: the wider t
    half = t * sd / len(diff) ** 0.5
    print("bf16 - fp32 at step 300 by seed: " + ", ".join(f"{d:+.4f}" for d in diff))
    print(f"mean {mean:+.4f}, 95% interval {mean - half:+.4f} to {mean + half:+.4f}"
          f" (t over {len(diff)} seeds); bf16 lower in {sum(d < 0 for d in diff)} of {len(diff)}")


# Student's t, two-sided 95%, by degrees of freedom
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
         18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}

if __name__ == "__main__":
    main()
