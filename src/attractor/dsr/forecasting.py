"""Forecast evaluation of any model: short-term accuracy and long-term statistics together.

For a trained model and a (standardised) test series, :func:`evaluate_forecasts` warms the model up
on ``n_windows`` context windows of ``context`` rows spread along the test series, lets it run
``horizon`` steps freely from each, and scores every forecast against the truth:

- ``vpt_steps`` / ``vpt_time`` / ``vpt_lyapunov``: valid prediction time (Vlachas et al. 2020):
  leading steps with NRMSE below ``threshold`` (0.5), NRMSE normalised per dimension by the
  **training** data's standard deviation; in steps, time units (× ``dt``) and Lyapunov times
  (× ``dt`` × λ₁, when λ₁ is known);
- ``nrmse``: the NRMSE averaged over the horizon;
- ``smape`` (0–200 scale, in the data's original units, as the published dysts tables),
  ``mase`` (against the persistence forecast on the training data), ``smape_vpt_steps`` (first step
  with sMAPE above 30), ``spectrum_error_db`` (Vlachas et al. 2020);

each as the median over windows (``*_windows`` lists every window). The long-term statistics
``D_stsp`` and ``D_H`` come from the DSR protocol run (:mod:`attractor.dsr.evaluate`): a free run
of 1.25 times the test length from the first test row, its last part compared with the series.
A forecast that diverges counts as invalid from its first non-finite row (its VPT stops there and
its sMAPE counts 200), so one bad window does not abort the evaluation.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.dsr.data import PreparedData
from attractor.dsr.evaluate import generate_runs
from attractor.errors import InputError
from attractor.metrics.forecast import nrmse, valid_prediction_time
from attractor.metrics.protocol import evaluate_generated
from attractor.metrics.scores import mase, power_spectrum_error_db, smape, smape_valid_time

VPT_THRESHOLD = 0.5


@eqx.filter_jit
def _forecasts(model: Any, contexts: jax.Array, horizon: int) -> jax.Array:
    return jax.vmap(lambda c: model.forecast(c, horizon))(contexts)


def window_starts(n_rows: int, context: int, horizon: int, n_windows: int) -> np.ndarray:
    """First forecast rows of ``n_windows`` windows spread evenly along a series of ``n_rows``."""
    last = n_rows - horizon
    if last < context:
        raise InputError(
            f"the test series has {n_rows} rows; a context of {context} plus a horizon of "
            f"{horizon} needs at least {context + horizon}"
        )
    return np.unique(np.linspace(context, last, n_windows).astype(int))


def evaluate_forecasts(
    model: Any,
    data: PreparedData,
    *,
    context: int,
    horizon: int,
    n_windows: int = 5,
    lyapunov: float | None = None,
    threshold: float = VPT_THRESHOLD,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Scores (a JSON-ready dict) and, for plots, the first window's truth and forecast in the
    data's original units (see the module docstring)."""
    x_test = np.asarray(data.test, np.float64)
    starts = window_starts(len(x_test), context, horizon, n_windows)
    contexts = np.stack([x_test[s - context : s] for s in starts])
    truth = np.stack([x_test[s : s + horizon] for s in starts])
    pred = np.asarray(_forecasts(model, jnp.asarray(contexts, jnp.float32), horizon), np.float64)
    train = np.concatenate([np.asarray(x, np.float64) for x in data.train])
    train_std = train.std(axis=0)
    train_std = np.where(train_std > 0, train_std, 1.0)
    inverse = data.standardizer.inverse_transform
    raw_train = inverse(train)
    per_window: dict[str, list[float]] = {k: [] for k in (
        "vpt_steps", "nrmse", "smape", "mase", "smape_vpt_steps", "spectrum_error_db")}
    for p, y in zip(pred, truth, strict=True):
        p_raw, y_raw = inverse(p), inverse(y)
        per_window["vpt_steps"].append(
            valid_prediction_time(p, y, threshold=threshold, std=train_std))
        err = nrmse(np.where(np.isfinite(p), p, np.inf), y, train_std)
        per_window["nrmse"].append(float(np.mean(err)) if np.all(np.isfinite(err)) else np.inf)
        per_window["smape"].append(smape(p_raw, y_raw))
        finite = bool(np.all(np.isfinite(p_raw)))
        per_window["mase"].append(mase(p_raw, y_raw, raw_train) if finite else np.inf)
        per_window["smape_vpt_steps"].append(smape_valid_time(p_raw, y_raw))
        per_window["spectrum_error_db"].append(power_spectrum_error_db(p_raw, y_raw))
    scores: dict[str, Any] = {k: float(np.median(v)) for k, v in per_window.items()}
    scores["vpt_time"] = scores["vpt_steps"] * data.dt
    scores["vpt_lyapunov"] = (
        scores["vpt_time"] * lyapunov if lyapunov is not None else None
    )
    if lyapunov is None:
        scores["vpt_lyapunov_reason"] = "the largest Lyapunov exponent of the data is unknown"
    scores.update({f"{k}_windows": v for k, v in per_window.items()})
    scores.update(
        context=context, horizon=horizon, n_windows=int(starts.size), threshold=threshold,
        dt=data.dt, lyapunov_max=lyapunov, smape_scale="0-200",
    )
    scores.update(_long_term(model, x_test))
    plot = {"truth": inverse(truth[0]), "forecast": inverse(pred[0]),
            "context": inverse(contexts[0])}
    return _strict(scores), plot


def _long_term(model: Any, x_test: np.ndarray) -> dict[str, Any]:
    """D_stsp and D_H of the DSR protocol run (from the first test row) against the test series."""
    observed, _ = generate_runs(model, x_test, 1)
    stats = evaluate_generated(x_test, list(observed))
    return {"D_stsp": stats["d_stsp"][0], "D_H": stats["d_h"][0]}


def _strict(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
