"""``attractor train``: fit any registered model to a built-in system or to data files.

The model, objective and data options are shared with ``forecast``
(:mod:`attractor.cli.run_options`). The run is written through ``<DIR>.partial`` and renamed into
place when complete; ``--resume`` continues an interrupted or finished run with the same settings
and data (checked by a fingerprint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attractor.cli import run_options as o
from attractor.cli import validate as v
from attractor.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    system: str = o.SYSTEM_OPTION,
    data: list[Path] = o.DATA_OPTION,
    test_data: Path = o.TEST_DATA_OPTION,
    dt: float = o.DT_OPTION,
    model: str = o.MODEL_OPTION,
    settings: list[str] = o.SETTINGS_OPTION,
    latent: int = o.LATENT_OPTION,
    hidden: int = o.HIDDEN_OPTION,
    pwl: int = o.PWL_OPTION,
    bases: int = o.BASES_OPTION,
    observation: str = o.OBSERVATION_OPTION,
    objective: str = o.OBJECTIVE_OPTION,
    objective_settings: list[str] = o.OBJECTIVE_SETTINGS_OPTION,
    alpha: float = o.ALPHA_OPTION,
    tau: int = o.TAU_OPTION,
    seq_len: str = o.SEQ_LEN_OPTION,
    epochs: str = o.EPOCHS_OPTION,
    batch_noise: str = o.BATCH_NOISE_OPTION,
    denoise: str = o.DENOISE_OPTION,
    grad_clip: str = o.GRAD_CLIP_OPTION,
    batch_size: int = o.BATCH_SIZE_OPTION,
    lr: float = o.LR_OPTION,
    lr_end: float = o.LR_END_OPTION,
    n_train: int = o.N_TRAIN_OPTION,
    n_test: int = o.N_TEST_OPTION,
    noise: float = o.NOISE_OPTION,
    seed: int = o.SEED_OPTION,
    embed: str = o.EMBED_OPTION,
    observe: str = o.OBSERVE_OPTION,
    out: Path = typer.Option(..., "--out", help="Output model directory."),
    select_every: str = o.SELECT_EVERY_OPTION,
    select_by: str = o.SELECT_BY_OPTION,
    select_steps: str = o.SELECT_STEPS_OPTION,
    select_probes: str = o.SELECT_PROBES_OPTION,
    retries: int = o.RETRIES_OPTION,
    patience: str = o.PATIENCE_OPTION,
    time_parallel: bool = o.TIME_PARALLEL_OPTION,
    checkpoint_every: int = typer.Option(50, "--checkpoint-every", help="Epochs between "
                                         "checkpoints (an interrupt also writes one)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted or finished "
                                "run in DIR with the same settings and data."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing DIR."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train a model on a system or data files, evaluate it, and write DIR."""
    shared = {k: val for k, val in locals().items() if k in o.SHARED}
    v.positive_int(checkpoint_every, "--checkpoint-every")
    if overwrite and resume:
        raise InputError("give --overwrite (start again) or --resume (continue), not both")
    run_spec, prepared = o.run_spec_and_data(**shared, time_parallel=time_parallel)
    o.announce_embedding(prepared, as_json)
    _write(prepared, run_spec, out, resume=resume, overwrite=overwrite, plots=not no_plots,
           as_json=as_json, checkpoint_every=checkpoint_every)


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
        print_derived(run_spec, prepared)  # once the run is sure to start
        checkpoint = run_dir.staging / "checkpoint"
        with hint(f"checkpoint kept in {checkpoint}; rerun the same command with --resume"):
            record = run(prepared, run_spec, checkpoint_dir=checkpoint, resume=resume,
                         progress=not as_json)
            write_run(record, run_dir.staging, x_test=prepared.test, plots=plots)
    if "epochs" in record.settings["derived"]:
        typer.echo(f"stopped early: epoch {record.settings['derived']['epochs']} "
                   "(--patience)", err=True)
    report(record.metrics, as_json, out)


def print_derived(run_spec: Any, prepared: Any) -> None:
    """Say on stderr which settings the data decide (``--denoise``, ``--seq-len``,
    ``--batch-noise``, ``--patience`` left at auto), before training; the same values are saved in
    ``config.json`` (``run.derived``)."""
    from attractor.dsr.pipeline import derived_settings

    for name, note in derived_settings(prepared, run_spec).items():
        typer.echo(f"derived from the data: --{name.replace('_', '-')} {note}", err=True)


def run_fingerprint(prepared: Any, run_spec: Any) -> dict[str, Any]:
    """What a resumed run must share with the run it continues: settings and data."""
    from attractor.cli.output import data_digest

    spec = run_spec.to_dict()
    for free in ("n_eval_runs", "checkpoint_every"):  # do not change what is trained
        spec.pop(free, None)
    # runs checkpointed before these settings existed stay resumable at the values they had
    # then (denoising was off; a resume with the default --denoise auto is refused)
    for setting, default in (("denoise", None), ("select_by", "d_stsp"), ("select_steps", None),
                             ("select_probes", 0), ("retries", 0)):
        if spec[setting] == default:
            spec.pop(setting)
    current = {
        "spec": spec,
        "data": prepared.source,
        "train_data": data_digest(prepared.train),
        "test_data": data_digest(prepared.test),
    }
    if prepared.embedding is not None:
        current["embedding"] = {"m": prepared.embedding.m, "tau": prepared.embedding.tau}
    return current


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
    """Print the headline metrics (or all of them as one JSON document); the run's warnings
    (:mod:`attractor.dsr.diagnostics`) go to stderr either way."""
    for warning in metrics.get("warnings") or []:
        typer.echo(f"warning: {warning['message']} Likely cause: {warning['cause']}. "
                   f"Try: {', '.join(warning['try'])}.", err=True)
    if as_json:
        from attractor.cli.output import json_document

        typer.echo(json_document(metrics))
        return
    keys = ["D_stsp", "D_H", "PE", "lambda_max", "n_subregions", "train_seconds",
            "final_newton_iterations", "final_newton_fallbacks", "final_forced_lambda"]
    for key in keys:
        if key in metrics and metrics[key] is not None:
            value = metrics[key]
            line = f"{key:>14}: {value:.4g}" if isinstance(value, float) else f"{key:>14}: {value}"
            floor = metrics.get(f"{key}_floor")
            if floor is not None:  # what the test data score against themselves
                line += f"   (data floor {floor:.4g})"
            typer.echo(line)
    if out is not None:
        typer.echo(f"model, metrics.json and plots written to {out}")
