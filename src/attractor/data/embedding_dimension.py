"""The embedding dimension of a delay reconstruction: false nearest neighbours and Cao's method.

Both follow each point's nearest neighbour in ``m`` delay coordinates into ``m + 1``: when ``m``
is too small, points far apart on the attractor project onto each other, and the added coordinate
tears them apart ("false" neighbours). As in both papers the vectors run forward in time,
``v_t(m) = (x_t, x_{t+τ}, ..., x_{t+(m-1)τ})``, and the added coordinate is the next one,
``x_{t+mτ}``.

- **False nearest neighbours** (Kennel, Brown & Abarbanel, Phys. Rev. A 45, 3403, 1992). With
  ``R_m(i)`` the Euclidean distance from ``v_i(m)`` to its nearest neighbour ``v_j(m)`` and
  ``δ = ‖x_{i+mτ} − x_{j+mτ}‖``, the pair is false when ``δ > R_tol · R_m(i)`` (criterion 1) or
  ``sqrt(R_m(i)² + δ²) > A_tol · R_A``, with ``R_A`` the size of the attractor, the root of the
  summed column variances (criterion 2: neighbours that are near only because every point is
  far, as in noise). The fraction of false pairs drops to ~0 at a sufficient ``m``.
- **Cao** (Physica D 110, 43, 1997). In the maximum norm,
  ``a(i, m) = ‖v_i(m+1) − v_n(m+1)‖ / ‖v_i(m) − v_n(m)‖`` with ``n`` the nearest neighbour of
  ``i`` in ``m`` coordinates, ``E(m)`` its mean over ``i`` and ``E1(m) = E(m+1) / E(m)``, which
  stops changing (≈ 1) from the minimum embedding dimension on. ``E2(m) = E*(m+1) / E*(m)``,
  with ``E*(m)`` the mean of ``‖x_{i+mτ} − x_{n+mτ}‖``, is ≈ 1 for every ``m`` only for random
  data, which tells noise from determinism.

Conventions and choices, on purpose:

- the direction matters on dissipative flows: adding the *older* coordinate ``x_{t-mτ}``
  instead (the order of :func:`~attractor.data.embedding.delay_embed`, run backwards) follows
  the strongly contracting direction backwards in time and leaves false neighbours at the true
  dimension — measured on Lorenz-63's x (100 000 points, dt 0.01, τ = 16–17): 3.5 % at m = 3
  clean and 12 % with 5 % noise, against 0.0 % and 1.2–1.6 % forward;
- a ``(T, d)`` series adds ``d`` coordinates per step (``δ`` is the norm of the ``d`` values);
- every ``m`` is evaluated on the same times (those with all ``max_dim + 1`` delays);
- temporal neighbours are excluded (Theiler window ``|i − j| <= w``, default ``w = τ``): on a
  densely sampled flow the nearest point is otherwise the next sample of the same trajectory;
  so are repeats of the same point (distances below ``REPEAT_RTOL`` times the attractor size);
- speed and noise: at most ``max_points`` reference points (an even stride through the series;
  default 5 000) and ``n_queries`` query points among them (default 2 000, drawn with ``seed``).
  Fewer reference points also keep neighbour distances above the observation noise: with 5 %
  noise, Lorenz-63's x has 1.2–1.6 % false neighbours at m = 3 with 5 000 points and 4.2–4.4 %
  with 20 000 (clean: 0.0 % both; at m = 2 clean 4.6–4.9 % and 5.8–6.6 %). Several trajectories
  are pooled: neighbours may lie on another trajectory, never in the Theiler window of their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from attractor.data.embedding import as_trajectories, delay_embed, positive_int
from attractor.errors import InputError

#: Kennel et al.'s thresholds (criterion 1 ratio, criterion 2 in attractor sizes).
R_TOL = 15.0
A_TOL = 2.0
#: Neighbours closer than this times the attractor size are repeats of the same point (a periodic
#: signal whose period is a ratio of small integers in samples repeats up to rounding) and skipped.
REPEAT_RTOL = 1e-9


@dataclass(frozen=True)
class _Pairs:
    """Nearest-neighbour pairs of the query points, for one ``m``.

    ``r_m``: distance in ``m`` coordinates; ``delta``: distance along the added coordinate(s)
    (same norm).
    """

    r_m: np.ndarray
    delta: np.ndarray


def _delay_stack(series: Sequence[np.ndarray], n_blocks: int, tau: int, theiler: int,
                 max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The vectors ``v_t(n_blocks)`` of every trajectory, strided to at most about
    ``max_points`` rows, and a position (sample index) per row; positions of different
    trajectories lie more than the Theiler window apart."""
    rows, positions, offset = [], [], 0
    window = (n_blocks - 1) * tau
    total = sum(max(len(x) - window, 0) for x in series)
    if total < 2:
        raise InputError(f"too few rows for {n_blocks} delays of tau={tau}")
    stride = max(1, math.ceil(total / max_points))
    for x in series:
        n = len(x) - window
        if n <= 0:
            continue
        keep = np.arange(0, n, stride)
        # delay_embed orders newest first; on the reversed series that is forward in time
        rows.append(delay_embed(x[::-1], n_blocks, tau)[keep])
        positions.append(offset + keep)
        offset += n + theiler + 1
    return np.concatenate(rows), np.concatenate(positions)


