"""D_H: Hellinger distance between smoothed power spectra of true and generated time series.

D_H compares the *temporal* structure of a generated orbit with the data, dimension by dimension
(Mikhaeil et al. 2022, NeurIPS; Hess et al. 2023, ICML "Generalized Teacher Forcing", poster:
``D_H = (1/N) Σ_i (1 − ∫ √(f_i g_i) dω)^{1/2}``). It lies in [0, 1]: 0 for identical spectra, 1 for
spectra with disjoint support. Do not confuse it with the power-spectrum *correlation* in dB of
the old dendPLRNN ``pse.py`` (dsr.md §4).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import gaussian_filter1d

from attractor.errors import InputError
from attractor.metrics._arrays import as_trajectory, same_dim

#: Gaussian kernel radius in units of σ (radius 4σ, as ``gaussian_filter1d``'s default).
SMOOTHING_TRUNCATE = 4.0


def normalized_power_spectrum(x: ArrayLike, *, smoothing: float = 20.0) -> np.ndarray:
    """Smoothed, normalised power spectrum of each column of ``x`` (shape ``(T//2 + 1, N)``).

    Per dimension: z-score (subtract the mean, divide by the population standard deviation);
    ``|rfft|²`` over the ``T//2 + 1`` non-negative frequencies, DC included; Gaussian smoothing
    along frequency with σ = ``smoothing`` bins, radius 4σ and reflecting boundary
    (``scipy.ndimage.gaussian_filter1d(mode="reflect", truncate=4)``; ``smoothing = 0`` means no
    smoothing); negatives clipped to 0; normalised to sum 1 (GTF ``pse.jl``).

    A column with zero variance has no spectrum to normalise: its column is all NaN. ``x`` must
    be finite.
    """
    a = as_trajectory(x, "x")
    if smoothing < 0:
        raise InputError(f"smoothing: must be >= 0, got {smoothing}")
    sd = a.std(axis=0)
    flat = sd == 0
    z = (a - a.mean(axis=0)) / np.where(flat, 1.0, sd)
    power = np.abs(np.fft.rfft(z, axis=0)) ** 2
    if smoothing > 0:
        power = gaussian_filter1d(
            power, sigma=smoothing, axis=0, mode="reflect", truncate=SMOOTHING_TRUNCATE
        )
    np.maximum(power, 0.0, out=power)
    total = power.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        spec = power / total
    spec[:, flat | (total <= 0)] = np.nan
    return spec


def hellinger_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hellinger distance ``√(1 − Σ_k √(p_k q_k))`` of distributions along axis 0, in [0, 1].

    Computed as the equal (for normalised ``p``, ``q``) form ``(1/√2)‖√p − √q‖₂``, which has no
    cancellation: it is exactly 0 for identical inputs and accurate for small distances. The
    result is clipped to [0, 1] against rounding.
    """
    diff = np.sqrt(p) - np.sqrt(q)
    return np.clip(np.sqrt(0.5 * np.sum(diff * diff, axis=0)), 0.0, 1.0)


def power_spectrum_hellinger(
    x_true: ArrayLike,
    x_gen: ArrayLike,
    *,
    smoothing: float = 20.0,
    per_dimension: bool = False,
) -> float | np.ndarray:
    """D_H: Hellinger distance of smoothed power spectra, averaged over dimensions.

    Each dimension's spectrum is computed by :func:`normalized_power_spectrum` (z-score,
    ``|rfft|²``, Gaussian smoothing σ = ``smoothing`` frequency bins (20; the GTF fMRI runs use
    1), radius 4σ, reflect padding, clip, normalise to sum 1); then
    ``H_i = √(1 − Σ_k √(p_ik q_ik))`` and ``D_H = mean_i H_i`` (Hess et al. 2023; dsr.md §3).

    Conventions for awkward inputs:

    - **unequal lengths**: both series are truncated to the shorter length (their leading rows
      are kept), so that frequency bins coincide; the smoothing width is in bins, so it means the
      same physical bandwidth only for equal lengths — compare equal lengths where you can;
    - **constant generated dimension** (e.g. a model that converged to a fixed point): it has no
      oscillation at all, and its H is defined as 1, the maximal distance;
    - **non-finite generated values** (a diverged run): ``nan`` (per dimension: that dimension),
      so that the evaluation protocol drops the run;
    - **constant or non-finite true dimension**: :class:`InputError` (the data define no spectrum).

    Args:
        x_true: ground truth ``(T, N)`` (or ``(T,)``).
        x_gen: generated series ``(T', N)``.
        smoothing: Gaussian σ in frequency bins; 0 disables smoothing.
        per_dimension: return the ``(N,)`` array of H_i instead of their mean.

    Returns:
        D_H in [0, 1] (or nan), or the per-dimension array.
    """
    xt = as_trajectory(x_true, "x_true")
    xg = as_trajectory(x_gen, "x_gen", finite=False)
    same_dim(xt, xg)
    n = min(xt.shape[0], xg.shape[0])
    if n < 2:
        raise InputError(f"x_true/x_gen: need at least 2 time steps in common, got {n}")
    xt, xg = xt[:n], xg[:n]
    if np.any(xt.std(axis=0) == 0):
        raise InputError("x_true: a dimension is constant; its power spectrum is undefined")
    finite = np.all(np.isfinite(xg), axis=0)
    xg_clean = np.where(finite, xg, 0.0)
    p = normalized_power_spectrum(xt, smoothing=smoothing)
    q = normalized_power_spectrum(xg_clean, smoothing=smoothing)
    h = hellinger_distance(p, np.nan_to_num(q, nan=0.0))
    h = np.where(np.isnan(q[0]), 1.0, h)
    h = np.where(finite, h, np.nan)
    if per_dimension:
        return h
    return float(np.mean(h))


__all__ = ["hellinger_distance", "normalized_power_spectrum", "power_spectrum_hellinger"]
