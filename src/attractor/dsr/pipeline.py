"""A whole run as a pure function: data + spec -> fitted model -> metrics -> a plain record.

``run(data, spec)`` builds the model from the registry, trains it with the recipe's objective (or
the one the spec names), keeps the best validated checkpoint, evaluates it with the DSR protocol
and returns a :class:`RunRecord` (settings, metrics, timings, the model). Nothing is written:
:func:`write_run` turns a record into a model directory (``config.json``, ``weights.eqx``,
``metrics.json``, plots). ``attractor train``, ``make demo``, the estimator and the benchmark
engine all go through here, so a setting has one default in one place: the model's
:class:`~attractor.models.registry.Recipe`, overridden field by field by the :class:`RunSpec`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

from attractor import __version__
from attractor.dsr.adaptive import AUTO, check_patience, denoised, resolve_loop_settings
from attractor.dsr.data import PreparedData
from attractor.dsr.diagnostics import null_reasons
from attractor.dsr.evaluate import evaluate_model
from attractor.dsr.selection import (
    SELECTION_NAMES,
    BestModelSelector,
    check_selection_metric,
    validation_key,
    validation_tail,
)
from attractor.errors import InputError
from attractor.models.io import save_model
from attractor.models.registry import build_model, get_spec, make_config
from attractor.train.loop import TrainConfig, TrainResult, train
from attractor.train.objective import ClosedFormObjective, Objective, make_objective

METRICS_FILE = "metrics.json"

#: The objectives whose forced rollout a rollout strategy (e.g. time-parallel) computes.
TEACHER_FORCING = ("gtf", "agtf", "stf", "onestep")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything that decides a run besides the data. ``None`` / ``"auto"`` = the model's recipe.

    Attributes:
        model: registered model name.
        hyperparameters: model hyperparameters beyond the recipe's defaults.
        objective: training objective name (``gtf``, ``agtf``, ``stf``, ``onestep``, ``freerun``,
            ``ridge``); ``None``: the recipe's.
        objective_options: keyword arguments of the objective (e.g. ``{"alpha": 0.2}``).
        epochs, lr_start, lr_end: ``None``: the recipe's.
        grad_clip: a positive number, ``None`` (no clipping) or ``"auto"`` (the recipe's).
        batch_size, batches_per_epoch: loop settings.
        noise_std: std of the Gaussian noise added to each training batch (standardised units);
            ``"auto"``: the noise the denoising removed, estimated on the raw data, and none
            when the data are not denoised (:mod:`attractor.dsr.adaptive`; opt-in, see there).
        denoise: smooth the training series before training: ``"auto"`` (the default: the
            window of least cross-validation score, off when the data show no noise;
            :mod:`attractor.dsr.adaptive`), an odd Savitzky–Golay window in samples, or ``None``
            (off; ``"off"`` is read as ``None``, as a suite file has no null). The test series
            are never smoothed.
        seed: seeds the initialisation and the training batches.
        select_every: keep the best model by its validation score, checked every this many
            epochs; ``None`` keeps the last model.
        select_by: that score: ``"d_stsp"`` or ``"d_h"``
            (:data:`~attractor.dsr.selection.SELECTION_METRICS`).
        select_steps: length of each validation free run (its last rows, as many as the
            validation series has, are scored); ``None``: 1.25 x the validation length.
        patience: stop when that validation score has not improved for this many epochs;
            ``"auto"``: half of the epochs (:mod:`attractor.dsr.adaptive`); ``None``: run
            every epoch.
        n_eval_runs: start points of the evaluation protocol.
        checkpoint_every: epochs between checkpoints (when a checkpoint directory is given).
        time_parallel: compute the teacher-forced rollout by parallel Newton over time
            (:class:`~attractor.train.time_parallel.TimeParallel`; teacher-forcing objectives and
            models with a Jacobian only).
    """

    model: str = "shplrnn"
    hyperparameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    objective: str | None = None
    objective_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int | None = None
    lr_start: float | None = None
    lr_end: float | None = None
    grad_clip: float | None | str = AUTO
    batch_size: int = 16
    batches_per_epoch: int = 50
    noise_std: float | str = 0.0
    denoise: int | str | None = AUTO
    seed: int = 0
    select_every: int | None = 10
    select_by: str = "d_stsp"
    select_steps: int | None = None
    patience: int | None | str = AUTO
    n_eval_runs: int = 5
    checkpoint_every: int = 50
    time_parallel: bool = False

    def __post_init__(self) -> None:
        if self.denoise == "off":  # the CLI's and a suite file's word for None
            object.__setattr__(self, "denoise", None)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"run spec: unknown setting(s) {', '.join(unknown)}")
        return cls(**data)

    # ------------------------------------------------------------------ resolution
    def model_config(self, obs_dim: int) -> Any:
        return make_config(self.model, obs_dim=obs_dim, **self.hyperparameters)

    def make_objective(self) -> Objective:
        recipe = get_spec(self.model).recipe
        name = self.objective or recipe.objective
        options = dict(recipe.objective_options) if name == recipe.objective else {}
        options.update(self.objective_options)
        if name in TEACHER_FORCING:
            options.setdefault("seq_len", AUTO)  # 2.5 periods of the data (dsr.adaptive)
        if self.time_parallel:
            if name not in TEACHER_FORCING:
                raise InputError(f"--time-parallel applies to the teacher-forcing objectives "
                                 f"({', '.join(TEACHER_FORCING)}), not {name}")
            from attractor.train.time_parallel import TimeParallel

            options["rollout"] = TimeParallel()
        return make_objective(name, **options)

    @property
    def max_epochs(self) -> int:
        """The epochs to run (the recipe's unless given); ``patience`` may stop earlier."""
        return get_spec(self.model).recipe.epochs if self.epochs is None else self.epochs

    def train_config(self) -> TrainConfig:
        """The loop settings; ``noise_std="auto"`` must be resolved first
        (:func:`attractor.dsr.adaptive.resolve_loop_settings`)."""
        recipe = get_spec(self.model).recipe
        if self.noise_std == AUTO:
            raise InputError("noise_std 'auto' is set from the data first "
                             "(attractor.dsr.adaptive.resolve_loop_settings)")
        return TrainConfig(
            epochs=self.max_epochs,
            batches_per_epoch=self.batches_per_epoch,
            batch_size=self.batch_size,
            lr_start=recipe.lr_start if self.lr_start is None else self.lr_start,
            lr_end=recipe.lr_end if self.lr_end is None else self.lr_end,
            noise_std=self.noise_std,
            grad_clip=recipe.grad_clip if self.grad_clip == AUTO else self.grad_clip,
            checkpoint_every=self.checkpoint_every,
        )

    def check_loop_settings(self) -> None:
        """Validate the loop settings before any data exist (``"auto"`` ones pass: the data
        decide them when the run starts)."""
        check_patience(self.patience, self.select_every)
        check_selection_metric(self.select_by)
        if self.select_steps is not None and not (isinstance(self.select_steps, int)
                                                  and self.select_steps > 0):
            raise InputError(f"select_steps must be a positive integer, got "
                             f"{self.select_steps!r}")
        if self.denoise not in (None, AUTO):
            from attractor.data.denoise import check_window

            check_window(self.denoise)
        noise = 0.0 if self.noise_std == AUTO else self.noise_std
        dataclasses.replace(self, noise_std=noise).train_config()

    def resolved(self, obs_dim: int) -> dict[str, Any]:
        """Every effective setting (recipe defaults filled in), JSON-ready."""
        return {
            "model": self.model_config(obs_dim).to_dict(),
            "objective": self.make_objective().describe(),
            "train": self.train_config().to_dict(),
            "seed": self.seed,
            "select_every": self.select_every,
            "select_by": self.select_by,
            "select_steps": self.select_steps,
            "patience": self.patience,
            "denoise": self.denoise,
        }


