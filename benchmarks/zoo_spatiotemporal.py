"""The forecasting zoo on high-dimensional chaos: Lorenz-96 (N = 40, F = 8) and
Kuramoto–Sivashinsky (L = 22, 64 grid points) — valid prediction time in Lyapunov times and the
long-term D_H, for every family and the component switches of Heidenreich, Vlachas &
Koumoutsakos (2024, arXiv 2410.02654): LSTM, GRU and RHN each with and without gating and
attention, the transformer with and without recurrence, the ESN, NG-RC and the shPLRNN.

Protocol (the same for every model; per seed the data, the initial weights and the batches
change):

- data: :func:`attractor.dsr.system_data` without noise — ``--n-train`` training rows from one
  initial condition, a clean test series of ``--n-test`` rows from another, both standardised by
  the training mean / std; Lorenz-96 at dt = 0.01 (lambda_1 = 1.68, Vlachas et al. 2020),
  Kuramoto–Sivashinsky at dt = 0.25 (lambda_1 = 0.043, Edson et al. 2019);
- training: the model's registered recipe (objective, epochs, learning rates, see
  ``attractor models show NAME``) with the sizes below, no model selection (the last model),
  stopped after ``--budget`` seconds of training if the recipe's epochs take longer (marked *);
  the readout models' ridge (and NG-RC's delays) are chosen on the training series
  (:data:`TUNING_GRID`, :data:`RIDGE_GRID`); "train s" includes that search;
- VPT: :func:`attractor.dsr.evaluate_forecasts` — ``--windows`` contexts spread along the test
  series, closed-loop forecasts of ~10 Lyapunov times, VPT = leading steps with NRMSE < 0.5
  (per-dimension training std), median over windows, in Lyapunov times;
- D_H (and D_stsp, Gaussian-mixture version for N >= 6) of a free run of 1.25x the test length
  from the first test row against the test series.

Results are appended to a JSON-lines file, one line per (system, variant, seed); a rerun skips
what is there, so an interrupted sweep resumes. The table printed at the end (``--markdown``
for BENCHMARKS.md) gives the median over seeds with the min–max.

    .venv/bin/python benchmarks/zoo_spatiotemporal.py --out /tmp/zoo.jsonl            # all
    .venv/bin/python benchmarks/zoo_spatiotemporal.py --out /tmp/zoo.jsonl --systems lorenz96 \
        --variants nvar esn --seeds 0                                                  # a subset
    .venv/bin/python benchmarks/zoo_spatiotemporal.py --out /tmp/zoo.jsonl --table-only --markdown
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from attractor.dsr import PreparedData, RunSpec, system_data
from attractor.dsr.forecasting import evaluate_forecasts
from attractor.errors import AttractorError
from attractor.models import build_model
from attractor.train import train

#: name -> (registry name, sampling step, lambda_1 per time unit, forecast horizon in steps).
SYSTEMS: dict[str, tuple[str, float, float, int]] = {
    "lorenz96": ("lorenz96", 0.01, 1.68, 600),  # 10.1 Lyapunov times
    "ks": ("kuramoto_sivashinsky", 0.25, 0.043, 930),  # 10.0 Lyapunov times
}

HIDDEN = 64
GATE = "input_dependent"
_RECURRENT = {"hidden_dim": HIDDEN}
_TRANSFORMER = {"d_model": HIDDEN, "mlp_dim": 2 * HIDDEN}


def _switches(gate: bool, attn: bool) -> dict[str, Any]:
    return {**({"gating": GATE} if gate else {}), **({"attention": True} if attn else {})}


#: variant -> (model, hyperparameters). Sizes are CPU-sized and the same for every variant of a
#: family.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    **{
        f"{cell}{'+gate' if gate else ''}{'+attn' if attn else ''}": (
            cell,
            {**_RECURRENT, **_switches(gate, attn)},
        )
        for cell in ("lstm", "gru", "rhn")
        for gate in (False, True)
        for attn in (False, True)
    },
    "transformer": ("transformer", _TRANSFORMER),
    "transformer+rec": ("transformer", {**_TRANSFORMER, "recurrence": True}),
    "esn": ("esn", {"units": 2000, "density": 0.01, "spectral_radius": 0.9, "input_scaling": 0.1,
                    "bias_scaling": 0.5}),
    "nvar": ("nvar", {"order": 2}),
    "shplrnn": ("shplrnn", {"hidden_dim": 4 * HIDDEN}),
    "persistence": ("persistence", {}),  # the floor: the last context row, repeated
}

#: Settings tried for the readout models (ESN, NG-RC), whose fit is cheap: the one with the best
#: median VPT on the last quarter of the training series (fitted on the first three quarters)
#: is refitted on all of it — the test series is never looked at (Gilpin 2023: "tuned on a
#: separate training trajectory"). NG-RC libraries above MAX_TUNED_FEATURES are skipped
#: (Kuramoto–Sivashinsky with 2 delays: 8 385 features).
TUNING_GRID: dict[str, list[dict[str, Any]]] = {
    "nvar": [{"delays": k} for k in (1, 2)],
    "esn": [{}],
}
RIDGE_GRID = (1e-8, 1e-6, 1e-4, 1e-2, 1.0)
MAX_TUNED_FEATURES = 4_000


def fit(model_name: str, hyper: dict[str, Any], data: PreparedData, seed: int,
        options: dict[str, Any], args: argparse.Namespace) -> tuple[Any, bool]:
    """Train with the model's recipe (plus ``options``); returns the model and whether the
    ``--budget`` safety cap stopped it."""
    spec = RunSpec(model=model_name, hyperparameters=hyper, objective_options=options,
                   epochs=args.epochs, seed=seed, select_every=None)
    model = build_model(spec.model_config(data.train[0].shape[1]), key=jax.random.PRNGKey(seed))
    t0 = time.perf_counter()
    stopped = {"budget": False}

    def over_budget(epoch: int, m: Any, loss: float, info: dict[str, float]) -> bool:
        stopped["budget"] = time.perf_counter() - t0 > args.budget
        return stopped["budget"]

    result = train(model, data.train, spec.make_objective(), config=spec.train_config(),
                   key=jax.random.PRNGKey(seed + 1), callback=over_budget)
    return result, stopped["budget"]


def tune(model_name: str, hyper: dict[str, Any], data: PreparedData, seed: int, horizon: int,
         args: argparse.Namespace) -> tuple[dict[str, Any], float, dict[str, float]]:
    """The hyperparameters and ridge of :data:`TUNING_GRID` x :data:`RIDGE_GRID` with the best
    validation VPT (steps) on the training series; returns them and every point's VPT."""
    x = data.train[0]
    split = 3 * len(x) // 4
    inner = dataclasses.replace(data, train=[x[:split]], test=x[split:])
    vpts: dict[str, float] = {}
    points: dict[str, tuple[dict[str, Any], float]] = {}
    for extra in TUNING_GRID[model_name]:
        candidate = {**hyper, **extra}
        config = RunSpec(model=model_name, hyperparameters=candidate).model_config(x.shape[1])
        if getattr(config, "n_features", 0) > MAX_TUNED_FEATURES:
            continue
        for ridge in RIDGE_GRID:
            result, _ = fit(model_name, candidate, inner, seed, {"ridge": ridge}, args)
            context = max(result.model.context_length, 1)
            label = json.dumps({**extra, "ridge": ridge})
            points[label] = (candidate, ridge)
            try:
                scores, _ = evaluate_forecasts(result.model, inner, context=context,
                                               horizon=min(horizon, len(x) - split - context),
                                               n_windows=5)
                vpts[label] = scores["vpt_steps"]
            except AttractorError:
                vpts[label] = 0.0
    best = max(vpts, key=lambda k: vpts[k])
    return *points[best], vpts


