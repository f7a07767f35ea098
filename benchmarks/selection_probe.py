"""Could best-model selection have kept a better model? Every check of one training, scored.

Trains a model and, at every selection check (every 10 epochs), records what the selector sees
— D_stsp and D_H of 3 free runs against the validation tail of the training data — next to what
the user will see: D_stsp and D_H of a free run from the first test point over the first
20 000 test rows (``--test-rows``), and the model's largest Lyapunov exponent per time unit (QR
over 20 000 steps after 2 000). At the end it prints the rank correlations between the
validation and the test scores, the model each validation score would keep, and the best the
run ever had on the test scores (an oracle no selector can reach).

A system with the defaults of ``attractor train`` (the ``dsr`` protocol's data: 100 000 noisy
training points at the system's sampling step, a clean test trajectory):

    .venv/bin/python benchmarks/selection_probe.py thomas --seed 0 --out probe.json

Any ``attractor train`` command instead (its arguments after ``--``; ``--out`` is the run's
directory, written as usual), e.g. the delay-embedded ECG recording of
``benchmarks/ecg_reconstruction.py``:

    .venv/bin/python benchmarks/selection_probe.py --out probe.json -- \\
        --data train.npy --test-data test.npy --dt 0.004 --embed 6,25 --out RUN

If no checkpoint has a good test D_H or lambda_max, selection is not what fails: training is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from attractor.dsr.data import PreparedData, system_data
from attractor.dsr.evaluate import contexts_at, generate_runs, model_lyapunov
from attractor.dsr.selection import validation_tail
from attractor.metrics.protocol import evaluate_generated
from attractor.systems import get, lyapunov_spectrum

TEST_ROWS = 20_000
LYAPUNOV_STEPS = 20_000
CHECK_EVERY = 10  # epochs: the default selection interval


def check_scorer(data: PreparedData, out: Path, test_rows: int = TEST_ROWS
                  ) -> tuple[Callable[..., bool], list[dict]]:
    """A training callback that scores every selection check of a run on ``data``: the
    validation tail as the selector sees it, and the first ``test_rows`` of the test series."""
    validation = np.asarray(validation_tail(data), np.float64)
    test = np.asarray(data.test[:test_rows], np.float64)
    rows: list[dict[str, Any]] = []

    def check(epoch: int, model: Any, loss: float, info: Any) -> bool:
        if epoch % CHECK_EVERY:
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

    return check, rows


def probe_system(system: str, seed: int, out: Path, test_rows: int = TEST_ROWS
                 ) -> list[dict[str, Any]]:
    """Train ``system`` with the defaults and score every selection check."""
    from attractor.dsr.pipeline import RunSpec, fit

    data = system_data(system, seed=seed)
    check, rows = check_scorer(data, out, test_rows)
    started = time.perf_counter()
    fit(data, RunSpec(seed=seed), callback=check)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    return rows


def probe_command(train_args: list[str], out: Path, test_rows: int = TEST_ROWS
                  ) -> list[dict[str, Any]]:
    """Run ``attractor train TRAIN_ARGS`` in-process, scoring every selection check.

    The scorer is handed to :func:`attractor.dsr.pipeline.fit` as its callback, with the data
    the command prepared (embedded, if it embeds)."""
    import attractor.dsr.pipeline as pipeline
    from attractor.cli.main import main as cli

    fit, rows = pipeline.fit, []

    def fit_with_probe(data: PreparedData, spec: Any, **options: Any) -> Any:
        check, checks = check_scorer(data, out, test_rows)
        options["callback"] = check
        try:
            return fit(data, spec, **options)
        finally:
            rows.extend(checks)

    pipeline.fit = fit_with_probe
    try:
        cli(["train", *train_args])
    finally:
        pipeline.fit = fit
    return rows


def summarise(rows: list[dict[str, Any]], lambda_system: float | None) -> None:
    """Rank correlations, the model each validation score keeps, and the oracles."""
    table = {k: np.array([np.nan if r[k] is None else r[k] for r in rows], float) for k in rows[0]}
    targets = ["test_D_stsp", "test_D_H"]
    if lambda_system is not None:
        table["lambda_error"] = np.abs(table["lambda_max"] / lambda_system - 1.0)
        targets.append("lambda_error")
        print(f"system lambda_1 {lambda_system:.4f}")
    print(f"{len(rows)} checks")
    for val in ("val_D_stsp", "val_D_H"):
        for tst in targets:
            ok = np.isfinite(table[val]) & np.isfinite(table[tst])
            rho = spearmanr(table[val][ok], table[tst][ok])[0]
            print(f"  rank correlation {val} ~ {tst}: {rho:.2f}")
    for key in ("val_D_stsp", "val_D_H", *targets[1:]):
        scores = np.where(np.isfinite(table[key]), table[key], np.inf)
        i = int(np.argmin(scores))
        kind = "kept by" if key.startswith("val") else "oracle, best"
        error = (f" ({100 * table['lambda_error'][i]:.0f} % off)"
                 if lambda_system is not None else "")
        print(f"  {kind} {key}: epoch {rows[i]['epoch']}, test D_stsp "
              f"{table['test_D_stsp'][i]:.3f}, D_H {table['test_D_H'][i]:.3f}, lambda_max "
              f"{table['lambda_max'][i]:.3f}{error}")


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    split = args_in.index("--") if "--" in args_in else len(args_in)
    own, train_args = args_in[:split], args_in[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", nargs="?", help="a built-in system (or train arguments "
                        "after --)")
    parser.add_argument("--seed", type=int, default=None, help="with a system (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the checks")
    parser.add_argument("--test-rows", type=int, default=TEST_ROWS,
                        help="test rows each check is scored on (D_H resolves finer frequencies "
                        "on longer series)")
    args = parser.parse_args(own)
    if (args.system is None) == (not train_args):
        parser.error("give a system or attractor train arguments after --, not both")
    if train_args and args.seed is not None:
        parser.error("--seed goes with the attractor train arguments after --")
    if args.out.exists():
        print(f"{args.out} exists; choose another --out", file=sys.stderr)
        return 2
    if args.system is not None:
        system = args.system
        rows = probe_system(system, args.seed or 0, args.out, args.test_rows)
    else:
        rows = probe_command(train_args, args.out, args.test_rows)
        system = (train_args[train_args.index("--system") + 1]
                  if "--system" in train_args else None)
    if not rows:
        print("no selection check ran", file=sys.stderr)
        return 1
    lambda_system = (None if system is None else
                     float(lyapunov_spectrum(get(system), n_steps=100_000).exponents[0]))
    summarise(rows, lambda_system)
    return 0


if __name__ == "__main__":
    sys.exit(main())
