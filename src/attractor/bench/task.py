"""Tasks: one suite × system × model variant × seed (× sweep point), its id, and how it runs.

A task is a plain JSON-ready configuration (:class:`Task.config`): the suite name, the resolved
protocol for this system (suite defaults, per-system overrides, the sweep point), the system, the
model's :class:`~attractor.dsr.pipeline.RunSpec`, the seed and the library version. Its id is the
SHA-256 of that configuration as canonical JSON (sorted keys), so the same task gets the same id
in every process and on every machine, and anything that changes the result — a hyperparameter,
the horizon, the library version — gives a new id.

:func:`execute` runs one task as one call of the pure pipeline and returns plain metrics:

- ``forecast`` protocol: data from :func:`~attractor.dsr.data.system_data` (training and test
  trajectories from two initial conditions drawn from the seed; ``dt`` = period / points per
  period when the suite sets ``points_per_period``), :func:`~attractor.dsr.pipeline.fit` with the
  model's recipe (objective options listed under the model's ``tune`` first chosen by
  :func:`_tune` on the training trajectory alone, reported as ``tuned_<option>``), then
  :func:`~attractor.dsr.forecasting.evaluate_forecasts`. Added here:
  ``smape_vpt_lyapunov`` (sMAPE valid time × dt × λ₁) and ``corr_dim_error``
  (:func:`~attractor.metrics.scores.correlation_dimension_error` of the DSR protocol's free run
  against the test series, both in standardised units);
- ``dsr`` protocol: :func:`~attractor.dsr.pipeline.run` (the GTF protocol), plus
  ``lambda_max_error`` = |λ_max(model) − λ₁(system)|, ``lambda_max_relative_error`` (the same
  over λ₁), ``lambda_max_system`` (λ₁, the system's reference), ``n_warnings`` (failed-run
  diagnoses of :mod:`attractor.dsr.diagnostics`), ``settled_probes`` (basin probes of the test
  data that ended on a fixed point or small cycle, of 64: :mod:`attractor.dsr.probes`) and
  ``attempts`` (trainings of the run: more than one when a failed run was trained again,
  :func:`~attractor.dsr.pipeline.fit`).

A metric that cannot be computed (a diverged forecast, an unknown Lyapunov exponent) is ``None``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import platform
import time
from typing import Any

from attractor import __version__
from attractor.bench.suite import SWEEPABLE, Suite
from attractor.errors import AttractorError, InputError

#: Points of the free run kept for the correlation dimension (O(n²) pair distances).
CORR_DIM_POINTS = 1500


@dataclasses.dataclass(frozen=True)
class Task:
    """One task: its id and its configuration (see the module docstring)."""

    id: str
    config: dict[str, Any]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def task_id(config: dict[str, Any]) -> str:
    """SHA-256 (hex, first 20 characters) of the canonical configuration."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:20]


def make_task(config: dict[str, Any]) -> Task:
    return Task(task_id(config), config)


def expand_tasks(
    suite: Suite,
    *,
    systems: list[str] | None = None,
    models: list[str] | None = None,
    seeds: list[int] | None = None,
) -> list[Task]:
    """Every task of ``suite``, optionally restricted to other systems, models or seeds.

    ``systems`` and ``models`` may name any registered system or model (those outside the suite
    run with the suite's protocol and the model's recipe); they are validated first, so an unknown
    name raises :class:`InputError` before any task exists.
    """
    from attractor.bench.suite import ModelEntry, check_models, expand_systems

    system_names = (expand_systems(systems)[0] if systems else suite.resolve_systems()[0])
    if not system_names:
        raise InputError(f"suite {suite.name}: no systems to run")
    entries = dict(suite.models)
    if models:
        entries = {}
        for name in models:
            key = name.lower()
            entries[key] = suite.models.get(key) or ModelEntry(key, {}, {})
        check_models(suite, entries, system_names)
    seed_list = list(seeds) if seeds is not None else list(suite.seeds)
    sweep = {k: suite.protocol[k] for k in SWEEPABLE if isinstance(suite.protocol[k], list)}
    points = [dict(zip(sweep, v, strict=True)) for v in itertools.product(*sweep.values())]
    tasks = []
    for system in system_names:
        for point in points:
            protocol = resolve_protocol(suite, system, point)
            condition = ",".join(f"{k}={v}" for k, v in point.items())
            for entry in entries.values():
                for variant, settings in entry.variants():
                    for seed in seed_list:
                        spec = _full_spec({"select_every": None, **settings,
                                           "model": entry.name, "seed": int(seed)})
                        tasks.append(make_task({
                            "suite": suite.name, "system": system, "protocol": protocol,
                            "model": entry.name, "variant": variant, "condition": condition,
                            "spec": spec, "tune": entry.tune, "seed": int(seed),
                            "attractor_version": __version__,
                        }))  # fmt: skip
    unique = {t.id: t for t in tasks}  # a grid with a repeated value gives one task
    return list(unique.values())


