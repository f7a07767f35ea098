"""State-space divergence D_stsp: how well a generated orbit reproduces the attractor's geometry.

D_stsp is the Kullback–Leibler divergence KL(p_true ‖ p_gen) between the distributions of points
that the true and the generated trajectories visit in state space (Koppe et al. 2019, PLOS Comput.
Biol. 15:e1007263; Brenner et al. 2022, ICML; Hess et al. 2023, ICML "Generalized Teacher
Forcing"). Two estimators, as in the GTF code's ``decide_on_measure``:

- :func:`state_space_divergence_binned` — histograms on a regular grid, for low dimension (N < 6);
- :func:`state_space_divergence_gmm` — Monte-Carlo KL between Gaussian mixtures placed on every
  point (Hershey & Olsen 2007, ICASSP), for high dimension.

Both compare *distributions*, so they are blind to time order; both depend on sample size, so
compare generated and true trajectories of **equal length** (the evaluation protocol in
:mod:`attractor.metrics.protocol` does). Inputs are time-first ``(T, N)`` arrays; data should be
standardised (the GMM kernel width is absolute).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError
from attractor.metrics._arrays import as_trajectory, same_dim

#: Pseudo-count added to every bin (GTF ``stsp_measure``), so that KL stays finite.
BIN_EPSILON = 1e-5
#: Binning is refused from this dimension on (n_bins**N cells; GTF switches to the GMM at N = 6).
MAX_BINNED_DIM = 6
#: Rows of each series the Gaussian-mixture D_stsp compares (the first ones).
GMM_MAX_POINTS = 10_000
_GMM_CHUNK = 256


def _bin_range(x_true: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension range [min − margin·σ, max + margin·σ] of the true data.

    A dimension with zero spread (σ = 0) gets the range [x − 0.5, x + 0.5] so that bins have a
    positive width.
    """
    sd = x_true.std(axis=0)
    lo = x_true.min(axis=0) - margin * sd
    hi = x_true.max(axis=0) + margin * sd
    flat = hi <= lo
    lo = np.where(flat, lo - 0.5, lo)
    hi = np.where(flat, hi + 0.5, hi)
    return lo, hi


def _cell_index(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_bins: int) -> np.ndarray:
    """Raveled grid-cell index (int64) of every row of ``x`` that lies inside [lo, hi].

    Bins are half-open ``[edge_k, edge_{k+1})`` except the last, which is closed, so a point at
    the minimum falls in bin 0 and a point at the maximum in bin ``n_bins − 1`` (the convention of
    ``numpy.histogramdd``). Rows outside the range, or with a non-finite entry, are dropped.
    """
    with np.errstate(invalid="ignore"):
        inside = np.all((x >= lo) & (x <= hi), axis=1)
    x = x[inside]
    coords = np.floor(n_bins * (x - lo) / (hi - lo)).astype(np.int64)
    np.clip(coords, 0, n_bins - 1, out=coords)
    return np.ravel_multi_index(tuple(coords.T), (n_bins,) * x.shape[1])


