"""``attractor train``: fit any registered model to a built-in system or to data files.

Model flags come from the registry: ``--model NAME`` picks the model, ``--set KEY=VALUE`` sets any
hyperparameter of its config (typed by the config), and ``--latent`` / ``--hidden`` / ``--pwl`` /
``--bases`` / ``--observation`` are shortcuts for the common ones. Everything not given comes from
the model's recipe (``attractor models list``), so adding a model needs no change here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from attractor.cli import validate as v
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
    checkpoint_every: int = typer.Option(50, "--checkpoint-every", help="Epochs between "
                                         "checkpoints (an interrupt also writes one)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted or finished "
                                "run in DIR with the same settings and data."),
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
    v.positive_int(checkpoint_every, "--checkpoint-every")
    if overwrite and resume:
        raise InputError("give --overwrite (start again) or --resume (continue), not both")
    prepared = _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed)
    obs_dim = prepared.train[0].shape[1]
    run_spec.model_config(obs_dim)  # validates the hyperparameters against the data
    run_spec.make_objective()
    _write(prepared, run_spec, out, resume=resume, overwrite=overwrite, plots=not no_plots,
           as_json=as_json, checkpoint_every=checkpoint_every)


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
        hyper[key] = v.positive_int(value, flag) if isinstance(value, int) else value
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
    v.non_negative_float(batch_noise, "--batch-noise")
    for flag, value in (("--lr", lr), ("--lr-end", lr_end)):
        if value is not None:
            v.positive_float(value, flag)
    v.positive_int(batch_size, "--batch-size")
    v.seed(seed)
    return RunSpec(
        model=model,
        hyperparameters=hyper,
        objective=objective.lower() if objective else None,
        objective_options=options,
        epochs=v.auto_or_positive_int(epochs, "--epochs"),
        lr_start=lr,
        lr_end=lr_end,
        grad_clip=_grad_clip(grad_clip, AUTO),
        batch_size=batch_size,
        noise_std=batch_noise,
        seed=seed,
        select_every=None if select_every == "off" else _positive_text(select_every,
                                                                       "--select-every"),
    )


def _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed) -> Any:
    from attractor.dsr.data import file_data, system_data

    if (system is None) == (not data):
        raise InputError("give exactly one of --system NAME or --data FILE")
    if dt is not None:
        v.positive_float(dt, "--dt")
    if system is not None:
        from attractor.systems import get

        if test_data is not None:
            raise InputError("--test-data applies to --data only (--system makes its own)")
        for flag, value in (("--n-train", n_train), ("--n-test", n_test)):
            if value < MIN_TEST_ROWS:
                raise InputError(f"{flag} must be at least {MIN_TEST_ROWS}, got {value}")
        v.non_negative_float(noise, "--noise")
        dim = get(system).dim
        v.check_allocation(4 * (n_train + n_test) * dim, f"the {n_train + n_test} x {dim} data",
                           "--n-train/--n-test")
        return system_data(system, n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=dt)
    if test_data is not None and any(_same_file(test_data, d) for d in data):
        raise InputError(f"--test-data {test_data} is also a --data file: the test set would "
                         "leak into training")
    return file_data(data, test=test_data, dt=dt if dt is not None else 1.0)


def _write(prepared, run_spec, out: Path, *, resume: bool, overwrite: bool, plots: bool,
           as_json: bool, checkpoint_every: int) -> None:
    """Train into ``<out>.partial`` and rename it into place when the run is complete."""
    import dataclasses

    from attractor.cli.output import OutputDirectory
    from attractor.cli.signals import hint
    from attractor.dsr.pipeline import run, write_run

    run_spec = dataclasses.replace(run_spec, checkpoint_every=checkpoint_every)
    current = run_fingerprint(prepared, run_spec)
    with OutputDirectory(out, overwrite=overwrite, resume=resume) as run_dir:
        check_resume(run_dir, current)
        checkpoint = run_dir.staging / "checkpoint"
        with hint(f"checkpoint kept in {checkpoint}; rerun the same command with --resume"):
            record = run(prepared, run_spec, checkpoint_dir=checkpoint, resume=resume,
                         progress=not as_json)
            write_run(record, run_dir.staging, x_test=prepared.test, plots=plots)
    report(record.metrics, as_json, out)


def run_fingerprint(prepared: Any, run_spec: Any) -> dict[str, Any]:
    """What a resumed run must share with the run it continues: settings and data."""
    from attractor.cli.output import data_digest

    spec = run_spec.to_dict()
    for free in ("n_eval_runs", "checkpoint_every"):  # do not change what is trained
        spec.pop(free, None)
    return {
        "spec": spec,
        "data": prepared.source,
        "train_data": data_digest(prepared.train),
        "test_data": data_digest(prepared.test),
    }


def check_resume(run_dir: Any, current: dict[str, Any]) -> None:
    """On ``--resume`` compare with the saved fingerprint; always (re)write it."""
    from attractor.cli.output import check_fingerprint, load_fingerprint, save_fingerprint

    if run_dir.resumed_from is not None:
        saved = load_fingerprint(run_dir.staging)
        if saved is None:
            raise InputError(f"--resume: {run_dir.out} has no fingerprint.json (written by an "
                             "older version?); start again with --overwrite")
        check_fingerprint(saved, current, where=str(run_dir.out))
    save_fingerprint(run_dir.staging, current)


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


# ---------------------------------------------------------------------- small parsers
def _positive_text(text: str, flag: str) -> int:
    try:
        return v.positive_int(int(text), flag)
    except ValueError:
        raise InputError(f"{flag} must be a positive integer or off, got {text!r}") from None


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
    return v.positive_float(value, "--grad-clip")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False
