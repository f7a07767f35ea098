"""``attractor train``: fit any registered model to a built-in system or to data files.

Model flags come from the registry: ``--model NAME`` picks the model, ``--set KEY=VALUE`` sets any
hyperparameter of its config (typed by the config), and ``--latent`` / ``--hidden`` / ``--pwl`` /
``--bases`` / ``--observation`` are shortcuts for the common ones. Everything not given comes from
the model's recipe (``attractor models list``), so adding a model needs no change here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from attractor.errors import InputError

#: CLI shortcut -> model hyperparameter.
SHORTCUTS = {
    "--latent": "latent_dim",
    "--hidden": "hidden_dim",
    "--pwl": "n_pwl",
    "--bases": "n_bases",
    "--observation": "observation",
}

#: Smallest series the evaluation protocol and the validation selection can work with.
MIN_TEST_ROWS = 100


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    system: str = typer.Option(None, "--system", help="Built-in system to generate data from."),
    data: list[Path] = typer.Option(None, "--data", help="Training file (.npy, .npz or .csv); "
                                    "repeat the flag for several trajectories."),
    test_data: Path = typer.Option(None, "--test-data", help="Test file (default: hold out 20%)."),
    dt: float = typer.Option(
        None, "--dt", help="Sampling step in time units: of --data files, or the step at which "
        "--system is sampled (default: the system's)."
    ),
    model: str = typer.Option("shplrnn", "--model", help="Model name (`attractor models list`)."),
    settings: list[str] = typer.Option(
        None, "--set", help="Model hyperparameter KEY=VALUE (repeatable), e.g. hidden_dim=100."
    ),
    latent: int = typer.Option(None, "--latent", help="Shortcut for --set latent_dim=M."),
    hidden: int = typer.Option(None, "--hidden", help="Shortcut for --set hidden_dim=L."),
    pwl: int = typer.Option(None, "--pwl", help="Shortcut for --set n_pwl=P (AL-RNN)."),
    bases: int = typer.Option(None, "--bases", help="Shortcut for --set n_bases=B (dendPLRNN)."),
    observation: str = typer.Option(None, "--observation", help="Shortcut for --set "
                                    "observation=identity|affine."),
    objective: str = typer.Option(
        None, "--objective", "--forcing", help="Training objective: gtf, agtf, stf, onestep, "
        "freerun or ridge (default: the model's recipe)."
    ),
    objective_settings: list[str] = typer.Option(
        None, "--objective-set", help="Objective option KEY=VALUE (repeatable), e.g. warmup=50."
    ),
    alpha: float = typer.Option(None, "--alpha", help="GTF alpha (constant) or aGTF start."),
    tau: int = typer.Option(None, "--tau", help="STF interval in steps (default: from data)."),
    seq_len: int = typer.Option(None, "--seq-len", help="Teacher-forcing window T (default 200)."),
    epochs: str = typer.Option("auto", "--epochs", help="Epochs of 50 updates, or auto (the "
                               "model's recipe: 800; alrnn 2000)."),
    batch_noise: float = typer.Option(0.0, "--batch-noise", help="Gaussian noise std added to "
                                      "each training batch (standardised units)."),
    grad_clip: str = typer.Option("auto", "--grad-clip", help="Gradient-norm clipping: a "
                                  "positive number, off, or auto (the recipe's: 10; off for "
                                  "alrnn)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Windows per batch."),
    lr: float = typer.Option(None, "--lr", help="Initial learning rate (RAdam; default 1e-3)."),
    lr_end: float = typer.Option(None, "--lr-end", help="Final learning rate (default 1e-5)."),
    n_train: int = typer.Option(100_000, "--n-train", help="Training points (--system)."),
    n_test: int = typer.Option(100_000, "--n-test", help="Test points (--system)."),
    noise: float = typer.Option(0.05, "--noise", help="Observation noise std (--system)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (data, init, batches)."),
    out: Path = typer.Option(..., "--out", help="Output model directory."),
    select_every: str = typer.Option(
        "10", "--select-every", help="Keep the model with the best validation D_stsp (tail of "
        "the training data), checked every N epochs; off keeps the last model."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from DIR's checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing DIR."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train a model on a system or data files, evaluate it, and write DIR."""
    from attractor.models.registry import get_spec

    spec_entry = get_spec(model)
    shortcuts = {"--latent": latent, "--hidden": hidden, "--pwl": pwl, "--bases": bases,
                 "--observation": observation}
    hyper = _model_settings(spec_entry, settings or [], shortcuts)
    run_spec = _run_spec(
        spec_entry.name, hyper, objective, objective_settings or [], alpha=alpha, tau=tau,
        seq_len=seq_len, epochs=epochs, grad_clip=grad_clip, batch_size=batch_size, lr=lr,
        lr_end=lr_end, batch_noise=batch_noise, seed=seed, select_every=select_every,
    )
    prepared = _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed)
    obs_dim = prepared.train[0].shape[1]
    run_spec.model_config(obs_dim)  # validates the hyperparameters against the data
    run_spec.make_objective()
    _write(prepared, run_spec, out, resume=resume, overwrite=overwrite, plots=not no_plots,
           as_json=as_json)