def state_space_divergence_binned(
    x_true: ArrayLike,
    x_gen: ArrayLike,
    *,
    n_bins: int = 30,
    margin: float = 0.1,
) -> float:
    """D_stsp by binning: KL(p_true ‖ p_gen) of smoothed N-dimensional histograms.

    Conventions (Hess et al. 2023, GTF ``stsp_measure``; dsr.md §3):

    - **range**: per dimension ``[min − margin·σ, max + margin·σ]`` of the *true* data
      (``margin = 0.1``, σ the population standard deviation);
    - **bins**: ``n_bins`` equal bins per dimension (30), ``n_bins**N`` cells in all; bins are
      half-open except the last (closed): a point at the true minimum is counted in bin 0, which
      several Python ports drop (dsr.md §4);
    - **out of range**: generated points outside the range, and generated rows with NaN/inf, are
      dropped before normalisation; so a generated orbit that leaves the box is judged on the part
      that stays inside;
    - **counts**: int64 (no 16-bit overflow as with Julia ``Histogram{UInt16}``);
    - **smoothing**: ``p = (h + ε) / (Σh + ε·n_bins**N)`` with ε = 1e-5, for both histograms;
    - **result**: ``Σ_cells p_true log(p_true / p_gen)`` in nats; exactly 0 when the histograms
      are equal; ``nan`` when no generated point lands in the box.

    The sum is computed exactly but sparsely: the cells occupied by neither trajectory all share
    the same term ``(ε/Z_p)·log(Z_q/Z_p)``, so memory is O(T) rather than O(n_bins**N).

    The value depends strongly on the number of samples relative to ``n_bins**N`` (dsr.md §4):
    compare trajectories of equal length, and only at equal lengths across models.

    Args:
        x_true: ground-truth trajectory ``(T, N)`` (or ``(T,)``); must be finite.
        x_gen: generated trajectory ``(T', N)``.
        n_bins: bins per dimension.
        margin: range margin in units of the true per-dimension standard deviation.

    Raises:
        InputError: bad shapes, non-finite ``x_true``, ``n_bins < 1``, or ``N >= 6`` (use
            :func:`state_space_divergence_gmm`).
    """
    xt = as_trajectory(x_true, "x_true")
    xg = as_trajectory(x_gen, "x_gen", finite=False)
    same_dim(xt, xg)
    n_dim = xt.shape[1]
    if n_bins < 1:
        raise InputError(f"n_bins: must be >= 1, got {n_bins}")
    if margin < 0:
        raise InputError(f"margin: must be >= 0, got {margin}")
    if n_dim >= MAX_BINNED_DIM:
        raise InputError(
            f"x_true: {n_dim} dimensions is too many for binning ({n_bins}**{n_dim} cells); "
            "use state_space_divergence_gmm (or state_space_divergence, which picks it)"
        )
    if n_bins**n_dim >= 2**62:
        raise InputError(f"n_bins: {n_bins}**{n_dim} cells do not fit a 64-bit cell index")
    lo, hi = _bin_range(xt, margin)
    idx_true = _cell_index(xt, lo, hi, n_bins)
    idx_gen = _cell_index(xg, lo, hi, n_bins)
    n_true, n_gen = idx_true.size, idx_gen.size
    if n_gen == 0:
        return float("nan")
    cells, inverse = np.unique(np.concatenate([idx_true, idx_gen]), return_inverse=True)
    h_true = np.bincount(inverse[:n_true], minlength=cells.size).astype(np.float64)
    h_gen = np.bincount(inverse[n_true:], minlength=cells.size).astype(np.float64)
    n_cells = float(n_bins) ** n_dim
    z_true = n_true + BIN_EPSILON * n_cells
    z_gen = n_gen + BIN_EPSILON * n_cells
    p = (h_true + BIN_EPSILON) / z_true
    q = (h_gen + BIN_EPSILON) / z_gen
    occupied = float(np.sum(p * np.log(p / q)))
    n_empty = n_cells - cells.size
    empty = n_empty * (BIN_EPSILON / z_true) * np.log(z_gen / z_true)
    return occupied + float(empty)


def _log_mixture_density(s: np.ndarray, centres: np.ndarray, variance: float) -> np.ndarray:
    """log of (1/K) Σ_k N(s; c_k, variance·I) for each row of ``s``, by logsumexp.

    The exponents ``−‖s − c‖²/2σ²`` come from ``2 s·c − ‖c‖² − ‖s‖²`` (clipped at 0 against
    rounding) and are shifted by their row maximum before ``exp``, so nothing underflows to a
    zero density. Samples are processed in chunks of ``_GMM_CHUNK`` rows, in place, to bound
    memory at ``_GMM_CHUNK × K`` doubles.
    """
    n_dim = centres.shape[1]
    c_sq = np.einsum("kd,kd->k", centres, centres)
    norm = -np.log(centres.shape[0]) - 0.5 * n_dim * np.log(2.0 * np.pi * variance)
    out = np.empty(s.shape[0])
    for start in range(0, s.shape[0], _GMM_CHUNK):
        blk = s[start : start + _GMM_CHUNK]
        a = blk @ centres.T
        a *= 2.0
        a -= c_sq[None, :]
        a -= np.einsum("sd,sd->s", blk, blk)[:, None]
        np.minimum(a, 0.0, out=a)
        a *= 0.5 / variance
        m = a.max(axis=1)
        a -= m[:, None]
        np.exp(a, out=a)
        out[start : start + _GMM_CHUNK] = m + np.log(a.sum(axis=1)) + norm
    return out


