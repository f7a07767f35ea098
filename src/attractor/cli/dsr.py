"""``attractor eval`` and ``attractor simulate`` (``train`` is in :mod:`attractor.cli.train`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attractor.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("simulate")(simulate_command)


def eval_command(
    directory: Path = typer.Argument(..., help="Model directory written by `attractor train`."),
    data: Path = typer.Option(
        None,
        "--data",
        help="Test file (raw units); default: regenerate the training system's test data.",
    ),
    runs: int = typer.Option(5, "--runs", help="Generated runs for median/MAD."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Evaluate a trained model on test data (D_stsp, D_H, PE, lambda_max)."""
    from attractor.data.io import load_series
    from attractor.data.standardize import Standardizer
    from attractor.dsr.data import system_data
    from attractor.dsr.evaluate import evaluate_model
    from attractor.models.io import load_model

    model, meta = load_model(directory)
    std = Standardizer.from_dict(meta["standardizer"])
    if data is not None:
        x_test = std.transform(load_series(data, dims=model.obs_dim))
    else:
        source = meta.get("data", {})
        if "system" not in source:
            raise InputError(f"{directory}: trained on files; pass the test data with --data")
        prepared = system_data(
            source["system"],
            n_train=source["n_train"],
            n_test=source["n_test"],
            noise=source["noise"],
            seed=meta.get("seed", 0),
            dt=source.get("dt"),
        )
        x_test = prepared.test
    metrics = evaluate_model(model, x_test, dt=float(meta.get("dt", 1.0)), n_runs=runs)
    _report(metrics, as_json, None)


def simulate_command(
    directory: Path = typer.Argument(..., help="Model directory."),
    steps: int = typer.Option(..., "--steps", help="Number of rows to generate."),
    out: Path = typer.Option(..., "--out", help="Output .npy (or .csv) file."),
    x0: str = typer.Option(
        None,
        "--x0",
        help="Start point as comma-separated numbers (data units); default: the first test point.",
    ),
) -> None:
    """Run a trained model freely and save the trajectory in data units (row 0 = start)."""
    import numpy as np

    from attractor.data.io import save_series
    from attractor.dsr.estimator import DSR

    if steps < 1:
        raise InputError(f"--steps must be positive, got {steps}")
    est = DSR.load(directory)
    start = None
    if x0 is not None:
        try:
            start = np.array([float(v) for v in x0.split(",")])
        except ValueError:
            raise InputError(f"--x0: expected comma-separated numbers, got {x0!r}") from None
        if start.shape != (est.model_.obs_dim,):
            raise InputError(f"--x0 needs {est.model_.obs_dim} numbers, got {start.size}")
    traj = est.simulate(steps, start)
    if not np.all(np.isfinite(traj)):
        from attractor.errors import DivergenceError

        raise DivergenceError(f"{directory}: the model's trajectory diverged (NaN/inf)")
    save_series(out, traj)
    typer.echo(f"wrote {out} ({traj.shape[0]} x {traj.shape[1]})")


def _report(metrics: dict[str, Any], as_json: bool, out: Path | None) -> None:
    from attractor.cli.train import report

    report(metrics, as_json, out)