@dataclasses.dataclass
class RunRecord:
    """What :func:`run` returns: plain settings, metrics and timings, plus the fitted model."""

    spec: dict[str, Any]
    settings: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    timings: dict[str, float]
    losses: list[float]
    history: list[dict[str, float]]
    model: Any = dataclasses.field(repr=False)
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready part (everything but the model)."""
        out = dataclasses.asdict(dataclasses.replace(self, model=None))
        out.pop("model")
        return out


@dataclasses.dataclass
class FitResult:
    """A trained (and selected) model with its training history."""

    model: Any
    train: TrainResult
    selected_epoch: int
    seconds: float
    #: the spec with its data-derived settings filled in (:mod:`attractor.dsr.adaptive`)
    spec: RunSpec
    #: name -> how each setting read from the data (and an early stop) came about
    derived: dict[str, str]
    #: ``(epoch, validation score)`` of every best-model check (``inf``: a free run diverged)
    checks: list[tuple[int, float]] = dataclasses.field(default_factory=list)


def fit(
    data: PreparedData,
    spec: RunSpec,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    callback: Callable[..., Any] | None = None,
) -> FitResult:
    """Build the model of ``spec`` and train it on ``data.train`` (see the module docstring)."""
    obs_dim = data.train[0].shape[1]
    model = build_model(spec.model_config(obs_dim), key=jax.random.PRNGKey(spec.seed))
    objective = spec.make_objective()
    closed_form = isinstance(objective, ClosedFormObjective)
    data, spec, derived = _derive_from_data(data, spec, gradient=not closed_form)
    selector = (
        BestModelSelector(validation_tail(data), spec.select_every, state_dir=checkpoint_dir,
                          patience=spec.patience, metric=spec.select_by,
                          steps=spec.select_steps)
        if spec.select_every and not closed_form
        else None
    )
    if selector is not None and resume:
        selector.restore(model)

    def on_epoch(epoch: int, m: Any, loss: float, info: dict[str, float]) -> bool:
        stop = bool(callback(epoch, m, loss, info)) if callback is not None else False
        if selector is not None:
            stop = selector(epoch, m, loss, info) or stop
        return stop

    result = train(
        model,
        data.train,
        objective,
        config=spec.train_config(),
        key=jax.random.PRNGKey(spec.seed + 1),
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        progress=progress,
        callback=on_epoch,
    )
    seconds = result.seconds  # summed over the processes of a resumed run
    model, selected = result.model, result.epochs_done
    if selector is not None and selector.best_model is not None:
        model, selected = selector.best_model, selector.best_epoch
    derived = {**result.objective.derived(), **derived}
    if selector is not None and result.stopped_early:
        derived["epochs"] = (f"{result.epochs_done} of {spec.max_epochs}: the validation "
                             f"{SELECTION_NAMES[spec.select_by]} last improved at epoch "
                             f"{selector.best_epoch}")
    checks = list(selector.checks) if selector is not None else []
    return FitResult(model, result, int(selected or 0), seconds, spec, derived, checks)


def _derive_from_data(
    data: PreparedData, spec: RunSpec, *, gradient: bool
) -> tuple[PreparedData, RunSpec, dict[str, str]]:
    """The training data smoothed as ``spec.denoise`` asks, and ``spec`` with its data-derived
    settings filled in (``denoise`` becomes the window used, or ``None``), read from the
    smoothed data (the batch noise from the raw data); and name -> how each was derived
    (:mod:`attractor.dsr.adaptive`)."""
    raw = data.train
    train, window, how = denoised(spec.denoise, raw)
    if window is not None:
        data = dataclasses.replace(data, train=train)
    spec, derived = resolve_loop_settings(dataclasses.replace(spec, denoise=window), raw,
                                          gradient=gradient)
    if how is not None:
        derived = {"denoise": how, **derived}
    return data, spec, derived


def derived_settings(data: PreparedData, spec: RunSpec) -> dict[str, str]:
    """Name -> how the data decide each ``"auto"`` setting of ``spec`` (denoising, window, STF
    interval, batch noise, patience): what :func:`fit` will derive and record, said before it
    trains."""
    objective = spec.make_objective()
    gradient = not isinstance(objective, ClosedFormObjective)
    data, _, derived = _derive_from_data(data, spec, gradient=gradient)
    return {**objective.prepare(data.train).derived(), **derived}


def run(data: PreparedData, spec: RunSpec, **fit_options: Any) -> RunRecord:
    """Fit, select and evaluate: the whole run as a record (nothing is written)."""
    fitted = fit(data, spec, **fit_options)
    t0 = time.perf_counter()
    metrics = evaluate_model(fitted.model, data.test, dt=data.dt, n_runs=spec.n_eval_runs)
    eval_seconds = time.perf_counter() - t0
    result = fitted.train
    final = {f"final_{k}": v for k, v in (result.history[-1] if result.history else {}).items()}
    metrics.update(
        {
            "train_seconds": fitted.seconds,
            "epochs": result.epochs_done,
            "final_loss": result.losses[-1] if result.losses else None,
            **final,
            "selected_epoch": fitted.selected_epoch,
            "stopped_early": result.stopped_early,
            "attractor_version": __version__,
        }
    )
    score = validation_key(fitted.spec.select_by)
    if fitted.checks:
        metrics["validation_epochs"] = [e for e, _ in fitted.checks]
        metrics[score] = [s if math.isfinite(s) else None for _, s in fitted.checks]
    metrics = null_reasons(metrics, {
        "final_loss": "no gradient steps (a closed-form fit)",
        score: "a free run from a validation start point diverged",
    })
    obs_dim = data.train[0].shape[1]
    settings = fitted.spec.resolved(obs_dim)
    settings["objective"] = result.objective.describe()  # data-derived settings (STF tau)
    settings["derived"] = fitted.derived
    metadata = {
        **data.metadata(),
        "run": {"spec": spec.to_dict(), **settings},
        "seed": spec.seed,
        "x0": data.standardizer.inverse_transform(data.test[:1])[0].tolist(),
    }
    return RunRecord(
        spec=spec.to_dict(),
        settings=settings,
        data=data.source,
        metrics=metrics,
        timings={"train_seconds": fitted.seconds, "eval_seconds": eval_seconds},
        losses=result.losses,
        history=result.history,
        model=fitted.model,
        metadata=metadata,
    )


def write_run(
    record: RunRecord, out: str | Path, *, x_test: Any = None, plots: bool = True
) -> Path:
    """Write a record as a model directory: model, ``metrics.json`` and (with ``x_test``) plots."""
    out = Path(out)
    save_model(out, record.model, record.metadata)
    (out / METRICS_FILE).write_text(json.dumps(record.metrics, indent=2, allow_nan=False))
    if plots and x_test is not None:
        from attractor.plot.dsr import write_dsr_plots

        metric = record.spec.get("select_by", "d_stsp")
        write_dsr_plots(
            out, record.model, x_test, losses=record.losses, dt=record.metadata.get("dt", 1.0),
            validation=(record.metrics.get("validation_epochs", []),
                        record.metrics.get(validation_key(metric), [])),
            score_name=SELECTION_NAMES[metric],
        )
    return out
