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
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

from attractor import __version__
from attractor.dsr.adaptive import denoised, resolve_loop_settings
from attractor.dsr.data import PreparedData
from attractor.dsr.diagnostics import null_reasons
from attractor.dsr.evaluate import evaluate_model
from attractor.dsr.selection import (
    SELECTION_NAMES,
    BestModelSelector,
    validation_key,
    validation_tail,
)
from attractor.dsr.spec import AUTO, TEACHER_FORCING, RunSpec
from attractor.models.io import save_model
from attractor.models.registry import build_model
from attractor.train.loop import TrainResult, train
from attractor.train.objective import ClosedFormObjective, Objective

# RunSpec and its constants live in attractor.dsr.spec; they are imported from here too
__all__ = ["AUTO", "TEACHER_FORCING", "FitResult", "RunRecord", "RunSpec", "derived_settings",
           "fit", "run", "write_run"]

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"


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
    #: ``(epoch, settled basin probes)`` of every best-model check
    settled: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    #: settled basin probes of the selected model (0 unless every check had some)
    selected_settled: int = 0
    #: one dict per training attempt (see :func:`fit`): ``attempt``, ``selected_epoch``,
    #: ``score`` (validation), ``settled_probes``, ``failure`` (why it was not trusted, or
    #: ``None``), ``seconds`` and ``kept``
    attempts: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def fit(
    data: PreparedData,
    spec: RunSpec,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    callback: Callable[..., Any] | None = None,
) -> FitResult:
    """Build the model of ``spec`` and train it on ``data.train`` (see the module docstring).

    When best-model selection says the run failed (:meth:`BestModelSelector.failure`: nothing
    ran stably, every checkpoint had a spurious attractor, or training ended in one for good),
    the model is trained again from another initialisation (and batch order), up to
    ``spec.retries`` times; the attempt with the best effective validation score is kept, and
    every attempt is listed in :attr:`FitResult.attempts`. Attempt ``k >= 1`` keeps its
    checkpoint in ``checkpoint_dir / "retry<k>"``, so a resumed run resumes the attempt it was
    in.
    """
    objective = spec.make_objective()
    closed_form = isinstance(objective, ClosedFormObjective)
    data, spec, derived = _derive_from_data(data, spec, gradient=not closed_form)
    attempts: list[FitResult] = []
    for attempt in range(spec.retries + 1):
        where = None if checkpoint_dir is None else (
            Path(checkpoint_dir) / f"retry{attempt}" if attempt else Path(checkpoint_dir))
        fitted = _fit_attempt(data, spec, objective, attempt, where, resume, progress, callback)
        failure = fitted.attempts[0]["failure"]
        attempts.append(fitted)
        if failure is None:
            break
        if attempt < spec.retries:
            log.warning("training attempt %d failed: %s; training again from another "
                        "initialisation (--retries)", attempt + 1, failure)
    kept = min(attempts, key=_attempt_rank)
    return dataclasses.replace(
        kept, derived={**kept.train.objective.derived(), **derived, **kept.derived},
        seconds=sum(f.seconds for f in attempts),
        attempts=[{**f.attempts[0], "kept": f is kept} for f in attempts])


def _attempt_rank(fitted: FitResult) -> float:
    """Attempts compare as checkpoints do: by the effective validation score."""
    score = fitted.attempts[0]["effective"]
    return math.inf if score is None else score


def _fit_attempt(
    data: PreparedData, spec: RunSpec, objective: Objective, attempt: int,
    checkpoint_dir: Path | None, resume: bool, progress: bool,
    callback: Callable[..., Any] | None,
) -> FitResult:
    """One training of :func:`fit`: attempt 0 with the keys of ``spec.seed``, attempt ``k``
    with those keys folded with ``k``."""
    model_key, train_key = jax.random.PRNGKey(spec.seed), jax.random.PRNGKey(spec.seed + 1)
    if attempt:
        model_key, train_key = (jax.random.fold_in(k, attempt) for k in (model_key, train_key))
    model = build_model(spec.model_config(data.train[0].shape[1]), key=model_key)
    selector = (
        BestModelSelector(validation_tail(data), spec.select_every, state_dir=checkpoint_dir,
                          patience=spec.patience, metric=spec.select_by,
                          steps=spec.select_steps, probes=spec.select_probes)
        if spec.select_every and not isinstance(objective, ClosedFormObjective)
        else None
    )
    if selector is not None and resume:
        selector.restore(model)

    def on_epoch(epoch: int, m: Any, loss: float, info: dict[str, float]) -> bool:
        stop = bool(callback(epoch, m, loss, info)) if callback is not None else False
        if selector is not None:
            stop = selector(epoch, m, loss, info) or stop
        return stop

    result = train(model, data.train, objective, config=spec.train_config(), key=train_key,
                   checkpoint_dir=checkpoint_dir, resume=resume, progress=progress,
                   callback=on_epoch)
    model, selected = result.model, result.epochs_done
    derived: dict[str, str] = {}
    if selector is None:
        record = {"attempt": attempt, "selected_epoch": selected, "score": None,
                  "effective": None, "settled_probes": 0, "failure": None,
                  "seconds": result.seconds}
        return FitResult(model, result, int(selected), result.seconds, spec, derived,
                         attempts=[record])
    if selector.best_model is not None:
        model, selected = selector.best_model, selector.best_epoch
    if result.stopped_early:
        derived["epochs"] = (f"{result.epochs_done} of {spec.max_epochs}: the validation "
                             f"{SELECTION_NAMES[spec.select_by]} last improved at epoch "
                             f"{selector.last_improvement()}")
    finite = math.isfinite(selector.best_effective)
    record = {"attempt": attempt, "selected_epoch": selected,
              "score": selector.best_score if finite else None,
              "effective": selector.best_effective if finite else None,
              "settled_probes": selector.best_settled, "failure": selector.failure(),
              "seconds": result.seconds}
    return FitResult(model, result, int(selected or 0), result.seconds, spec, derived,
                     list(selector.checks), list(selector.settled), selector.best_settled,
                     [record])


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
        metrics["validation_settled_probes"] = [n for _, n in fitted.settled]
        metrics["selected_settled_probes"] = fitted.selected_settled
    # an attempt without a failure has no "failure" key (and one without a finite check no
    # "score": its failure says why), so that metrics.json holds no bare null
    metrics["attempts"] = [{k: v for k, v in a.items() if v is not None}
                           for a in fitted.attempts]
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
            selected=record.metrics.get("selected_epoch"),
            rejected=[e for e, n in zip(record.metrics.get("validation_epochs", []),
                                        record.metrics.get("validation_settled_probes", []),
                                        strict=False) if n],
        )
    return out