def _model_settings(spec: Any, pairs: list[str], shortcuts: dict[str, Any]) -> dict[str, Any]:
    from attractor.cli.params import parse_model_settings

    hyper = parse_model_settings(pairs, spec.config_cls)
    fields = set(spec.hyperparameters())
    for flag, value in shortcuts.items():
        if value is None:
            continue
        key = SHORTCUTS[flag]
        if key not in fields:
            raise InputError(f"{flag} does not apply to model {spec.name!r} (no {key})")
        if key in hyper:
            raise InputError(f"{flag} and --set {key} both given")
        if isinstance(value, int) and value < 1:
            raise InputError(f"{flag} must be a positive integer, got {value}")
        hyper[key] = value
    return hyper


def _run_spec(model: str, hyper: dict, objective: str | None, objective_pairs: list[str], *,
              alpha, tau, seq_len, epochs, grad_clip, batch_size, lr, lr_end, batch_noise, seed,
              select_every) -> Any:
    from attractor.cli.params import parse_objective_settings
    from attractor.dsr.pipeline import AUTO, RunSpec

    options = parse_objective_settings(objective_pairs)
    for flag, key, value in (("--alpha", "alpha", alpha), ("--tau", "tau", tau),
                             ("--seq-len", "seq_len", seq_len)):
        if value is not None:
            if key in options:
                raise InputError(f"{flag} and --objective-set {key} both given")
            options[key] = value
    _finite(batch_noise, "--batch-noise", minimum=0.0)
    for flag, value in (("--lr", lr), ("--lr-end", lr_end)):
        if value is not None:
            _finite(value, flag, minimum=0.0, strict=True)
    _positive_int(batch_size, "--batch-size")
    if seed < 0:
        raise InputError(f"--seed must be >= 0, got {seed}")
    return RunSpec(
        model=model,
        hyperparameters=hyper,
        objective=objective.lower() if objective else None,
        objective_options=options,
        epochs=None if epochs == "auto" else _positive_int_text(epochs, "--epochs"),
        lr_start=lr,
        lr_end=lr_end,
        grad_clip=_grad_clip(grad_clip, AUTO),
        batch_size=batch_size,
        noise_std=batch_noise,
        seed=seed,
        select_every=None if select_every == "off" else _positive_int_text(select_every,
                                                                            "--select-every"),
    )


def _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed) -> Any:
    from attractor.dsr.data import file_data, system_data

    if (system is None) == (not data):
        raise InputError("give exactly one of --system NAME or --data FILE")
    if dt is not None:
        _finite(dt, "--dt", minimum=0.0, strict=True)
    if system is not None:
        if test_data is not None:
            raise InputError("--test-data applies to --data only (--system makes its own)")
        for flag, value in (("--n-train", n_train), ("--n-test", n_test)):
            if value < MIN_TEST_ROWS:
                raise InputError(f"{flag} must be at least {MIN_TEST_ROWS}, got {value}")
        _finite(noise, "--noise", minimum=0.0)
        return system_data(system, n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=dt)
    if test_data is not None and any(_same_file(test_data, d) for d in data):
        raise InputError(f"--test-data {test_data} is also a --data file: the test set would "
                         "leak into training")
    return file_data(data, test=test_data, dt=dt if dt is not None else 1.0)


def _write(prepared, run_spec, out: Path, *, resume: bool, overwrite: bool, plots: bool,
           as_json: bool) -> None:
    from attractor.dsr.pipeline import run, write_run

    record = run(prepared, run_spec, checkpoint_dir=out / "checkpoint", resume=resume,
                 progress=not as_json)
    write_run(record, out, x_test=prepared.test, plots=plots)
    report(record.metrics, as_json, out)


def report(metrics: dict[str, Any], as_json: bool, out: Path | None) -> None:
    """Print the headline metrics (or all of them as one JSON document)."""
    if as_json:
        typer.echo(json.dumps(metrics))
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


# ---------------------------------------------------------------------- small validators
def _finite(value: float, flag: str, *, minimum: float, strict: bool = False) -> None:
    ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        relation = ">" if strict else ">="
        raise InputError(f"{flag} must be a finite number {relation} {minimum:g}, got {value}")


def _positive_int(value: int, flag: str) -> int:
    if value < 1:
        raise InputError(f"{flag} must be a positive integer, got {value}")
    return value


def _positive_int_text(text: str, flag: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{flag} must be a positive integer or auto, got {text!r}") from None
    return _positive_int(value, flag)


def _grad_clip(text: str, auto: str) -> float | None | str:
    if text == "auto":
        return auto
    if text == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--grad-clip must be a positive number, off or auto, got {text!r}") \
            from None
    _finite(value, "--grad-clip", minimum=0.0, strict=True)
    return value


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False
