"""The DSR evaluation protocol: generation window, per-run metrics, median and MAD.

Protocol of Hess et al. 2023 (ICML, GTF ``evaluation.jl``; dsr.md §3): from the first test point
x_1, generate ⌈1.25·T⌉ steps with the trained model, discard the first ⌈1.25·T⌉ − T (a quarter of
T, the transient), compare the remaining T steps with the T test steps, and report the **median
± median absolute deviation** over runs (20 independently trained models in the paper), NaN runs
dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError
from attractor.metrics._arrays import as_trajectory
from attractor.metrics.geometry import state_space_divergence
from attractor.metrics.spectrum import power_spectrum_hellinger

#: ``generate(x0 (N,), n_steps) -> (n_steps, N)`` observations of one free-running rollout.
Generator = Callable[[np.ndarray, int], ArrayLike]


def median_mad(values: ArrayLike) -> tuple[float, float]:
    """Median and median absolute deviation of ``values``, NaN/inf entries dropped.

    MAD = median_i |v_i − median(v)|, **raw** (not scaled by 1.4826 to estimate a normal σ), as
    the ± in the DSR tables (Hess et al. 2023). Returns ``(nan, nan)`` when no finite value is
    left.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    med = float(np.median(v))
    return med, float(np.median(np.abs(v - med)))


def generation_window(n_test: int) -> tuple[int, int]:
    """Rollout length and transient for a test series of ``n_test`` steps.

    Returns ``(n_total, n_drop)`` with ``n_total = ⌈1.25·n_test⌉`` (exact integer arithmetic)
    and ``n_drop = n_total − n_test``: generate ``n_total`` rows, drop the first ``n_drop``, and
    the remaining ``n_test`` rows are compared with the test series.
    """
    if n_test < 1:
        raise InputError(f"n_test: must be >= 1, got {n_test}")
    n_total = (5 * n_test + 3) // 4
    return n_total, n_total - n_test


def generate_window(generate: Generator, x_test: ArrayLike) -> np.ndarray:
    """One protocol rollout: ``generate(x_test[0], n_total)`` with its first ``n_drop`` rows cut.

    ``generate`` receives the first test observation and the number of rows to return; whether
    its row 0 is the start point or the first step after it is the caller's convention (it only
    shifts the window by one step). Returns a ``(T, N)`` float64 array, T = ``len(x_test)``.
    """
    xt = as_trajectory(x_test, "x_test")
    n_total, n_drop = generation_window(xt.shape[0])
    run = as_trajectory(generate(xt[0], n_total), "generate(...)", finite=False)
    if run.shape != (n_total, xt.shape[1]):
        raise InputError(f"generate: returned shape {run.shape}, expected {(n_total, xt.shape[1])}")
    return run[n_drop:]


def evaluate_generated(
    x_true: ArrayLike,
    generated_runs: Sequence[ArrayLike],
    *,
    smoothing: float = 20.0,
    stsp_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """D_stsp and D_H of every generated run against the test series, with median and MAD.

    Each run is an array ``(T_run, N)`` with ``T_run >= T = len(x_true)``; its **last** T rows
    are compared (so a full ⌈1.25·T⌉ rollout is cut exactly as :func:`generation_window` says,
    and a run already cut to T is used whole). A run with any NaN/inf value counts as diverged:
    both its metrics are NaN and it is left out of the medians (GTF drops NaN runs; AL-RNN instead
    sets D_H = 1 for diverged models).

    D_stsp uses :func:`~attractor.metrics.geometry.state_space_divergence` (binning for N < 6,
    GMM otherwise; ``stsp_kwargs`` go to it); D_H uses
    :func:`~attractor.metrics.spectrum.power_spectrum_hellinger` with ``smoothing``.

    Returns:
        ``{"d_stsp": [...], "d_h": [...], "d_stsp_median", "d_stsp_mad", "d_h_median",
        "d_h_mad", "n_runs", "n_valid"}`` with per-run lists (NaN for diverged runs) and floats;
        ``n_valid`` counts runs without NaN/inf values.
    """
    xt = as_trajectory(x_true, "x_true")
    n = xt.shape[0]
    kw = dict(stsp_kwargs or {})
    d_stsp: list[float] = []
    d_h: list[float] = []
    n_valid = 0
    for i, run in enumerate(generated_runs):
        r = as_trajectory(run, f"generated_runs[{i}]", finite=False)
        if r.shape[0] < n or r.shape[1] != xt.shape[1]:
            raise InputError(
                f"generated_runs[{i}]: shape {r.shape}, need at least {n} rows and "
                f"{xt.shape[1]} columns"
            )
        r = r[r.shape[0] - n :]
        if not np.all(np.isfinite(r)):
            d_stsp.append(float("nan"))
            d_h.append(float("nan"))
            continue
        n_valid += 1
        d_stsp.append(state_space_divergence(xt, r, **kw))
        d_h.append(float(power_spectrum_hellinger(xt, r, smoothing=smoothing)))
    s_med, s_mad = median_mad(d_stsp)
    h_med, h_mad = median_mad(d_h)
    return {
        "d_stsp": d_stsp,
        "d_h": d_h,
        "d_stsp_median": s_med,
        "d_stsp_mad": s_mad,
        "d_h_median": h_med,
        "d_h_mad": h_mad,
        "n_runs": len(d_stsp),
        "n_valid": n_valid,
    }


__all__ = ["evaluate_generated", "generate_window", "generation_window", "median_mad"]
