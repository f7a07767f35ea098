"""Time to quality: wall-clock until a GTF-shPLRNN reconstructs Lorenz-63.

Target (issue 3): D_stsp <= 0.25 and D_H <= 0.10 within 5 minutes on a 2-core CPU, from the
default noisy training data (100 000 points, dt = 0.01, standardised, 5 % observation noise),
with the CLI's default settings (shPLRNN M=3, L=100, aGTF, the DEFAULT_EPOCHS = 800 schedule).

Every ``--every`` epochs the model is evaluated with the protocol's first run (1.25 T steps from
the first test point, last T = 100 000 compared). The clock counts training only; evaluation time
is reported separately (it is not needed to train). Medians over seeds.

    .venv/bin/python benchmarks/time_to_quality.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import numpy as np

from attractor.dsr import RunSpec, fit, generate_runs, system_data
from attractor.metrics import power_spectrum_hellinger, state_space_divergence_binned
from attractor.models import get_spec

DEFAULT_EPOCHS = get_spec("shplrnn").recipe.epochs

D_STSP_TARGET = 0.25
D_H_TARGET = 0.10


def one_seed(seed: int, every: int, epochs: int) -> dict:
    data = system_data("lorenz63", seed=seed)
    spec = RunSpec(model="shplrnn", objective="agtf", epochs=epochs, seed=seed, select_every=None)
    state = {"eval_seconds": 0.0, "reached": None, "history": []}
    t_start = time.perf_counter()

    def callback(epoch: int, m, loss: float, info: dict) -> bool:
        alpha = info["alpha"]
        if epoch % every:
            return False
        t0 = time.perf_counter()
        gen, _ = generate_runs(m, data.test, 1)
        d_stsp = state_space_divergence_binned(data.test, gen[0])
        d_h = power_spectrum_hellinger(data.test, gen[0])
        state["eval_seconds"] += time.perf_counter() - t0
        train_clock = time.perf_counter() - t_start - state["eval_seconds"]
        state["history"].append((epoch, round(train_clock, 1), d_stsp, d_h))
        print(
            f"  seed {seed} epoch {epoch:4d} train {train_clock:6.1f} s  D_stsp {d_stsp:.3f}  "
            f"D_H {d_h:.3f}  alpha {alpha:.3f}",
            flush=True,
        )
        if d_stsp <= D_STSP_TARGET and d_h <= D_H_TARGET:
            state["reached"] = {
                "epoch": epoch,
                "train_seconds": train_clock,
                "D_stsp": d_stsp,
                "D_H": d_h,
            }
            return True
        return False

    fit(data, spec, callback=callback)
    return {"seed": seed, **state}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--every", type=int, default=25, help="epochs between evaluations")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, jax {jax.__version__}, "
        f"devices {jax.devices()}"
    )
    results = [one_seed(s, args.every, args.epochs) for s in args.seeds]
    times = [r["reached"]["train_seconds"] if r["reached"] else np.inf for r in results]
    print(json.dumps(results, indent=1, default=float))
    finite = [t for t in times if np.isfinite(t)]
    print(
        f"reached targets in {len(finite)}/{len(times)} seeds; time to quality per seed (s): "
        f"{[round(t, 1) for t in times]}; median {np.median(times):.1f} s "
        f"(target <= 300 s)"
    )


if __name__ == "__main__":
    main()