def _full_spec(settings: dict[str, Any]) -> dict[str, Any]:
    """Every run setting of a task, the defaults written out: the task id then changes when a
    default does, so a store never mixes results of two recipes under one id."""
    from attractor.dsr.pipeline import RunSpec

    return RunSpec.from_dict(settings).to_dict()


def resolve_protocol(suite: Suite, system_name: str, point: dict[str, Any]) -> dict[str, Any]:
    """The protocol of one system: suite defaults, the system's overrides, the sweep point;
    ``dt`` and ``lyapunov`` filled in from the system when the suite does not set them."""
    from attractor.systems import get

    system = get(system_name)
    protocol = {**suite.protocol, **suite.system_options.get(system.name, {}), **point}
    if "dt" not in protocol:
        ppp = protocol.get("points_per_period")
        protocol["dt"] = float(system.period / ppp) if ppp and system.period else float(system.dt)
    if "lyapunov" not in protocol:
        lam = system.reference.lyapunov_max
        protocol["lyapunov"] = float(lam) if lam is not None and lam > 0 else None
    if protocol["kind"] == "forecast" and protocol["n_test"] is None:
        protocol["n_test"] = protocol["context"] + protocol["horizon"]
    return protocol


# ------------------------------------------------------------------------------------ running
def execute(config: dict[str, Any]) -> dict[str, Any]:
    """Run one task: ``{"metrics": {name: float | None}, "timings": {...}}`` (see module doc)."""
    from attractor.dsr.data import system_data
    from attractor.dsr.pipeline import RunSpec

    p = config["protocol"]
    t0 = time.perf_counter()
    data = system_data(config["system"], n_train=p["n_train"], n_test=p["n_test"],
                       noise=p["noise"], seed=config["seed"], dt=p["dt"])  # fmt: skip
    data_seconds = time.perf_counter() - t0
    spec = RunSpec.from_dict(config["spec"])
    if p["kind"] == "dsr":
        metrics, timings = _dsr(data, spec, p)
    else:
        t1 = time.perf_counter()
        spec, tuned = _tune(data, spec, p, config["tune"]) if config["tune"] else (spec, {})
        tune_seconds = time.perf_counter() - t1
        metrics, timings = _forecast(data, spec, p)
        metrics.update({f"tuned_{k}": v for k, v in tuned.items()})
        timings["tune_seconds"] = tune_seconds
    timings["data_seconds"] = data_seconds
    return {"metrics": {k: _number(v) for k, v in metrics.items()}, "timings": timings}


def _tune(data: Any, spec: Any, p: dict[str, Any],
          tune: dict[str, list[Any]]) -> tuple[Any, dict[str, Any]]:  # fmt: skip
    """The objective options of ``tune`` with the lowest forecast sMAPE on the last
    ``tune_holdout`` training rows, each candidate fitted on the rows before them (Gilpin 2023:
    hyperparameters chosen on the training trajectory, never on the test one); returns the spec
    with the chosen options and the choice."""
    import numpy as np

    from attractor.bench.suite import tune_points
    from attractor.dsr.forecasting import evaluate_forecasts
    from attractor.dsr.pipeline import fit

    x = np.asarray(data.train[0], np.float64)
    holdout = p["tune_holdout"]
    split = len(x) - holdout
    if split < 2:
        raise InputError(f"tune_holdout {holdout}: the training series has only {len(x)} rows")
    best: tuple[float, dict[str, Any]] | None = None
    for options in tune_points(tune):
        candidate = dataclasses.replace(spec, objective_options={**spec.objective_options,
                                                                 **options})  # fmt: skip
        try:
            model = fit(dataclasses.replace(data, train=[data.train[0][:split]]), candidate).model
            context = min(split, model.context_length if p["context"] == "auto"
                          else p["context"])  # fmt: skip
            inner = dataclasses.replace(data, train=[data.train[0][:split]],
                                        test=x[split - context:])  # fmt: skip
            scores, _ = evaluate_forecasts(model, inner, context=max(context, 1),
                                           horizon=holdout, n_windows=1)  # fmt: skip
            score = scores["smape"] if scores["smape"] is not None else math.inf
        except (AttractorError, FloatingPointError, np.linalg.LinAlgError):  # a bad candidate
            score = math.inf
        if best is None or score < best[0]:
            best = (score, options)
    assert best is not None
    chosen = best[1]
    return dataclasses.replace(spec, objective_options={**spec.objective_options, **chosen}), chosen


