"""``attractor eval`` and ``attractor simulate`` (``train`` is in :mod:`attractor.cli.train`).

A run trained with ``--embed`` lives in delay coordinates: ``eval`` embeds its test data (a raw
``--data`` file or the regenerated system data) with the run's embedding before standardising;
``simulate`` generates delay vectors (column ``k·d + j``: coordinate ``j`` delayed by ``k·tau``).
"""

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
        help="Test file (raw units, as observed: a run trained with --embed embeds it); "
        "default: regenerate the training system's test data.",
    ),
    runs: int = typer.Option(5, "--runs", help="Generated runs for median/MAD."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Evaluate a trained model on test data (D_stsp, D_H, PE, lambda_max)."""
    from attractor.cli import validate as check
    from attractor.cli.modeldir import load_checked, read_config, read_embedding, state_width

    runs = check.positive_int(runs, "--runs")
    if data is not None and not data.is_file():
        raise InputError(f"--data {data}: no such file")
    payload = read_config(directory)
    meta = payload.get("metadata", {})
    embedding = read_embedding(meta, f"{directory}/config.json")
    dt = check.positive_float(meta.get("dt", 1.0), f"{directory}/config.json: dt")
    source = meta.get("data", {})
    if data is None:
        if not isinstance(source, dict) or "system" not in source:
            raise InputError(f"{directory}: trained on files; pass the test data with --data")
        where = f"{directory}/config.json: data."
        n_test = check.positive_int(source.get("n_test"), where + "n_test")
        n_train = check.positive_int(source.get("n_train"), where + "n_train")
        noise = check.non_negative_float(source.get("noise"), where + "noise")
        data_dt = source.get("dt")
        if data_dt is not None:
            data_dt = check.positive_float(data_dt, where + "dt")
        seed = check.seed(meta.get("seed", 0), f"{directory}/config.json: seed")
        if runs > n_test:
            raise InputError(f"--runs {runs}: more runs than test points ({n_test})")
        n_obs = payload["model"].get("obs_dim")
        check.check_allocation(
            3 * (n_train + n_test) * (n_obs if isinstance(n_obs, int) and n_obs > 0 else 1),
            f"the regenerated training and test data ({n_train} + {n_test} rows)",
            f"{directory}/config.json",
        )

    from attractor.data.io import load_series

    raw = load_series(data) if data is not None else None  # bad files fail before the model loads

    from attractor.data.standardize import Standardizer

    def load(path: Path) -> tuple[Any, Standardizer]:
        from attractor.models.io import load_model

        model, metadata = load_model(path)
        return model, Standardizer.from_dict(metadata.get("standardizer"))

    model, std = load_checked(directory, load)
    if raw is not None:
        if embedding is None and raw.shape[1] != model.obs_dim:
            raise InputError(
                f"--data {data}: {raw.shape[1]} columns, but the model in {directory} "
                f"was trained on {model.obs_dim}"
            )
        if embedding is not None:  # names the columns it needs, or the m that would fit
            raw = embedding.apply(raw, name=f"--data {data}")
        x_test = std.transform(raw)
    else:
        from attractor.dsr.data import system_data

        x_test = system_data(
            source["system"], n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=data_dt,
            observe=source.get("observe"),
        ).test
        if embedding is not None:  # standardising commutes with the embedding
            x_test = embedding.apply(x_test, name="the regenerated test data")
    if runs > x_test.shape[0]:
        raise InputError(f"--runs {runs}: more runs than test points ({x_test.shape[0]})")
    check.check_allocation(
        2 * runs * x_test.shape[0] * (state_width(payload["model"]) + 2 * model.obs_dim),
        f"{runs} generated runs of {x_test.shape[0]} steps",
        "--runs",
    )
    from attractor.cli.train import report
    from attractor.dsr.evaluate import evaluate_model

    metrics = evaluate_model(model, x_test, dt=dt, n_runs=runs)
    report(metrics, as_json, None)  # NaN (diverged runs) -> null: stdout stays JSON


def simulate_command(
    directory: Path = typer.Argument(..., help="Model directory."),
    steps: int = typer.Option(..., "--steps", help="Number of rows to generate."),
    out: Path = typer.Option(..., "--out", help="Output .npy (or .csv) file."),
    x0: str = typer.Option(
        None,
        "--x0",
        help="Start point as comma-separated numbers (data units; for a run trained with "
        "--embed, its m x d delay coordinates); default: the first test point.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Run a trained model freely and save the trajectory in data units (row 0 = start; delay
    coordinates for a run trained with --embed)."""
    import numpy as np

    from attractor.cli import validate as check
    from attractor.cli.modeldir import check_model_dir, load_checked, read_embedding, state_width
    from attractor.cli.output import atomic_write, json_document, prepare_output_file

    steps = check.positive_int(steps, "--steps")
    if out.suffix.lower() not in (".npy", ".csv"):
        raise InputError(f"--out {out}: expected a .npy or .csv file")
    prepare_output_file(out, overwrite, flag="--out")
    start = None if x0 is None else np.array(check.float_vector(x0, "--x0"))
    # Everything is checked from the model directory's files before the estimator is imported.
    spec = check_model_dir(directory)
    n_obs, n_latent = int(spec["model"]["obs_dim"]), state_width(spec["model"])
    if start is not None:
        from attractor.data.standardize import Standardizer

        if start.shape != (n_obs,):
            raise InputError(f"--x0 needs {n_obs} comma-separated numbers, got {start.size}")
        z = Standardizer.from_dict(spec["metadata"]["standardizer"]).transform(start[None])[0]
        if not np.all(np.abs(z) < np.finfo(np.float32).max):
            raise InputError(f"--x0 {x0}: outside the range the model can represent (float32)")
    check.check_allocation(
        2 * steps * (n_latent + 2 * n_obs), f"a trajectory of {steps} steps", "--steps"
    )

    from attractor.data.io import save_series
    from attractor.dsr.estimator import DSR

    est = load_checked(directory, DSR.load, precheck=False)
    traj = est.simulate(steps, start)
    if not np.all(np.isfinite(traj)):
        from attractor.errors import DivergenceError

        raise DivergenceError(f"{directory}: the model's trajectory diverged (NaN/inf)")
    atomic_write(out, lambda tmp: save_series(tmp, traj))
    embedding = read_embedding(spec["metadata"], f"{directory}/config.json")
    if as_json:
        doc = {"out": str(out), "rows": int(traj.shape[0]), "columns": int(traj.shape[1])}
        if embedding is not None:
            doc["embedding"] = embedding.to_dict()
        typer.echo(json_document(doc))
        return
    where = "" if embedding is None else f"; delay coordinates, {embedding.describe()}"
    typer.echo(f"wrote {out} ({traj.shape[0]} x {traj.shape[1]}{where})")