def state_space_divergence_gmm(
    x_true: ArrayLike,
    x_gen: ArrayLike,
    *,
    scaling: float = 1.0,
    max_points: int = GMM_MAX_POINTS,
    n_samples: int = 1000,
    seed: int | np.random.Generator = 0,
) -> float:
    """D_stsp by Gaussian mixtures: Monte-Carlo KL(p ‖ q) of two isotropic mixtures.

    Conventions (Hess et al. 2023, GTF ``state_space_divergence``; Hershey & Olsen 2007):

    - **points**: the first ``min(T, max_points)`` rows of each trajectory (10 000);
    - **mixtures**: ``p(s) = (1/T) Σ_t N(s; x_t, σ²I)`` on the true points, ``q`` likewise on
      the generated points, with ``σ² = scaling`` (1.0; AL-RNN uses 0.3 for low-dimensional
      data) — absolute, so standardise the data first;
    - **samples**: ``n_samples`` (1000) draws from ``p``: a true point chosen uniformly with
      replacement, plus ``σ·ε``, ε ~ N(0, I), from ``numpy.random.default_rng(seed)``;
    - **estimate**: ``mean_i [log p(s_i) − log q(s_i)]`` in nats.

    Differences from the reference, both on purpose: (1) densities are evaluated in log space
    with logsumexp, so no sample is dropped for underflow (the reference drops samples where
    p or q underflow to 0, which *under*-estimates the divergence of far-off generated orbits);
    (2) generated rows with NaN/inf are dropped first, and ``nan`` is returned if none remain.

    The same samples serve both densities, so ``D(x, x) = 0`` exactly; for ``x_gen ≠ x_true``
    the estimate carries Monte-Carlo noise of order ``std(log p − log q)/√n_samples`` and may
    be slightly negative for near-identical inputs. Same ``seed``, same result.

    Raises:
        InputError: bad shapes, non-finite ``x_true``, or non-positive parameters.
    """
    if scaling <= 0:
        raise InputError(f"scaling: the kernel variance must be > 0, got {scaling}")
    if max_points < 1 or n_samples < 1:
        raise InputError(f"max_points/n_samples: must be >= 1, got {max_points}/{n_samples}")
    xt = as_trajectory(x_true, "x_true")[:max_points]
    xg = as_trajectory(x_gen, "x_gen", finite=False)
    same_dim(xt, xg)
    xg = xg[:max_points]
    xg = xg[np.all(np.isfinite(xg), axis=1)]
    if xg.shape[0] == 0:
        return float("nan")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pick = rng.integers(0, xt.shape[0], size=n_samples)
    samples = xt[pick] + np.sqrt(scaling) * rng.standard_normal((n_samples, xt.shape[1]))
    log_p = _log_mixture_density(samples, xt, scaling)
    log_q = _log_mixture_density(samples, xg, scaling)
    return float(np.mean(log_p - log_q))


def state_space_divergence(x_true: ArrayLike, x_gen: ArrayLike, **kwargs: Any) -> float:
    """D_stsp with the estimator chosen by dimension, as GTF's ``decide_on_measure``.

    Binning (:func:`state_space_divergence_binned`) for N < 6, Gaussian mixtures
    (:func:`state_space_divergence_gmm`) for N >= 6. Keyword arguments go to the chosen
    estimator, so pass only the ones it accepts.
    """
    n_dim = as_trajectory(x_true, "x_true", finite=False).shape[1]
    if n_dim < MAX_BINNED_DIM:
        return state_space_divergence_binned(x_true, x_gen, **kwargs)
    return state_space_divergence_gmm(x_true, x_gen, **kwargs)


__all__ = [
    "state_space_divergence",
    "state_space_divergence_binned",
    "state_space_divergence_gmm",
]