def run_one(system: str, variant: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train one variant on one system with one seed and score its forecasts."""
    registry_name, dt, lyapunov, horizon = SYSTEMS[system]
    model_name, hyper = VARIANTS[variant]
    data = system_data(registry_name, n_train=args.n_train, n_test=args.n_test, noise=0.0,
                       seed=seed, dt=dt)
    t0 = time.perf_counter()
    options, validation = {}, None
    if model_name in TUNING_GRID:
        hyper, ridge, validation = tune(model_name, hyper, data, seed, horizon, args)
        options = {"ridge": ridge}
    result, by_budget = fit(model_name, hyper, data, seed, options, args)
    train_s = time.perf_counter() - t0
    context = max(result.model.context_length, 1)
    t1 = time.perf_counter()
    try:
        scores, _ = evaluate_forecasts(result.model, data, context=context, horizon=horizon,
                                       n_windows=args.windows, lyapunov=lyapunov)
        error = None
    except AttractorError as exc:  # e.g. a diverged long-term run: VPT stays, D_H is lost
        scores, error = {}, f"{type(exc).__name__}: {exc}"
    return {
        "system": system, "variant": variant, "seed": seed, "model": model_name,
        "hyperparameters": hyper, "objective": result.objective.describe(),
        "ridge_validation_vpt_steps": validation,
        "epochs": result.epochs_done, "stopped_by_budget": by_budget,
        "train_s": round(train_s, 1), "eval_s": round(time.perf_counter() - t1, 1),
        "vpt_lyapunov": scores.get("vpt_lyapunov"), "vpt_windows": scores.get("vpt_steps_windows"),
        "D_H": scores.get("D_H"), "D_stsp": scores.get("D_stsp"), "nrmse": scores.get("nrmse"),
        "error": error, "machine": f"{platform.machine()}, {jax.devices()[0].platform}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_all(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of several result files (parallel sweeps), the first of each (system, variant,
    seed) kept."""
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    for path in paths:
        for row in load(path):
            rows.setdefault((row["system"], row["variant"], row["seed"]), row)
    return list(rows.values())


def _cell(values: list[float | None], fmt: str) -> str:
    """Median over seeds [min-max]; a missing value (diverged) counts as worst."""
    if not values:
        return "—"
    v = np.array([np.inf if x is None else x for x in values], float)
    if fmt == "vpt":
        v = np.where(np.isfinite(v), v, 0.0)
        return f"{np.median(v):.2f} [{v.min():.2f}–{v.max():.2f}]"
    med = np.median(v)
    text = "div" if not np.isfinite(med) else f"{med:.3f}"
    n_bad = int(np.sum(~np.isfinite(v)))
    return text + (f" ({n_bad} div)" if n_bad else f" [{v.min():.3f}–{v.max():.3f}]")


def _epochs(values: list[int]) -> str:
    """Epochs trained: one number when every seed did the same, else min–max (budget cap)."""
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return "—" if hi == 0 else (f"{lo}" if lo == hi else f"{lo}–{hi}")


def table(rows: list[dict[str, Any]], markdown: bool) -> str:
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    header = ["variant"] + [f"{s} {m}" for s in systems
                            for m in ("VPT (LT)", "D_H", "epochs", "train s")]
    lines = []
    sep = " | " if markdown else "  "
    if markdown:
        lines += ["| " + sep.join(header) + " |", "|" + "---|" * len(header)]
    else:
        lines.append(sep.join(f"{h:>24s}" for h in header))
    for variant in VARIANTS:
        cells = [variant]
        for s in systems:
            runs = [r for r in rows if r["system"] == s and r["variant"] == variant]
            cells += [
                _cell([r["vpt_lyapunov"] for r in runs], "vpt"),
                _cell([r["D_H"] for r in runs], "dh"),
                _epochs([r["epochs"] for r in runs]),
                (f"{np.median([r['train_s'] for r in runs]):.0f}"
                 + ("*" if any(r["stopped_by_budget"] for r in runs) else "")) if runs else "—",
            ]
        if markdown:
            lines.append("| " + sep.join(cells) + " |")
        else:
            lines.append(sep.join(f"{c:>24s}" for c in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines results file")
    parser.add_argument("--also", type=Path, nargs="+", default=[],
                        help="more results files for the table (e.g. of a parallel sweep)")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=50_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None, help="default: each recipe's")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="cap on training seconds per run (marked * in the table if hit)")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    done = {(r["system"], r["variant"], r["seed"]) for r in load(args.out)}
    if not args.table_only:
        for system in args.systems:
            for variant in args.variants:
                for seed in args.seeds:
                    if (system, variant, seed) in done:
                        continue
                    row = run_one(system, variant, seed, args)
                    with args.out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{system:9s} {variant:18s} seed {seed}: VPT {row['vpt_lyapunov']} LT, "
                          f"D_H {row['D_H']}, {row['epochs']} epochs, train {row['train_s']} s, "
                          f"eval {row['eval_s']} s{' ' + row['error'] if row['error'] else ''}",
                          flush=True)
    print(table(load_all([args.out, *args.also]), args.markdown))


if __name__ == "__main__":
    main()
