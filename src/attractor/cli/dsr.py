"""``attractor train``, ``attractor eval`` and ``attractor simulate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from attractor.errors import InputError

#: The CLI's default training length, tuned so that Lorenz-63 meets the GTF paper's quality in a
#: few minutes on a 2-core CPU (see BENCHMARKS.md). The AL-RNN trains longer, as in its paper.
DEFAULT_EPOCHS = 800
MODEL_EPOCHS = {"alrnn": 2000}

#: Global-norm gradient clipping per model (None: off). The AL-RNN reference recipe does not clip,
#: and clipping measurably hurt it in our runs (BENCHMARKS.md).
DEFAULT_GRAD_CLIP = 10.0
MODEL_GRAD_CLIP: dict[str, float | None] = {"alrnn": None}

#: Model defaults that differ from the data dimension / library defaults.
DEFAULT_LATENT = {"alrnn": 20}
DEFAULT_HIDDEN = 100


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.command("simulate")(simulate_command)


def train_command(
    system: str = typer.Option(None, "--system", help="Built-in system to generate data from."),
    data: list[Path] = typer.Option(None, "--data", help="Training file(s): .npy, .npz or .csv."),
    test_data: Path = typer.Option(None, "--test-data", help="Test file (default: hold out 20%)."),
    dt: float = typer.Option(
        None, "--dt", help="Sampling step in time units: of --data files, or the step at which "
        "--system is sampled (default: the system's)."
    ),
    model: str = typer.Option("shplrnn", "--model", help="plrnn, dendplrnn, shplrnn or alrnn."),
    latent: int = typer.Option(
        None, "--latent", help="Latent dimension M (default: data dim; 20 for alrnn)."
    ),
    hidden: int = typer.Option(None, "--hidden", help="Hidden width L of the shPLRNN (100)."),
    pwl: int = typer.Option(None, "--pwl", help="Piecewise-linear units P of the AL-RNN (2)."),
    bases: int = typer.Option(None, "--bases", help="Basis functions B of the dendPLRNN (20)."),
    observation: str = typer.Option("identity", "--observation", help="identity or affine."),
    forcing: str = typer.Option("agtf", "--forcing", help="gtf, agtf or stf."),
    alpha: float = typer.Option(None, "--alpha", help="GTF alpha (constant) or aGTF start."),
    tau: int = typer.Option(None, "--tau", help="STF interval in steps (default: from data)."),
    epochs: int = typer.Option(
        None, "--epochs", help=f"Epochs of 50 updates each ({DEFAULT_EPOCHS}; alrnn 2000)."
    ),
    batch_noise: float = typer.Option(0.0, "--batch-noise", help="Gaussian noise std added to "
                                      "each training batch (standardised units)."),
    grad_clip: float = typer.Option(None, "--grad-clip", help="Gradient-norm clipping (default "
                                    "10; off for alrnn); 0 turns it off."),
    seq_len: int = typer.Option(200, "--seq-len", help="Training window length T (steps)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Subsequences per batch."),
    lr: float = typer.Option(1e-3, "--lr", help="Initial learning rate (RAdam)."),
    lr_end: float = typer.Option(1e-5, "--lr-end", help="Final learning rate."),
    n_train: int = typer.Option(100_000, "--n-train", help="Training points (--system)."),
    n_test: int = typer.Option(100_000, "--n-test", help="Test points (--system)."),
    noise: float = typer.Option(0.05, "--noise", help="Observation noise std (--system)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (data, init, batches)."),
    out: Path = typer.Option(..., "--out", help="Output model directory."),
    select_every: int = typer.Option(
        10,
        "--select-every",
        help="Keep the model with the best "
        "validation D_stsp (tail of the training data), checked "
        "every N epochs; 0 keeps the last model.",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from DIR/checkpoint."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train a latent model on a system or data files, evaluate it, and write DIR."""
    from attractor.dsr.experiment import build, default_train_config, file_data, run, system_data

    if (system is None) == (not data):
        raise InputError("give exactly one of --system NAME or --data FILE...")
    if system is not None:
        prepared = system_data(
            system, n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=dt
        )
    else:
        prepared = file_data(data, test=test_data, dt=dt if dt is not None else 1.0)
    obs_dim = prepared.train[0].shape[1]
    model_name = model.lower()
    hyper: dict[str, Any] = {
        "latent_dim": latent or DEFAULT_LATENT.get(model_name, obs_dim),
        "observation": observation,
    }
    if model_name == "shplrnn":
        hyper["hidden_dim"] = hidden or DEFAULT_HIDDEN
    elif hidden is not None:
        raise InputError(f"--hidden applies to shplrnn only, not {model_name}")
    if model_name == "alrnn":
        hyper["n_pwl"] = pwl if pwl is not None else 2
    elif pwl is not None:
        raise InputError(f"--pwl applies to alrnn only, not {model_name}")
    if model_name == "dendplrnn" and bases is not None:
        hyper["n_bases"] = bases
    net = build(model_name, obs_dim, seed=seed, **hyper)
    if grad_clip is None:
        clip = MODEL_GRAD_CLIP.get(model_name, DEFAULT_GRAD_CLIP)
    else:
        clip = grad_clip if grad_clip > 0 else None
    config = default_train_config(
        epochs=epochs or MODEL_EPOCHS.get(model_name, DEFAULT_EPOCHS),
        noise_std=batch_noise,
        grad_clip=clip,
        forcing=forcing,
        alpha=alpha,
        tau=tau,
        seq_len=seq_len,
        batch_size=batch_size,
        lr_start=lr,
        lr_end=lr_end,
    )
    _, metrics = run(
        prepared,
        net,
        config,
        out,
        seed=seed,
        progress=not as_json,
        resume=resume,
        plots=not no_plots,
        select_every=select_every or None,
    )
    _report(metrics, as_json, out)


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
    from attractor.cli import validate as check
    from attractor.cli.modeldir import load_checked, read_config

    runs = check.positive_int(runs, "--runs")
    if data is not None and not data.is_file():
        raise InputError(f"--data {data}: no such file")
    payload = read_config(directory)
    meta = payload.get("metadata", {})
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
        if raw.shape[1] != model.obs_dim:
            raise InputError(
                f"--data {data}: {raw.shape[1]} columns, but the model in {directory} "
                f"was trained on {model.obs_dim}"
            )
        x_test = std.transform(raw)
    else:
        from attractor.dsr.experiment import system_data

        x_test = system_data(
            source["system"], n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=data_dt
        ).test
    if runs > x_test.shape[0]:
        raise InputError(f"--runs {runs}: more runs than test points ({x_test.shape[0]})")
    check.check_allocation(
        2 * runs * x_test.shape[0] * (model.latent_dim + 2 * model.obs_dim),
        f"{runs} generated runs of {x_test.shape[0]} steps",
        "--runs",
    )
    from attractor.dsr.evaluate import evaluate_model

    metrics = evaluate_model(model, x_test, dt=dt, n_runs=runs)
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
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Run a trained model freely and save the trajectory in data units (row 0 = start)."""
    import numpy as np

    from attractor.cli import validate as check
    from attractor.cli.modeldir import check_model_dir, load_checked
    from attractor.cli.output import atomic_write, json_document, prepare_output_file

    steps = check.positive_int(steps, "--steps")
    if out.suffix.lower() not in (".npy", ".csv"):
        raise InputError(f"--out {out}: expected a .npy or .csv file")
    prepare_output_file(out, overwrite, flag="--out")
    start = None if x0 is None else np.array(check.float_vector(x0, "--x0"))
    # Everything is checked from the model directory's files before the estimator is imported.
    spec = check_model_dir(directory)
    n_obs, n_latent = int(spec["model"]["obs_dim"]), int(spec["model"]["latent_dim"])
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
    if as_json:
        doc = {"out": str(out), "rows": int(traj.shape[0]), "columns": int(traj.shape[1])}
        typer.echo(json_document(doc))
        return
    typer.echo(f"wrote {out} ({traj.shape[0]} x {traj.shape[1]})")


def _report(metrics: dict[str, Any], as_json: bool, out: Path | None) -> None:
    if as_json:
        from attractor.cli.output import finite_or_null

        # NaN (diverged runs) -> null: json.dumps would write NaN, which is not JSON
        typer.echo(json.dumps(finite_or_null(metrics), allow_nan=False))
        return
    keys = ["D_stsp", "D_H", "PE", "lambda_max", "n_subregions", "train_seconds"]
    for key in keys:
        if key in metrics and metrics[key] is not None:
            value = metrics[key]
            typer.echo(
                f"{key:>14}: {value:.4g}" if isinstance(value, float) else f"{key:>14}: {value}"
            )
    if out is not None:
        typer.echo(f"model, metrics.json and plots written to {out}")
