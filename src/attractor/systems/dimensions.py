"""Correlation dimension from data (Grassberger–Procaccia).

The correlation sum of ``N`` points ``x_i`` (rows of a ``(T, D)`` trajectory) is the fraction of
pairs closer than ``r``,

    C(r) = #{ i < j : |t_i - t_j| > w, ||x_i - x_j|| < r } / N_pairs,

where ``N_pairs`` counts the pairs with ``|t_i - t_j| > w``; the norm is Euclidean and the Theiler
window ``w`` (in samples) drops pairs close in time: consecutive samples of a flow lie on one curve
and would pull the estimate towards 1 at small ``r``.
For small ``r``, ``C(r) ~ r^{D_2}``; the correlation dimension ``D_2`` is the slope of
``log C`` against ``log r`` over the scaling region.

**Scaling region.** By default the slope is fitted where ``C(r)`` lies in ``c_range = (1e-4, 1e-2)``
— at most 1 % of pairs, so that the attractor's finite size (``C -> 1``) does not bend the curve,
and at least ``max(1e-4, 200 / N_pairs)``, so that each radius is supported by at least 200 pairs.
The bounds are converted to radii from the exact sorted pair distances and the fit uses
``N_FIT_RADII`` logarithmically spaced radii between them. Pass ``r_range`` to fit over radii of
your choice instead. The local slopes ``d log C / d log r`` are returned so that the plateau can
be inspected.

Points are subsampled at random (``max_points``) for speed: the cost is ``O(max_points^2)``.

References:
    P. Grassberger, I. Procaccia, "Characterization of strange attractors", Phys. Rev. Lett.
    50:346-349 (1983); "Measuring the strangeness of strange attractors", Physica D 9:189-208
    (1983) (Lorenz-63: D_2 = 2.05 +- 0.01).
    J. Theiler, "Spurious dimension from correlation algorithms applied to limited time-series
    data", Phys. Rev. A 34:2427-2432 (1986).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from scipy.spatial.distance import cdist

from attractor.errors import InputError

#: default fit window on the correlation sum C(r): the scaling region
DEFAULT_C_RANGE: tuple[float, float] = (1e-4, 1e-2)
#: each radius in the fit must be supported by at least this many pairs
MIN_PAIRS = 200
#: log-spaced radii in the fit window
N_FIT_RADII = 24
_CHUNK = 512


@dataclasses.dataclass(frozen=True)
class CorrelationDimensionResult:
    """Grassberger–Procaccia correlation dimension and the curve it was fitted on.

    Attributes:
        dimension: fitted slope of ``log C(r)`` against ``log r`` in the scaling region.
        radii: ``(n_radii,)`` log-spaced radii spanning the data's distances (data units).
        correlation_sum: ``(n_radii,)`` correlation sum ``C(r)`` (fraction of valid pairs).
        local_slopes: ``(n_radii - 1,)`` finite-difference slopes ``d log C / d log r``.
        fit_range: ``(r_lo, r_hi)``, the radii of the scaling region.
        intercept: fitted ``log C`` at ``r = 1``.
        n_points: points used (after subsampling).
        n_pairs: pairs counted (after the Theiler window).
        theiler: Theiler window, in samples.
    """

    dimension: float
    radii: np.ndarray
    correlation_sum: np.ndarray
    local_slopes: np.ndarray
    fit_range: tuple[float, float]
    intercept: float
    n_points: int
    n_pairs: int
    theiler: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "dimension": self.dimension,
            "fit_range": list(self.fit_range),
            "intercept": self.intercept,
            "n_points": self.n_points,
            "n_pairs": self.n_pairs,
            "theiler": self.theiler,
            "radii": self.radii.tolist(),
            "correlation_sum": self.correlation_sum.tolist(),
        }


def decorrelation_time(x: np.ndarray, threshold: float = float(np.exp(-1.0))) -> int:
    """First lag (in samples) at which the autocorrelation, averaged over dimensions, drops below
    ``threshold`` (default ``1/e``); a common choice of Theiler window. Computed by FFT."""
    x = np.asarray(x, dtype=np.float64)
    t = x.shape[0]
    xc = x - x.mean(axis=0)
    var = (xc**2).sum(axis=0)
    keep = var > 0
    if not np.any(keep) or t < 2:
        return 0
    n_fft = 1 << int(np.ceil(np.log2(2 * t)))
    spec = np.fft.rfft(xc[:, keep], n=n_fft, axis=0)
    acf = np.fft.irfft(np.abs(spec) ** 2, n=n_fft, axis=0)[:t] / var[keep]
    below = np.nonzero(acf.mean(axis=1) < threshold)[0]
    return int(below[0]) if below.size else t - 1


def _rng(key: jax.Array | None, seed: int | None) -> np.random.Generator:
    if key is not None:
        data = key
        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            data = jax.random.key_data(key)
        return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())
    return np.random.default_rng(0 if seed is None else seed)


def pair_distances(x: np.ndarray, times: np.ndarray, theiler: int) -> np.ndarray:
    """Sorted Euclidean distances of all pairs ``i < j`` with ``|t_i - t_j| > theiler``."""
    n = x.shape[0]
    out = []
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        d = cdist(x[a:b], x[a:], metric="euclidean")
        i = np.arange(a, b)[:, None]
        j = np.arange(a, n)[None, :]
        valid = (j > i) & (np.abs(times[a:n][None, :] - times[a:b][:, None]) > theiler)
        out.append(d[valid])
    dist = np.concatenate(out) if out else np.zeros(0)
    dist.sort()
    return dist


def correlation_sum(sorted_dist: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """``C(r)``: fraction of the (sorted) pair distances strictly below each radius."""
    return np.searchsorted(sorted_dist, radii, side="left") / max(1, sorted_dist.size)


def correlation_dimension(
    x: Any,
    *,
    r_range: tuple[float, float] | None = None,
    n_radii: int = 48,
    max_points: int = 3000,
    theiler: int | None = None,
    c_range: tuple[float, float] = DEFAULT_C_RANGE,
    key: jax.Array | None = None,
    seed: int | None = None,
) -> CorrelationDimensionResult:
    """Correlation dimension ``D_2`` of a point set or trajectory (Grassberger & Procaccia 1983).

    Args:
        x: ``(T, D)`` array, time first (a ``(T,)`` array is one-dimensional data).
        r_range: ``(r_lo, r_hi)`` radii of the scaling region, in data units; default: where
            ``C(r)`` lies in ``c_range`` (see the module docstring).
        n_radii: radii (log-spaced) of the returned curve ``C(r)``, from the ``MIN_PAIRS``-th
            closest pair to the largest distance (the fit uses ``N_FIT_RADII`` radii in its window).
        max_points: points kept, drawn at random without replacement when ``T`` is larger.
        theiler: Theiler window in samples (pairs with ``|i - j| <= theiler`` are dropped); default
            the ``1/e`` decorrelation time of ``x`` (0 for data without temporal correlation).
        c_range: ``(c_lo, c_hi)`` fit window on ``C(r)`` when ``r_range`` is not given.
        key: JAX PRNG key for the subsample (or ``seed``: an int; default seed 0).
        seed: integer seed, used when ``key`` is not given.

    Raises:
        InputError: malformed data, or too few pairs / radii in the scaling region.
    """
    data = np.asarray(x, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 3:
        raise InputError(f"x must be a (T, D) array with T >= 3, got shape {np.shape(x)}")
    if not np.all(np.isfinite(data)):
        raise InputError("x contains NaN or inf")
    if n_radii < 3:
        raise InputError(f"n_radii must be >= 3, got {n_radii}")
    if max_points < 3:
        raise InputError(f"max_points must be >= 3, got {max_points}")
    if not 0 < c_range[0] < c_range[1] <= 1:
        raise InputError(f"c_range must satisfy 0 < c_lo < c_hi <= 1, got {c_range}")
    window = decorrelation_time(data) if theiler is None else int(theiler)
    if window < 0:
        raise InputError(f"theiler must be >= 0, got {theiler}")
    times = np.arange(data.shape[0])
    if data.shape[0] > max_points:
        times = np.sort(_rng(key, seed).choice(data.shape[0], size=max_points, replace=False))
    dist = pair_distances(data[times], times, window)
    dist = dist[dist > 0]  # duplicate points carry no scaling information
    if dist.size < MIN_PAIRS:
        raise InputError(
            f"only {dist.size} pairs outside the Theiler window ({window}); need {MIN_PAIRS}: "
            "pass more points or a smaller theiler"
        )
    if r_range is None:
        c_lo = max(c_range[0], MIN_PAIRS / dist.size)
        if c_lo >= c_range[1]:
            raise InputError(
                f"{dist.size} pairs are too few for the scaling region C in {c_range}; "
                "pass more points (max_points) or r_range"
            )
        r_lo = dist[min(dist.size - 1, int(np.ceil(c_lo * dist.size)))]
        r_hi = dist[min(dist.size - 1, int(c_range[1] * dist.size))]
    else:
        r_lo, r_hi = (float(v) for v in r_range)
        if not 0 < r_lo < r_hi:
            raise InputError(f"r_range must satisfy 0 < r_lo < r_hi, got {r_range}")
    fit_r = np.geomspace(r_lo, r_hi, N_FIT_RADII)
    fit_c = correlation_sum(dist, fit_r)
    good = fit_c > 0
    if np.count_nonzero(good) < 3:
        raise InputError(f"fewer than 3 radii in r_range={r_range} have pairs closer than r")
    slope, intercept = np.polyfit(np.log(fit_r[good]), np.log(fit_c[good]), 1)
    # the whole curve, for plots: from the MIN_PAIRS-th closest pair to the diameter
    radii = np.geomspace(min(dist[min(MIN_PAIRS, dist.size - 1)], r_lo), dist[-1], n_radii)
    csum = correlation_sum(dist, radii)
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.diff(np.log(csum)) / np.diff(np.log(radii))
    return CorrelationDimensionResult(
        dimension=float(slope),
        radii=radii,
        correlation_sum=csum,
        local_slopes=local,
        fit_range=(float(r_lo), float(r_hi)),
        intercept=float(intercept),
        n_points=int(times.size),
        n_pairs=int(dist.size),
        theiler=window,
    )


__all__ = [
    "CorrelationDimensionResult",
    "correlation_dimension",
    "correlation_sum",
    "decorrelation_time",
    "pair_distances",
]
