"""Do validation runs from the data's slowest states reveal a model's spurious attractor?

For each run directory of ``attractor train --system ...`` (the data are regenerated from its
``config.json``, smoothed as the run smoothed them), scores the saved model as best-model
selection does: D_stsp of free runs from the 3 evenly spaced starts along the validation tail,
and of runs twice as long from the 3 slowest states (the slowest row of each third, where the
flow passes near its fixed points), next to the run's own D_stsp from its 5 test starts. The ratio
of the worst slow-start score to the worst even-start score flags a spurious attractor
(BENCHMARKS.md, issue 11, item 7):

    .venv/bin/python benchmarks/slow_starts_probe.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from attractor.dsr.adaptive import denoised
from attractor.dsr.data import system_data
from attractor.dsr.evaluate import generate_runs
from attractor.dsr.selection import SELECTION_METRICS, validation_tail
from attractor.models.io import load_model

#: Slow starts per model, and the rows over which the speed is averaged before the slowest are
#: picked (observation noise would otherwise decide which rows are slowest).
N_SLOW_STARTS = 3
SPEED_SMOOTHING = 11


def slowest_rows(x: np.ndarray, k: int, smoothing: int = SPEED_SMOOTHING) -> np.ndarray:
    """Row indices of the slowest state of ``x`` ``(T, N)`` in each of ``k`` equal stretches.

    The speed is ``||x_{t+1} - x_t||`` averaged over ``smoothing`` rows. Where a flow is slowest
    its trajectories pass near fixed points, so this is where a model's spurious fixed points and
    small cycles (stable versions of the system's unstable foci) have their basins.
    """
    speed = np.linalg.norm(np.diff(np.asarray(x, np.float64), axis=0), axis=1)
    speed = np.convolve(speed, np.ones(smoothing) / smoothing, mode="same")
    stretches = np.array_split(np.arange(len(speed)), k)
    return np.array([s[np.argmin(speed[s])] for s in stretches], dtype=int)


def probe(run_dir: Path) -> dict[str, object]:
    """Even- and slow-start validation scores of the model saved in ``run_dir``."""
    config = json.loads((run_dir / "config.json").read_text())
    meta = config["metadata"]
    spec = meta["run"]["spec"]
    source = meta["data"]
    data = system_data(source["system"], n_train=source["n_train"], n_test=source["n_test"],
                       noise=source["noise"], seed=spec["seed"], dt=source["dt"])
    train, _, _ = denoised(spec.get("denoise"), data.train)
    validation = validation_tail(dataclasses.replace(data, train=train)).astype(np.float64)
    model, _ = load_model(run_dir)
    distance = SELECTION_METRICS["d_stsp"]

    def scores(runs: np.ndarray) -> list[float]:
        return [float(distance(validation, r)) if np.all(np.isfinite(r)) else float("inf")
                for r in runs]

    even = scores(generate_runs(model, validation, 3)[0])
    ends = slowest_rows(validation, N_SLOW_STARTS)
    slow = scores(generate_runs(model, validation, len(ends), steps=2 * len(validation),
                                ends=ends)[0])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"run": str(run_dir), "even": even, "slow": slow,
            "ratio": max(slow) / max(even), "test_D_stsp_starts": metrics.get("D_stsp_starts")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    for run_dir in args.runs:
        r = probe(run_dir)
        fmt = lambda v: "[" + ", ".join(f"{x:.2f}" for x in v) + "]"  # noqa: E731
        print(f"{r['run']}: even {fmt(r['even'])} slow {fmt(r['slow'])} ratio {r['ratio']:.1f} "
              f"test starts {fmt(r['test_D_stsp_starts'] or [])}", flush=True)


if __name__ == "__main__":
    main()