def _nearest(tree: cKDTree, points: np.ndarray, query: np.ndarray, positions: np.ndarray,
             theiler: int, p: float, min_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Index and distance of each query row's nearest neighbour outside its Theiler window
    and farther than ``min_distance``; ``-1`` / ``inf`` where none exists."""
    n_query = len(query)
    nn = np.full(n_query, -1)
    dist = np.full(n_query, np.inf)
    todo = np.arange(n_query)
    k = min(len(points), 8)
    while todo.size:
        d, idx = tree.query(points[query[todo]], k=k, p=p)
        d, idx = d.reshape(len(todo), k), idx.reshape(len(todo), k)
        ok = (np.abs(positions[np.minimum(idx, len(points) - 1)]
                     - positions[query[todo]][:, None]) > theiler)
        ok &= (d > min_distance) & np.isfinite(d)
        found = ok.any(axis=1)
        first = ok.argmax(axis=1)
        hit = todo[found]
        nn[hit] = idx[found, first[found]]
        dist[hit] = d[found, first[found]]
        if k >= len(points):
            break
        todo, k = todo[~found], min(len(points), 4 * k)
    return nn, dist


def _size(series: Sequence[np.ndarray]) -> float:
    """The attractor size ``R_A``: the root of the summed column variances."""
    return math.sqrt(float(np.sum(np.var(np.concatenate(series), axis=0))))


def _pair_steps(series: Sequence[np.ndarray], tau: int, max_dim: int, *, p: float,
                theiler: int, max_points: int, n_queries: int, seed: int) -> Iterator[_Pairs]:
    """The neighbour pairs for ``m = 1..max_dim``, each computed when the iterator gets there."""
    d = series[0].shape[1]
    min_distance = REPEAT_RTOL * _size(series)
    stack, positions = _delay_stack(series, max_dim + 1, tau, theiler, max_points)
    rng = np.random.default_rng(seed)
    query = np.sort(rng.choice(len(stack), size=min(n_queries, len(stack)), replace=False))
    for m in range(1, max_dim + 1):
        points = stack[:, : m * d]
        nn, r_m = _nearest(cKDTree(points), points, query, positions, theiler, p,
                           min_distance)
        valid = nn >= 0
        block = slice(m * d, (m + 1) * d)
        extra = stack[query[valid], block] - stack[nn[valid], block]
        yield _Pairs(r_m[valid], np.linalg.norm(extra, ord=p, axis=1))


def _checked(x: Any, tau: int, max_dim: int,
             theiler: int | None) -> tuple[list[np.ndarray], int, int, int]:
    """The trajectories, ``tau``, ``max_dim`` and the Theiler window, validated."""
    series = as_trajectories(x)
    tau, max_dim = positive_int(tau, "tau"), positive_int(max_dim, "max_dim")
    w = tau if theiler is None else int(theiler)
    if w < 0:
        raise InputError(f"theiler must be >= 0, got {theiler!r}")
    return series, tau, max_dim, w


def false_nearest_neighbours(
    x: Any,
    tau: int,
    max_dim: int = 10,
    *,
    r_tol: float = R_TOL,
    a_tol: float = A_TOL,
    theiler: int | None = None,
    max_points: int = 5_000,
    n_queries: int = 2_000,
    seed: int = 0,
    stop_at: float | None = None,
) -> np.ndarray:
    """Fraction of false nearest neighbours for ``m = 1..max_dim`` (Kennel et al. 1992).

    Example: a sine needs two coordinates.

    >>> t = np.arange(20_000)
    >>> fnn = false_nearest_neighbours(np.sin(2 * np.pi * t / 70.7), tau=10, max_dim=3)
    >>> bool(fnn[0] > 0.3), bool(fnn[1] < 0.01)
    (True, True)

    Args:
        x: a series ``(T,)`` / ``(T, d)``, or a list of them (several trajectories).
        tau: the delay in samples.
        max_dim: the largest ``m`` tested (``m + 1`` delays are read).
        r_tol, a_tol: criterion 1 and 2 thresholds (module docstring).
        theiler: the Theiler window in samples (default ``tau``).
        max_points, n_queries, seed: subsampling (module docstring).
        stop_at: stop at the first ``m`` whose fraction is at most this (the curve ends there).

    Returns:
        ``(max_dim,)`` fractions in ``[0, 1]`` (fewer with ``stop_at``); entry ``m - 1`` is for
        ``m`` coordinates.

    Raises:
        InputError: invalid series or settings, or fewer rows than ``max_dim * tau + 2``.
    """
    series, tau, max_dim, w = _checked(x, tau, max_dim, theiler)
    size = _size(series)
    steps = _pair_steps(series, tau, max_dim, p=2, theiler=w, max_points=max_points,
                        n_queries=n_queries, seed=seed)
    out: list[float] = []
    for pair in steps:
        false = (pair.delta > r_tol * pair.r_m) | (np.hypot(pair.r_m, pair.delta) > a_tol * size)
        out.append(float(np.mean(false)) if false.size else math.nan)
        if stop_at is not None and out[-1] <= stop_at:
            break
    return np.array(out)


@dataclass(frozen=True)
class CaoCurves:
    """Cao's statistics for ``m = 1..max_dim`` (index ``m - 1``).

    Attributes:
        e1: ``E(m+1) / E(m)``, ≈ 1 from the minimum embedding dimension on.
        e2: ``E*(m+1) / E*(m)``, ≈ 1 for every ``m`` only for random data.
    """

    e1: np.ndarray
    e2: np.ndarray


def cao(
    x: Any,
    tau: int,
    max_dim: int = 10,
    *,
    theiler: int | None = None,
    max_points: int = 5_000,
    n_queries: int = 2_000,
    seed: int = 0,
    stop_at: float | None = None,
) -> CaoCurves:
    """Cao's ``E1(m)`` and ``E2(m)`` for ``m = 1..max_dim`` (Cao 1997; module docstring).

    Arguments as in :func:`false_nearest_neighbours`; reads ``max_dim + 2`` delays.
    ``stop_at``: stop at the first ``m`` whose ``E1`` is at least this (the curves end there).

    Raises:
        InputError: invalid series or settings, or fewer rows than ``(max_dim + 1) * tau + 2``.
    """
    series, tau, max_dim, w = _checked(x, tau, max_dim, theiler)
    steps = _pair_steps(series, tau, max_dim + 1, p=np.inf, theiler=w, max_points=max_points,
                        n_queries=n_queries, seed=seed)
    e, e_star = [], []  # Cao's E(m) and E*(m)
    for pair in steps:
        e.append(float(np.mean(np.maximum(pair.r_m, pair.delta) / pair.r_m)))
        e_star.append(float(np.mean(pair.delta)))
        if stop_at is not None and len(e) >= 2 and e[-1] / e[-2] >= stop_at:
            break
    e_arr, star = np.array(e), np.array(e_star)
    with np.errstate(divide="ignore", invalid="ignore"):
        return CaoCurves(e1=e_arr[1:] / e_arr[:-1], e2=star[1:] / star[:-1])


__all__ = ["A_TOL", "REPEAT_RTOL", "R_TOL", "CaoCurves", "cao", "false_nearest_neighbours"]
