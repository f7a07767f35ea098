"""Issue 9, item 6: compare two sets of ``attractor train`` runs seed by seed, e.g. the sequential
rollout against ``--time-parallel`` (same flags otherwise):

    .venv/bin/python benchmarks/dsr_cli_runs.py --seeds 0 1 2 3 4 --outdir SEQ -- \\
        --system lorenz63 --model shplrnn --seq-len 1000
    .venv/bin/python benchmarks/dsr_cli_runs.py --seeds 0 1 2 3 4 --outdir PAR -- \\
        --system lorenz63 --model shplrnn --seq-len 1000 --time-parallel
    .venv/bin/python benchmarks/parity_table.py SEQ PAR

Prints one Markdown row per seed and arm (D_stsp, D_H, λ_max, the medians over the 5 test starts,
selected epoch, training seconds, Newton iterations and fallbacks of the last epoch), the
median and range per arm, and how far the two arms' training losses (mean per epoch) are apart:
the largest relative difference over the first 100 and 300 epochs and over all the epochs both
ran. Equal losses mean the two rollouts trained the same model up to float32 rounding, which
grows as training goes on; the quality columns then differ only by which checkpoint the
validation selected.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

COLUMNS = ("D_stsp", "D_H", "lambda_max", "D_stsp_starts_median", "D_H_starts_median")


def _seeds(folder: Path) -> dict[int, Path]:
    runs = {int(p.name[4:]): p for p in folder.glob("seed*")
            if p.name[4:].isdigit() and (p / "metrics.json").is_file()}
    return dict(sorted(runs.items()))


def _losses(run: Path) -> np.ndarray:
    return np.asarray(json.loads((run / "checkpoint" / "progress.json").read_text())["losses"])


def _cell(value: object, fmt: str = ".3f") -> str:
    return "–" if value is None else f"{value:{fmt}}"


def _row(arm: str, seed: int, m: dict) -> str:
    return (f"| {arm} | {seed} | " + " | ".join(_cell(m.get(k)) for k in COLUMNS)
            + f" | {m.get('selected_epoch')} of {m.get('epochs')} | {m['train_seconds']:.0f} | "
            f"{_cell(m.get('final_newton_iterations'), '.1f')} / "
            f"{_cell(m.get('final_newton_iterations_max'), '.0f')} | "
            f"{_cell(m.get('final_newton_fallbacks'), '.0f')} |")


def _loss_gap(a: Path, b: Path) -> str:
    la, lb = _losses(a), _losses(b)
    n = min(la.size, lb.size)
    rel = np.abs(la[:n] - lb[:n]) / np.abs(la[:n])
    parts = [f"{rel[:k].max():.1e} (first {k})" for k in (100, 300) if n >= k]
    return ", ".join([*parts, f"{rel.max():.1e} (all {n})"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="runs of the first arm (seedS folders)")
    parser.add_argument("second", type=Path, help="runs of the second arm")
    args = parser.parse_args()
    names = (args.first.name, args.second.name)
    if names[0] == names[1]:  # e.g. a/runs and b/runs: name the arms by their parents too
        names = (str(args.first), str(args.second))
    arms = {names[0]: _seeds(args.first), names[1]: _seeds(args.second)}
    print("| arm | seed | " + " | ".join(COLUMNS) + " | selected epoch | train s | "
          "Newton its mean / max | fallbacks |")
    print("|---" * (len(COLUMNS) + 6) + "|")
    metrics = {arm: {s: json.loads((p / "metrics.json").read_text()) for s, p in runs.items()}
               for arm, runs in arms.items()}
    for arm, by_seed in metrics.items():
        for seed, m in by_seed.items():
            print(_row(arm, seed, m))
    print()
    for arm, by_seed in metrics.items():
        cells = []
        for key in (*COLUMNS, "train_seconds"):
            values = [m[key] for m in by_seed.values() if m.get(key) is not None]
            if values:
                cells.append(f"{key} {np.median(values):.3f} [{min(values):.3f}, "
                             f"{max(values):.3f}]")
        print(f"{arm} (n={len(by_seed)}), median [min, max]: " + "; ".join(cells))
    print()
    first, second = arms.values()
    for seed in sorted(set(first) & set(second)):
        print(f"seed {seed}: training loss, largest relative difference: "
              f"{_loss_gap(first[seed], second[seed])}")


if __name__ == "__main__":
    main()
