"""Short-term forecast quality: n-step prediction error PE(n), NRMSE and valid prediction time.

The metrics take arrays and plain callables only: a model layer supplies the predictor
(``init_state`` from observations → n latent steps → observation), so this module knows nothing of
models.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError
from attractor.metrics._arrays import as_trajectory

#: ``predict_n(starts (K, N)) -> predictions (K, N)``, n steps ahead of each start.
Predictor = Callable[[np.ndarray], ArrayLike]
#: ``predict_curve(starts (K, N)) -> predictions (K, n, N)``, steps 1..n ahead of each start.
CurvePredictor = Callable[[np.ndarray], ArrayLike]


def _starts_and_targets(x: ArrayLike, n: int) -> tuple[np.ndarray, int]:
    xs = as_trajectory(x, "x")
    if n < 1:
        raise InputError(f"n: the prediction horizon must be >= 1, got {n}")
    if xs.shape[0] <= n:
        raise InputError(f"x: needs more than n = {n} time steps, got {xs.shape[0]}")
    return xs, xs.shape[0] - n


def _batched(fn: Callable[[np.ndarray], ArrayLike], starts: np.ndarray, batch: int | None):
    """Apply ``fn`` to ``starts`` in chunks of ``batch`` rows (all at once if None); float64."""
    if batch is None or batch >= starts.shape[0]:
        return np.asarray(fn(starts), dtype=np.float64)
    if batch < 1:
        raise InputError(f"batch_size: must be >= 1, got {batch}")
    parts = [np.asarray(fn(starts[i : i + batch])) for i in range(0, starts.shape[0], batch)]
    return np.concatenate(parts, axis=0).astype(np.float64)


def prediction_error(
    predict_n: Predictor, x: ArrayLike, n: int = 20, *, batch_size: int | None = None
) -> float:
    """PE(n): mean squared error of n-step-ahead predictions from every data point.

    For every t with t + n inside the series (0-based t = 0 .. T−n−1, i.e. T − n start points),
    ``predict_n`` receives the observation x_t as a start point and returns its prediction of
    x_{t+n}; PE(n) is the MSE over all those start points and all dimensions, at step n **only**
    (Hess et al. 2023, GTF ``prediction_error.jl``; n = 20 in the paper). With a latent model,
    ``predict_n`` is: z = init_state(x_t), n steps, observe.

    Args:
        predict_n: maps a batch of start observations ``(K, N)`` to predictions ``(K, N)``.
        x: observed series ``(T, N)``, finite, T > n.
        n: the horizon in steps.
        batch_size: call ``predict_n`` on chunks of this many start points (default: all).

    Returns:
        PE(n); ``nan``/``inf`` propagate from non-finite predictions.
    """
    xs, k = _starts_and_targets(x, n)
    pred = _batched(predict_n, xs[:k], batch_size)
    if pred.shape != (k, xs.shape[1]):
        raise InputError(f"predict_n: returned shape {pred.shape}, expected {(k, xs.shape[1])}")
    return float(np.mean((pred - xs[n:]) ** 2))


def prediction_error_curve(
    predict_curve: CurvePredictor, x: ArrayLike, n: int = 20, *, batch_size: int | None = None
) -> np.ndarray:
    """PE(k) for k = 1..n from one set of rollouts: ``curve[k − 1]`` = PE(k).

    Every horizon uses the same T − n start points (those of PE(n)), so the curve is comparable
    across k and ``curve[-1]`` equals :func:`prediction_error` with the same n (dendPLRNN
    ``mse.py`` returns such a 1..20 curve).

    Args:
        predict_curve: maps start observations ``(K, N)`` to predictions ``(K, n, N)`` of the
            steps 1..n after each start.
        x: observed series ``(T, N)``, finite, T > n.
        n: the largest horizon.
        batch_size: call ``predict_curve`` on chunks of this many start points.
    """
    xs, k = _starts_and_targets(x, n)
    pred = _batched(predict_curve, xs[:k], batch_size)
    n_dim = xs.shape[1]
    if pred.shape != (k, n, n_dim):
        raise InputError(f"predict_curve: returned shape {pred.shape}, expected {(k, n, n_dim)}")
    # targets[i, j] = x[i + j + 1]: a (k, n, N) sliding-window view, no copy.
    windows = np.lib.stride_tricks.sliding_window_view(xs[1:], n, axis=0)  # (k, N, n)
    targets = np.moveaxis(windows[:k], -1, 1)
    return np.mean((pred - targets) ** 2, axis=(0, 2))


def nrmse(pred: ArrayLike, true: ArrayLike, std: ArrayLike | None = None) -> np.ndarray:
    """Normalised root-mean-square error at every time step (Vlachas et al. 2020).

    ``NRMSE_t = √( mean_d (ŷ_td − y_td)² / σ_d² )`` over the last axis (dimensions). Vlachas
    et al. (2020, Neural Networks 126:191) take σ_d from the **training** data: pass it as
    ``std``. With ``std=None``, σ_d is the standard deviation of ``true`` along time (axis −2),
    which is a different convention for short horizons. A scalar ``std`` normalises all
    dimensions alike.

    Args:
        pred, true: arrays ``(..., T, N)`` of the same shape.
        std: per-dimension scale ``(N,)``, a scalar, or None.

    Returns:
        ``(..., T)`` array of NRMSE values.
    """
    p = np.asarray(pred, dtype=np.float64)
    y = np.asarray(true, dtype=np.float64)
    if p.shape != y.shape or p.ndim < 2:
        raise InputError(f"pred/true: need equal (..., T, N) shapes, got {p.shape}, {y.shape}")
    s = y.std(axis=-2, keepdims=True) if std is None else np.asarray(std, dtype=np.float64)
    if np.any(s <= 0):
        raise InputError("std: every normalising standard deviation must be > 0")
    return np.sqrt(np.mean(((p - y) / s) ** 2, axis=-1))


def valid_prediction_time(
    pred: ArrayLike,
    true: ArrayLike,
    *,
    threshold: float = 0.5,
    std: ArrayLike | None = None,
    dt: float = 1.0,
    lyapunov: float | None = None,
) -> float:
    """Valid prediction time: how long a forecast stays within ``threshold`` NRMSE.

    VPT = (number of **leading** steps with NRMSE < ``threshold``) × ``dt`` (× λ₁ when
    ``lyapunov`` is given, i.e. in Lyapunov times), as in Vlachas et al. 2020 (threshold 0.5; the
    literature also uses 0.3, 0.4 and 0.05 and other normalisations — benchmarks.md §3). Row 0
    of ``pred`` is the forecast one step after the last observed point, so k valid leading rows
    mean k·dt time units. The count stops at the first step whose NRMSE is ≥ threshold or NaN.

    Args:
        pred, true: forecast and truth ``(T, N)``.
        threshold: NRMSE threshold.
        std: normalising per-dimension std (use the training data's; see :func:`nrmse`).
        dt: time units per step.
        lyapunov: largest Lyapunov exponent λ₁ per time unit, to report Lyapunov times.
    """
    p = as_trajectory(pred, "pred", finite=False)
    y = as_trajectory(true, "true")
    err = nrmse(p, y, std)
    ok = err < threshold  # NaN compares False
    n_valid = int(np.argmin(ok)) if not np.all(ok) else ok.size
    vpt = n_valid * dt
    return float(vpt * lyapunov) if lyapunov is not None else float(vpt)


__all__ = [
    "nrmse",
    "prediction_error",
    "prediction_error_curve",
    "valid_prediction_time",
]
