"""Sparse-teacher-forcing interval τ from the data.

Mikhaeil, Monfared & Durstewitz 2022, "On the difficulty of learning chaotic dynamics with RNNs"
(NeurIPS) force the latent state with data every τ steps; the dendPLRNN code (Brenner et al. 2022,
ICML) estimates τ from the data with two classic delay-embedding heuristics:

- the autocorrelation time: the first lag where the autocorrelation falls below ``1/e``, or its
  first local minimum, whichever comes first;
- the first local minimum of the delayed mutual information (Fraser & Swinney 1986).

:func:`estimate_forcing_interval` takes the smaller of the two per dimension and the smallest over
dimensions (the conservative choice: force at least as often as the fastest dimension decorrelates).

Differences from the dendPLRNN script, on purpose: the autocorrelation at lag k is the Pearson
correlation of ``x[:-k]`` with ``x[k:]`` (no ``1 - k/T`` taper, so a sinusoid of period P has its
first minimum exactly at P/2); the mutual information uses one set of ``n_bins`` equal-width bins
per dimension over ``[min x, max x]`` for both copies. Lags are in samples (times Δt for time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

from attractor.data.io import validate_series
from attractor.errors import InputError


def _lag_limit(x: np.ndarray, max_lag: int, *, name: str) -> int:
    if isinstance(max_lag, bool) or not isinstance(max_lag, int | np.integer) or max_lag < 1:
        raise InputError(f"max_lag must be a positive integer, got {max_lag!r}")
    if max_lag > x.shape[0] - 2:
        raise InputError(
            f"{name}: max_lag {max_lag} needs at least {max_lag + 2} rows, got {x.shape[0]}"
        )
    return int(max_lag)


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of each column at lags ``0..max_lag``, shape ``(max_lag + 1, D)``.

    ``r[k, d]`` is the Pearson correlation of ``x[:T-k, d]`` with ``x[k:, d]`` (each segment with
    its own mean and std), computed for all lags at once with an FFT. ``r[0] = 1``. A constant
    column (or a lag where either segment is constant) gives NaN.

    Raises:
        InputError: invalid ``x`` or ``max_lag`` not in ``1..T-2``.
    """
    x = validate_series(x, name="x", min_rows=3)
    max_lag = _lag_limit(x, max_lag, name="x")
    t = x.shape[0]
    xc = x - x.mean(axis=0)
    # zero padding to >= T + max_lag keeps the circular correlation free of wrap-around
    n_fft = scipy.fft.next_fast_len(t + max_lag, real=True)
    spec = scipy.fft.rfft(np.ascontiguousarray(xc.T), n=n_fft, axis=-1)
    power = (spec * np.conj(spec)).real
    cross = scipy.fft.irfft(power, n=n_fft, axis=-1)[:, : max_lag + 1].T  # Σ_t x_t x_{t+k}
    lags = np.arange(max_lag + 1)
    n = (t - lags)[:, None].astype(np.float64)
    c1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(xc, axis=0)])
    c2 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(xc * xc, axis=0)])
    # head segment x[0:T-k], tail segment x[k:T]
    sum_a, sq_a = c1[t - lags], c2[t - lags]
    sum_b, sq_b = c1[t] - c1[lags], c2[t] - c2[lags]
    cov = cross / n - (sum_a / n) * (sum_b / n)
    var_a = sq_a / n - (sum_a / n) ** 2
    var_b = sq_b / n - (sum_b / n) ** 2
    scale = np.sqrt(np.clip(var_a, 0.0, None) * np.clip(var_b, 0.0, None))
    tiny = 1e-12 * (c2[t] / t)  # variance below this counts as zero (FFT rounding)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where((var_a > tiny) & (var_b > tiny), cov / scale, np.nan)
    return np.clip(r, -1.0, 1.0)


def delayed_mutual_information(x: np.ndarray, max_lag: int, n_bins: int = 64) -> np.ndarray:
    """Mutual information (nats) between ``x[t, d]`` and ``x[t + k, d]`` for ``k = 0..max_lag``,
    shape ``(max_lag + 1, D)``.

    Histogram estimate: each column is cut into ``n_bins`` equal-width bins over its range
    ``[min, max]``; ``I(k) = Σ p_ij log(p_ij / (p_i q_j))`` from the joint histogram of the pairs
    at lag k, with ``p``, ``q`` its marginals. ``I(0)`` is the entropy of the binned column.
    A constant column gives 0 at every lag.

    Raises:
        InputError: invalid ``x``, ``max_lag`` not in ``1..T-2`` or ``n_bins < 2``.
    """
    x = validate_series(x, name="x", min_rows=3)
    max_lag = _lag_limit(x, max_lag, name="x")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise InputError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    t, d = x.shape
    lo, hi = x.min(axis=0), x.max(axis=0)
    width = np.where(hi > lo, hi - lo, 1.0)
    codes = np.clip(((x - lo) / width * n_bins).astype(np.int64), 0, n_bins - 1)
    codes = np.ascontiguousarray(codes.T)  # one contiguous row per column: fast slicing
    out = np.empty((max_lag + 1, d))
    for j in range(d):
        c = codes[j]
        for k in range(max_lag + 1):
            a, b = c[: t - k], c[k:]
            joint = np.bincount(a * n_bins + b, minlength=n_bins * n_bins).reshape(n_bins, n_bins)
            out[k, j] = _mutual_information(joint)
    return out


