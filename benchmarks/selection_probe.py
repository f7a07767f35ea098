"""Could best-model selection have kept a better model? Every check of one default training, scored.

Trains a system with the defaults of ``attractor train`` (the ``dsr`` protocol's data: 100 000
noisy training points at the system's sampling step, a clean test trajectory) and, at every
selection check (every 10 epochs), records what the selector sees — D_stsp and D_H of 3 free
runs against the validation tail of the training data — next to what the user will see: D_stsp
and D_H of a free run from the first test point (20 000 test rows) and the model's largest
Lyapunov exponent per time unit (QR over 20 000 steps after 2 000). At the end it prints the
rank correlations between the validation and the test scores, the model each validation score
would keep, and the best the run ever had on the test scores (an oracle no selector can reach).

    .venv/bin/python benchmarks/selection_probe.py thomas --seed 0 --out probe.json

If no checkpoint has a good test D_H or lambda_max, selection is not what fails: training is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from attractor.dsr.data import system_data
from attractor.dsr.evaluate import contexts_at, generate_runs, model_lyapunov
from attractor.dsr.pipeline import RunSpec, fit
from attractor.dsr.selection import validation_tail
from attractor.metrics.protocol import evaluate_generated
from attractor.systems import get, lyapunov_spectrum

TEST_ROWS = 20_000
LYAPUNOV_STEPS = 20_000


def probe(system: str, seed: int, out: Path) -> list[dict[str, Any]]:
    """Train with the defaults and score every selection check; rows also written to ``out``."""
    data = system_data(system, seed=seed)
    spec = RunSpec(seed=seed)
    validation = np.asarray(validation_tail(data), np.float64)
    test = np.asarray(data.test[:TEST_ROWS], np.float64)
    rows: list[dict[str, Any]] = []

    def check(epoch: int, model: Any, loss: float, info: Any) -> bool:
        if epoch % spec.select_every:
            return False
        runs, _ = generate_runs(model, validation, 3)
        val = evaluate_generated(validation, list(runs))
        run, _ = generate_runs(model, test, 1)
        tst = evaluate_generated(test, list(run))
        start = contexts_at(model, test, np.array([0]))[0]
        lam = model_lyapunov(model, start, steps=LYAPUNOV_STEPS, transient=2_000, dt=data.dt)
        rows.append({"epoch": epoch, "loss": loss, "val_D_stsp": max(val["d_stsp"]),
                     "val_D_H": max(val["d_h"]), "test_D_stsp": tst["d_stsp"][0],
                     "test_D_H": tst["d_h"][0], "lambda_max": lam})
        out.write_text(json.dumps(rows, indent=1))
        print(f"epoch {epoch}: val D_stsp {rows[-1]['val_D_stsp']:.3f} D_H "
              f"{rows[-1]['val_D_H']:.3f} | test D_stsp {rows[-1]['test_D_stsp']:.3f} D_H "
              f"{rows[-1]['test_D_H']:.3f} lambda_max {lam:.3f}", flush=True)
        return False

    started = time.perf_counter()
    fit(data, spec, callback=check)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    return rows


def summarise(rows: list[dict[str, Any]], lambda_system: float) -> None:
    """Rank correlations, the model each validation score keeps, and the oracles."""
    table = {k: np.array([np.nan if r[k] is None else r[k] for r in rows], float) for k in rows[0]}
    table["lambda_error"] = np.abs(table["lambda_max"] / lambda_system - 1.0)
    print(f"system lambda_1 {lambda_system:.4f}; {len(rows)} checks")
    for val in ("val_D_stsp", "val_D_H"):
        for tst in ("test_D_stsp", "test_D_H", "lambda_error"):
            ok = np.isfinite(table[val]) & np.isfinite(table[tst])
            rho = spearmanr(table[val][ok], table[tst][ok])[0]
            print(f"  rank correlation {val} ~ {tst}: {rho:.2f}")
    for key in ("val_D_stsp", "val_D_H", "test_D_H", "lambda_error"):
        scores = np.where(np.isfinite(table[key]), table[key], np.inf)
        i = int(np.argmin(scores))
        kind = "kept by" if key.startswith("val") else "oracle, best"
        print(f"  {kind} {key}: epoch {rows[i]['epoch']}, test D_stsp "
              f"{table['test_D_stsp'][i]:.3f}, D_H {table['test_D_H'][i]:.3f}, lambda_max "
              f"{table['lambda_max'][i]:.3f} ({100 * table['lambda_error'][i]:.0f} % off)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the checks")
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists; choose another --out", file=sys.stderr)
        return 2
    rows = probe(args.system, args.seed, args.out)
    lambda_system = float(lyapunov_spectrum(get(args.system), n_steps=100_000).exponents[0])
    summarise(rows, lambda_system)
    return 0


if __name__ == "__main__":
    sys.exit(main())
