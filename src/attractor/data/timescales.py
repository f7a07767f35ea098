"""Timescales and noise level of a series, read from the data: what an adaptive recipe needs.

- **Oscillation period** (samples): per dimension, the lag of the first local maximum of the
  autocorrelation after its first local minimum — for a sinusoid of period P exactly P (the
  autocorrelation is ``cos(2 pi k / P)``), for a chaotic oscillator (Rössler, Lorenz-63's z) the
  mean return time of its rotation. A dimension whose autocorrelation has no such maximum above
  ``MIN_RECURRENCE`` (e.g. Lorenz-63's x, which switches lobes irregularly) has none; the period
  of the series is the median over the dimensions that have one.
- **Autocorrelation time** (samples): the first lag with autocorrelation below ``1/e``, median over
  dimensions (:func:`attractor.data.tau.decay_lag`).
- **Noise level** (the series' units): the standard deviation of white observation noise, from the
  second differences: for ``x_t = s_t + e_t`` with a smooth signal ``s`` sampled finely and white
  ``e`` of std ``sigma``, ``var(x_{t+1} - 2 x_t + x_{t-1}) = 6 sigma^2 + var(Δ²s)``, so
  ``sqrt(var(Δ²x) / 6)`` estimates ``sigma`` from above (the signal's part is ``(2 pi / P)^4``
  times its variance: 1.6e-5 at P = 100 samples). A robust (MAD-based) variance keeps a few
  spikes from dominating. Median over dimensions.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from attractor.data.io import validate_series
from attractor.data.tau import autocorrelation, decay_lag

#: An autocorrelation maximum must reach this value to count as a recurrence (an oscillation).
MIN_RECURRENCE = 0.1
#: Default longest lag searched (samples), at most half the series.
MAX_LAG = 2000
#: Median absolute deviation -> standard deviation for Gaussian data.
MAD_TO_STD = 1.4826


@dataclasses.dataclass(frozen=True)
class Timescales:
    """What :func:`timescales` reads from a series (lags in samples).

    Attributes:
        period: median oscillation period over the dimensions that oscillate; ``None`` if none.
        periods: per dimension (``None`` where there is no oscillation).
        autocorrelation_time: median 1/e decay lag (``None`` if no dimension decays within the
            searched lags).
        noise: estimated white observation-noise std, in the series' units.
    """

    period: float | None
    periods: tuple[int | None, ...]
    autocorrelation_time: float | None
    noise: float

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def first_recurrence(curve: np.ndarray, min_height: float = MIN_RECURRENCE) -> int | None:
    """Lag of the first local maximum of an autocorrelation ``curve`` (indexed by lag) that
    follows its first local minimum and reaches ``min_height`` (smaller bumps on the way, e.g.
    the shoulder of Thomas' autocorrelation, are passed over); ``None`` if there is none."""
    c = np.asarray(curve, np.float64)
    k = 1
    while k < len(c) - 1 and not (c[k] <= c[k - 1] and c[k] < c[k + 1]):
        k += 1  # descend to the first minimum
    for j in range(k + 1, len(c) - 1):
        if c[j] >= c[j - 1] and c[j] > c[j + 1] and c[j] >= min_height:
            return j
    return None


def noise_level(x: np.ndarray) -> float:
    """White observation-noise std from second differences (see the module docstring)."""
    x = validate_series(x, name="x", min_rows=5)
    d2 = x[2:] - 2 * x[1:-1] + x[:-2]
    mad = np.median(np.abs(d2 - np.median(d2, axis=0)), axis=0)
    return float(np.median(MAD_TO_STD * mad / math.sqrt(6.0)))


def timescales(x: np.ndarray, *, max_lag: int = MAX_LAG) -> Timescales:
    """Oscillation period, autocorrelation time and noise level of ``x`` ``(T, D)``; see the
    module docstring."""
    x = validate_series(x, name="x", min_rows=8)
    lag = max(2, min(int(max_lag), x.shape[0] // 2))
    acf = autocorrelation(x, lag)
    periods, decays = [], []
    for j in range(x.shape[1]):
        if np.isnan(acf[0, j]):  # constant column
            periods.append(None)
            continue
        periods.append(first_recurrence(acf[:, j]))
        decays.append(decay_lag(acf[:, j]))
    found = [p for p in periods if p is not None]
    decayed = [d for d in decays if d is not None]
    return Timescales(
        period=float(np.median(found)) if found else None,
        periods=tuple(periods),
        autocorrelation_time=float(np.median(decayed)) if decayed else None,
        noise=noise_level(x),
    )
