"""Forecast scores of the chaotic-forecasting benchmarks: sMAPE, MASE, sMAPE valid time, spectrum
error in dB and correlation-dimension error.

Conventions, spelled out because the literature varies:

- **sMAPE** on the **0–200** scale of the published dysts tables (Gilpin, NeurIPS 2021 and
  Phys. Rev. Research 2023): ``200 · mean(|ŷ − y| / (|ŷ| + |y|))`` over time and dimensions, with
  ``0/0 := 0``. dysts itself switched to 0–100 in 2025; divide by 2 to compare with that.
- **MASE** (Hyndman & Koehler 2006): mean absolute error divided by the in-sample mean absolute
  error of the seasonal naive forecast with period ``m`` on the training series (``m = 1``: the
  persistence forecast).
- **sMAPE valid time** (Gilpin 2023; Zhang & Gilpin 2025): the first step at which the pointwise
  sMAPE (over dimensions) exceeds 30, in steps, time units or Lyapunov times.
- **Power-spectrum error** (Vlachas et al., Neural Networks 2020): mean absolute difference of the
  spectra ``10 log10(|rfft(x_d)|² / T)`` in dB, over frequencies and dimensions.
- **Correlation-dimension error**: ``|D₂(ŷ) − D₂(y)|`` with the Grassberger–Procaccia estimate
  of :func:`attractor.systems.dimensions.correlation_dimension` on both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError
from attractor.metrics._arrays import as_trajectory

#: Gilpin's threshold for the sMAPE valid prediction time (on the 0–200 scale).
SMAPE_VALID_THRESHOLD = 30.0


def _pair(pred: ArrayLike, true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = as_trajectory(pred, "pred", finite=False)
    y = as_trajectory(true, "true")
    if p.shape != y.shape:
        raise InputError(f"pred/true: shapes differ, {p.shape} vs {y.shape}")
    return p, y


def smape_curve(pred: ArrayLike, true: ArrayLike) -> np.ndarray:
    """Pointwise sMAPE (0–200) at every time step, averaged over dimensions ``(T,)``.

    Non-finite predictions count as the worst value, 200.
    """
    p, y = _pair(pred, true)
    denom = np.abs(p) + np.abs(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(denom > 0, np.abs(p - y) / denom, 0.0)
    ratio = np.where(np.isfinite(p), ratio, 1.0)
    return 200.0 * ratio.mean(axis=1)


def smape(pred: ArrayLike, true: ArrayLike) -> float:
    """sMAPE on the 0–200 scale over the whole forecast (see the module docstring)."""
    return float(np.mean(smape_curve(pred, true)))


def mase(pred: ArrayLike, true: ArrayLike, train: ArrayLike, *, season: int = 1) -> float:
    """Mean absolute scaled error against the seasonal naive forecast on ``train``.

    Raises :class:`InputError` if the training series is constant at lag ``season``.
    """
    p, y = _pair(pred, true)
    x = as_trajectory(train, "train")
    if x.shape[1] != y.shape[1]:
        raise InputError(f"train has {x.shape[1]} dimensions, the forecast {y.shape[1]}")
    if not 1 <= season < x.shape[0]:
        raise InputError(f"season must lie in [1, {x.shape[0] - 1}], got {season}")
    scale = float(np.mean(np.abs(x[season:] - x[:-season])))
    if scale == 0:
        raise InputError("train: the naive forecast is exact (constant series); MASE is undefined")
    return float(np.mean(np.abs(p - y)) / scale)


def smape_valid_time(
    pred: ArrayLike,
    true: ArrayLike,
    *,
    threshold: float = SMAPE_VALID_THRESHOLD,
    dt: float = 1.0,
    lyapunov: float | None = None,
) -> float:
    """Leading steps with pointwise sMAPE <= ``threshold``, × ``dt`` (× λ₁ for Lyapunov times).

    Row 0 of ``pred`` is one step after the context, so ``k`` valid rows are ``k · dt``.
    """
    curve = smape_curve(pred, true)
    bad = curve > threshold
    n_valid = int(np.argmax(bad)) if np.any(bad) else curve.size
    value = n_valid * dt
    return float(value * lyapunov) if lyapunov is not None else float(value)


def power_spectrum_error_db(pred: ArrayLike, true: ArrayLike, *, floor: float = 1e-12) -> float:
    """Mean absolute difference of the log power spectra in dB (Vlachas et al. 2020).

    ``S_d(f) = 10 log10(|rfft(x_d)(f)|² / T + floor)`` per dimension; the result is the mean of
    ``|S_pred − S_true|`` over frequencies and dimensions. ``inf`` for a non-finite prediction.
    """
    p, y = _pair(pred, true)
    if not np.all(np.isfinite(p)):
        return float("inf")

    def spectrum(x: np.ndarray) -> np.ndarray:
        return 10.0 * np.log10(np.abs(np.fft.rfft(x, axis=0)) ** 2 / x.shape[0] + floor)

    return float(np.mean(np.abs(spectrum(p) - spectrum(y))))


def correlation_dimension_error(pred: ArrayLike, true: ArrayLike, *, seed: int = 0) -> float:
    """``|D₂(pred) − D₂(true)|`` (Grassberger–Procaccia; ``inf`` for a non-finite prediction)."""
    from attractor.systems.dimensions import correlation_dimension

    p = as_trajectory(pred, "pred", finite=False)
    y = as_trajectory(true, "true")
    if not np.all(np.isfinite(p)):
        return float("inf")
    d_pred = correlation_dimension(p, seed=seed).dimension
    d_true = correlation_dimension(y, seed=seed).dimension
    return float(abs(d_pred - d_true))


__all__ = [
    "SMAPE_VALID_THRESHOLD",
    "correlation_dimension_error",
    "mase",
    "power_spectrum_error_db",
    "smape",
    "smape_curve",
    "smape_valid_time",
]
