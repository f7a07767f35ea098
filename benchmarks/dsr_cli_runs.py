"""Run ``attractor train ... --json`` for several seeds and report medians of the DSR metrics.

Issue 3's acceptance runs, exactly as a user types them (CLI defaults unless given):

    .venv/bin/python benchmarks/dsr_cli_runs.py --seeds 0 1 2 -- \
        --system lorenz63 --model shplrnn --forcing agtf

Targets for that command: median D_stsp <= 0.25, D_H <= 0.10, lambda_max within 10 % of 0.906,
each run inside 10 minutes on the 2-core CPU. Everything after ``--`` goes to ``attractor train``;
each run writes ``<outdir>/seed<S>``.

Issue 11's acceptance runs, Lorenz-63 observed through x only and delay-embedded (the metrics are
then on the embedded test series; the chosen embedding is printed per seed):

    .venv/bin/python benchmarks/dsr_cli_runs.py --seeds 0 1 2 -- \
        --system lorenz63 --observe 0 --embed auto --model shplrnn --forcing agtf

Target: D_H <= 0.15.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

KEYS = (
    "D_stsp",
    "D_H",
    "PE",
    "lambda_max",
    "n_subregions",
    "D_stsp_starts_median",
    "D_H_starts_median",
    "train_seconds",
    "selected_epoch",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--outdir", type=Path, default=None)
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    train_args = [a for a in args.train_args if a != "--"]
    outdir = args.outdir or Path(tempfile.mkdtemp(prefix="attractor-dsr-"))
    exe = Path(sys.executable).with_name("attractor")
    rows = []
    for seed in args.seeds:
        out = outdir / f"seed{seed}"
        cmd = [str(exe), "train", *train_args, "--seed", str(seed), "--out", str(out), "--json"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(f"seed {seed}: FAILED ({proc.returncode}): {proc.stderr.strip()}")
            continue
        metrics = json.loads(proc.stdout)
        metrics["wall_seconds"] = wall
        rows.append((seed, metrics))
        shown = "  ".join(f"{k} {metrics[k]:.4g}" for k in KEYS if metrics.get(k) is not None)
        embedding = json.loads((out / "config.json").read_text())["metadata"].get("embedding")
        if embedding:
            shown += f"  embedding m={embedding['m']} tau={embedding['tau']}"
        attempts = metrics.get("attempts") or []
        if len(attempts) > 1:  # a failed first training was trained again (--retries)
            kept = next(a["attempt"] for a in attempts if a["kept"])
            shown += f"  attempts {len(attempts)} (kept {kept})"
        if metrics.get("settled_probes"):
            shown += f"  settled probes {metrics['settled_probes']} of {metrics['n_probes']}"
        print(f"seed {seed}: {shown}  wall {wall:.0f} s", flush=True)
    print("command: attractor train " + " ".join(train_args) + " --seed S --out DIR --json")
    for key in (*KEYS, "wall_seconds"):
        values = [m[key] for _, m in rows if m.get(key) is not None]
        if values:
            med = float(np.median(values))
            print(
                f"{key:>15}: median {med:.4g}  (min {min(values):.4g}, max {max(values):.4g}, "
                f"n={len(values)})"
            )


if __name__ == "__main__":
    main()