def _mutual_information(joint: np.ndarray) -> float:
    """Mutual information (nats) of a 2-D contingency table of counts."""
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    nz = p > 0
    outer = np.outer(pa, pb)
    return float(max(np.sum(p[nz] * np.log(p[nz] / outer[nz])), 0.0))


def first_local_minimum(curve: np.ndarray) -> int | None:
    """First lag ``k >= 1`` that is a local minimum of ``curve`` (1-D, indexed by lag).

    ``k`` qualifies when ``curve[k] < curve[k-1]`` and the next value that differs from
    ``curve[k]`` is larger (a flat bottom counts once, at its first lag). The last lag never
    qualifies (what follows is unknown). NaN entries never qualify. ``None`` if there is none.
    """
    c = np.asarray(curve, dtype=np.float64)
    for k in range(1, len(c) - 1):
        if not (c[k] < c[k - 1]):
            continue
        j = k + 1
        while j < len(c) and c[j] == c[k]:
            j += 1
        if j < len(c) and c[j] > c[k]:
            return k
    return None


def decay_lag(curve: np.ndarray, threshold: float = math.exp(-1.0)) -> int | None:
    """First lag ``k >= 1`` where ``curve[k] < threshold`` (default ``1/e``); ``None`` if none."""
    below = np.flatnonzero(np.asarray(curve)[1:] < threshold)
    return int(below[0]) + 1 if below.size else None


@dataclass(frozen=True)
class IntervalEstimates:
    """Per-dimension candidate lags (samples); ``None`` where a criterion found nothing.

    Attributes:
        acf_decay: first lag with autocorrelation below ``1/e``.
        acf_minimum: first local minimum of the autocorrelation.
        mi_minimum: first local minimum of the delayed mutual information.
        per_dimension: ``min`` of the three for each dimension (``max_lag`` if all are None;
            ``None`` for a constant column).
        tau: the minimum of ``per_dimension`` (at least 1).
    """

    acf_decay: tuple[int | None, ...]
    acf_minimum: tuple[int | None, ...]
    mi_minimum: tuple[int | None, ...]
    per_dimension: tuple[int | None, ...]
    tau: int


def forcing_interval_estimates(
    x: np.ndarray, *, max_lag: int = 100, n_bins: int = 64
) -> IntervalEstimates:
    """All the candidate lags behind :func:`estimate_forcing_interval` (see there)."""
    x = validate_series(x, name="x", min_rows=4)
    lag = min(int(max_lag), x.shape[0] // 2) if isinstance(max_lag, int | np.integer) else max_lag
    acf = autocorrelation(x, lag)
    mi = delayed_mutual_information(x, lag, n_bins)
    decay, acf_min, mi_min, per_dim = [], [], [], []
    for j in range(x.shape[1]):
        if np.isnan(acf[0, j]):  # constant column: no timescale
            decay.append(None), acf_min.append(None), mi_min.append(None), per_dim.append(None)
            continue
        a, m = acf[:, j], mi[:, j]
        found = [decay_lag(a), first_local_minimum(a), first_local_minimum(m)]
        decay.append(found[0]), acf_min.append(found[1]), mi_min.append(found[2])
        candidates = [f for f in found if f is not None]
        per_dim.append(min(candidates) if candidates else lag)
    known = [p for p in per_dim if p is not None]
    if not known:
        raise InputError("x: every column is constant; no timescale to estimate")
    return IntervalEstimates(
        tuple(decay), tuple(acf_min), tuple(mi_min), tuple(per_dim), max(1, min(known))
    )


def estimate_forcing_interval(x: np.ndarray, *, max_lag: int = 100, n_bins: int = 64) -> int:
    """Sparse-teacher-forcing interval τ (in samples) for the series ``x`` of shape ``(T, D)``.

    τ = min over dimensions of min(autocorrelation 1/e-decay lag, its first local minimum,
    first local minimum of the delayed mutual information with ``n_bins`` bins), searching lags
    ``1..min(max_lag, T // 2)``; a dimension with no candidate contributes that search limit.
    Constant columns are ignored. Standardise or not: the result does not change.

    Returns:
        τ, an int ``>= 1``.

    Raises:
        InputError: invalid ``x`` (fewer than 4 rows, NaN, ...), every column constant, or
            ``max_lag``/``n_bins`` out of range.
    """
    return forcing_interval_estimates(x, max_lag=max_lag, n_bins=n_bins).tau


__all__ = [
    "IntervalEstimates",
    "autocorrelation",
    "decay_lag",
    "delayed_mutual_information",
    "estimate_forcing_interval",
    "first_local_minimum",
    "forcing_interval_estimates",
]