def _forecast(data: Any, spec: Any, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    from attractor.dsr.forecasting import evaluate_forecasts
    from attractor.dsr.pipeline import fit

    fitted = fit(data, spec)
    t0 = time.perf_counter()
    context = fitted.model.context_length if p["context"] == "auto" else p["context"]
    scores, _ = evaluate_forecasts(fitted.model, data, context=max(int(context), 1),
                                   horizon=p["horizon"], n_windows=p["n_windows"],
                                   lyapunov=p["lyapunov"])  # fmt: skip
    metrics = {k: v for k, v in scores.items() if k in _FORECAST_SCALARS}
    steps = scores["smape_vpt_steps"]
    metrics["smape_vpt_lyapunov"] = (
        steps * p["dt"] * p["lyapunov"] if steps is not None and p["lyapunov"] else None
    )
    metrics["corr_dim_error"] = _corr_dim_error(fitted.model, data.test)
    metrics["train_seconds"] = fitted.seconds
    return metrics, {"train_seconds": fitted.seconds, "eval_seconds": time.perf_counter() - t0}


_FORECAST_SCALARS = ("smape", "mase", "nrmse", "vpt_steps", "vpt_time", "vpt_lyapunov",
                     "smape_vpt_steps", "spectrum_error_db", "D_stsp", "D_H")  # fmt: skip


def _corr_dim_error(model: Any, x_test: Any) -> float | None:
    import numpy as np

    from attractor.dsr.evaluate import generate_runs
    from attractor.metrics.scores import correlation_dimension_error

    x = np.asarray(x_test, np.float64)
    observed, _ = generate_runs(model, x, 1)
    try:
        return correlation_dimension_error(observed[0][-CORR_DIM_POINTS:], x[-CORR_DIM_POINTS:])
    except InputError:  # too few pairs in the scaling region (e.g. a run collapsed to a point)
        return None


def _dsr(data: Any, spec: Any, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    from attractor.dsr.pipeline import run

    record = run(data, spec)
    m = record.metrics
    metrics = {k: m.get(k) for k in ("D_stsp", "D_H", "PE", "lambda_max", "D_stsp_starts_median",
                                     "D_H_starts_median", "D_stsp_floor")}  # fmt: skip
    lam, true = m.get("lambda_max"), p["lyapunov"]
    metrics["lambda_max_error"] = abs(lam - true) if lam is not None and true else None
    metrics["lambda_max_relative_error"] = abs(lam - true) / true if lam is not None and true \
        else None
    metrics["lambda_max_system"] = true
    metrics["n_warnings"] = len(m.get("warnings") or [])
    metrics["settled_probes"] = m.get("settled_probes")
    metrics["attempts"] = len(m.get("attempts") or [None])
    metrics["train_seconds"] = record.timings["train_seconds"]
    return metrics, dict(record.timings)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def environment() -> dict[str, Any]:
    """``host:pid`` and package versions of the process that runs a task (stored with it)."""
    from importlib import metadata

    versions = {"python": platform.python_version(), "attractor": __version__}
    for package in ("jax", "jaxlib", "equinox", "optax", "diffrax", "numpy", "scipy", "dysts"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {"host": f"{platform.node()}:{os.getpid()}", "versions": versions}


__all__ = ["Task", "canonical_json", "execute", "expand_tasks", "make_task", "resolve_protocol",
           "task_id"]  # fmt: skip
