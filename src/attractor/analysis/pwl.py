"""Exact fixed points and k-cycles of piecewise-linear models (PLRNN, shPLRNN, AL-RNN, ...).

Inside a linear subregion with region code ``d`` the step is affine, ``F(z) = J_d z + c_d``
(:class:`~attractor.models.capabilities.PiecewiseLinear`). A ``k``-cycle visiting the regions
``d_1, ..., d_k`` therefore solves one linear system (Eisenmann et al., NeurIPS 2023, "Bifurcations
and loss jumps in RNN training", SCYFI):

    z_{i+1} = J_{d_i} z_i + c_{d_i}   ⇒   z_1 = (I − P)^{-1} q,
    P = J_{d_k} ⋯ J_{d_1},  q = Σ_i J_{d_k} ⋯ J_{d_{i+1}} c_{d_i},

and the candidate is a true cycle exactly when each ``z_i`` lies in region ``d_i``. Two ways to
choose the region sequences:

- :func:`enumerate_cycles` / :func:`enumerate_fixed_points`: **all** ``2^{K k}`` binary code
  sequences (``K`` switches per code), through the model's ``code_system(code)``. Exact and
  complete (every true cycle is found, also outside any trajectory), but only for small ``K k``
  (an AL-RNN with ``P`` ReLU units has ``K = P``: Brenner et al., NeurIPS 2024).
- :func:`find_cycles`: the SCYFI heuristic, written from the paper's description. Many chains run
  in parallel, each from ``k`` states sampled along trajectories; a chain solves the system of the
  regions its points lie in (``region_system(z)``: only points are needed), iterates the true map
  ``k`` times from the candidate and compares the regions visited with the ones assumed. If they
  agree the cycle is real; otherwise the visited points (a "virtual" cycle's regions) seed the
  next solve. Finds cycles in models with too many regions to enumerate (an shPLRNN with 100
  hidden units has up to 2^200 codes).

Both drop cycles whose least period is a proper divisor of ``k`` (a fixed point is also a
2-cycle) and merge rotations of the same cycle. Stability comes from the eigenvalues of ``P``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.analysis.fixed_points import table_for
from attractor.analysis.flat import flat_dynamics
from attractor.analysis.table import PointTable
from attractor.errors import InputError
from attractor.models.capabilities import PiecewiseLinear, require

#: Default limit on the number of region sequences enumerated exhaustively.
MAX_SEQUENCES = 2**16


@dataclasses.dataclass(frozen=True)
class CycleSettings:
    """Settings of :func:`find_cycles`.

    Attributes:
        n_chains: chains run in parallel.
        n_inner: solve-and-check rounds per chain; a chain that met a cycle (or diverged)
            restarts from new points (SCYFI's outer loop), otherwise the regions its candidate
            visited seed the next round (its inner loop).
        tol: a candidate is a cycle when ``‖F^k(z) − z‖ <= tol`` (and its regions agree).
        tol_unique: cycle points closer than this (2-norm) are the same point.
        seed: the draws of the starting points.
    """

    n_chains: int = 256
    n_inner: int = 50
    tol: float = 1e-8
    tol_unique: float = 1e-6
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_chains", "n_inner"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not (self.tol > 0 and self.tol_unique >= 0):
            raise InputError("tol must be > 0 and tol_unique >= 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _compose(jacs: jax.Array, offsets: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``P`` and ``q`` of the module docstring from ``(k, M, M)`` and ``(k, M)``."""

    def body(carry: tuple, jc: tuple) -> tuple:
        p, q = carry
        j, c = jc
        return (j @ p, j @ q + c), None

    m = jacs.shape[-1]
    (p, q), _ = jax.lax.scan(body, (jnp.eye(m, dtype=jacs.dtype), jnp.zeros(m, jacs.dtype)),
                             (jacs, offsets))
    return p, q


def _orbit(jacs: jax.Array, offsets: jax.Array, z1: jax.Array) -> jax.Array:
    """Points ``z_1..z_k`` ``(k, M)`` of the affine cycle through ``z1``."""

    def body(z: jax.Array, jc: tuple) -> tuple:
        j, c = jc
        return j @ z + c, z

    _, points = jax.lax.scan(body, z1, (jacs, offsets))
    return points


def _least_period_is(points: np.ndarray, k: int, tol: float) -> bool:
    """No proper divisor ``d`` of ``k`` has ``z_{1+d} = z_1``."""
    return all(
        np.linalg.norm(points[d] - points[0]) > tol for d in range(1, k) if k % d == 0
    )


def _unique_cycles(cycles: list[np.ndarray], tol: float) -> list[np.ndarray]:
    """Merge cycles that share a point (rotations of one cycle); canonical rotation: the point
    with the smallest first coordinate comes first."""
    kept: list[np.ndarray] = []
    for cyc in cycles:
        if any(np.min(np.linalg.norm(c - cyc[0], axis=1)) <= max(tol, 1e-12) for c in kept):
            continue
        start = int(np.lexsort(cyc.T[::-1])[0])
        kept.append(np.roll(cyc, -start, axis=0))
    return kept


def _cycle_table(dyn: Any, cycles: list[np.ndarray], k: int, standardizer: Any,
                 settings: dict[str, Any]) -> PointTable:
    pts = np.concatenate(cycles, axis=0) if cycles else np.zeros((0, dyn.dim))
    return table_for(dyn, pts, standardizer=standardizer, period=k, settings=settings)


def _check_pwl(model: Any, what: str) -> Any:
    """The model's state at a zero observation (a flat vector) and its region code length."""
    require(model, PiecewiseLinear, by=what)
    z0 = model.init_state(jnp.zeros((1, model.obs_dim)))
    if not (isinstance(z0, jax.Array) and z0.ndim == 1):
        raise InputError(f"{what}: the model's state is not a flat vector")
    return z0, int(np.asarray(model.region_code(z0)).size)


# ------------------------------------------------------------------------ exhaustive enumeration
def enumerate_cycles(
    model: Any,
    k: int = 1,
    *,
    max_sequences: int = MAX_SEQUENCES,
    standardizer: Any = None,
    chunk: int = 4096,
) -> PointTable:
    """All ``k``-cycles (``k = 1``: fixed points) of a piecewise-linear model, exactly, by
    solving the affine system of every sequence of ``k`` binary region codes.

    Raises:
        InputError: the model lacks the piecewise-linear capability or ``code_system``, or
            ``2^{K k}`` exceeds ``max_sequences`` (then use :func:`find_cycles`).
    """
    if not isinstance(k, int) or k < 1:
        raise InputError(f"cycle period k must be a positive integer, got {k!r}")
    z0, n_bits = _check_pwl(model, "exact enumeration")
    n_seq = 2 ** (n_bits * k)
    if n_seq > max_sequences:
        raise InputError(
            f"exact enumeration of {k}-cycles needs 2^{n_bits * k} region sequences "
            f"(limit {max_sequences}); use the cycle search instead"
        )
    codes = np.array(list(itertools.product((0, 1), repeat=n_bits)), np.int8).reshape(-1, n_bits)
    with float64():
        dyn = flat_dynamics(model, z0)
        try:
            jac_all, off_all = _code_systems(dyn, jnp.asarray(codes))
        except NotImplementedError:
            raise InputError(
                f"exact enumeration: {type(model).__name__} does not write out code_system; "
                "use the cycle search instead"
            ) from None
        found: list[np.ndarray] = []
        sequences = itertools.product(range(len(codes)), repeat=k)
        while batch := list(itertools.islice(sequences, chunk)):
            seq = np.asarray(batch, int)
            points, match = _solve_sequences(dyn, jac_all[seq], off_all[seq],
                                             jnp.asarray(codes[seq]))
            found += [p for p in np.asarray(points)[np.asarray(match)]
                      if _least_period_is(p, k, 1e-9)]
        cycles = _unique_cycles(found, 1e-9)
        return _cycle_table(dyn, cycles, k, standardizer,
                            {"method": "enumeration", "k": k, "max_sequences": max_sequences})


@eqx.filter_jit
def _code_systems(dyn: Any, codes: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.vmap(dyn.model.code_system)(codes)


@eqx.filter_jit
def _solve_sequences(dyn: Any, jacs: jax.Array, offsets: jax.Array, codes: jax.Array) -> tuple:
    """For each sequence of region maps ``(B, k, M, M)``, ``(B, k, M)``: the affine cycle
    ``(B, k, M)`` and whether it is finite and visits the regions ``codes`` ``(B, k, K)``."""

    def one(j: jax.Array, c: jax.Array, code: jax.Array) -> tuple:
        p, q = _compose(j, c)
        z1 = jnp.linalg.solve(jnp.eye(p.shape[0], dtype=p.dtype) - p, q)
        points = _orbit(j, c, z1)
        ok = jnp.all(jnp.isfinite(points)) & jnp.all(dyn.model.region_code(points) == code)
        return points, ok

    return jax.vmap(one)(jacs, offsets, codes)


def enumerate_fixed_points(model: Any, **options: Any) -> PointTable:
    """All fixed points of a piecewise-linear model, exactly: :func:`enumerate_cycles` with
    ``k = 1``."""
    return enumerate_cycles(model, 1, **options)


# ------------------------------------------------------------------------------ SCYFI search
@eqx.filter_jit
def _scyfi_chains(dyn: Any, starts: jax.Array, tol: float, tol_unique: float) -> tuple:
    """SCYFI rounds for chains ``(B, k, M)``: ``starts`` ``(R, B, k, M)`` holds each chain's
    starting points for each of ``R`` rounds (used after a restart). Returns the cycles met
    ``(R, B, k, M)`` and which are true cycles of least period ``k`` ``(R, B)``."""
    model = dyn.model
    k = starts.shape[2]
    divisors = [d for d in range(1, k) if k % d == 0]

    def true_orbit(z1: jax.Array) -> jax.Array:
        def body(z: jax.Array, _: None) -> tuple:
            return dyn.step(z), z

        return jax.lax.scan(body, z1, None, length=k + 1)[1]

    def round_(p: jax.Array) -> tuple:
        jacs, offsets = jax.vmap(model.region_system)(p)
        a, q = _compose(jacs, offsets)
        z1 = jnp.linalg.solve(jnp.eye(a.shape[0], dtype=a.dtype) - a, q)
        orbit = true_orbit(z1)  # (k + 1, M): z_1..z_k and F^k(z_1)
        same = jnp.all(model.region_code(orbit[:k]) == model.region_code(p))
        closed = jnp.linalg.norm(orbit[k] - orbit[0]) <= tol
        finite = jnp.all(jnp.isfinite(orbit))
        shorter = jnp.any(jnp.stack(
            [jnp.linalg.norm(orbit[d] - orbit[0]) <= tol_unique for d in divisors]
            or [jnp.zeros((), bool)]))
        return orbit[:k], same & closed & finite & ~shorter, (same & closed) | ~finite

    def body(p: jax.Array, fresh: jax.Array) -> tuple:
        orbit, ok, restart = jax.vmap(round_)(p)
        # a true (or degenerate) cycle, or a diverged candidate: restart the chain from fresh
        # points; otherwise the regions the candidate visited seed the next solve
        p = jnp.where(restart[:, None, None], fresh, orbit)
        return p, (orbit, ok)

    _, (orbits, ok) = jax.lax.scan(body, starts[0], starts[1:])
    return orbits, ok


def find_cycles(
    model: Any,
    k: int,
    states: Any,
    *,
    settings: CycleSettings | None = None,
    standardizer: Any = None,
) -> PointTable:
    """``k``-cycles of a piecewise-linear model by the SCYFI heuristic (module docstring),
    started from ``k`` random rows of ``states`` (latent states ``(T, M)``) per chain.

    Every cycle reported is exact (its regions were checked); the search is not exhaustive.
    """
    if not isinstance(k, int) or k < 1:
        raise InputError(f"cycle period k must be a positive integer, got {k!r}")
    settings = settings or CycleSettings()
    z0, _ = _check_pwl(model, "the cycle search")
    flat = np.asarray(states, np.float64).reshape(-1, z0.shape[0])
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    if flat.shape[0] == 0:
        raise InputError("cycle search: no finite states to start from")
    rng = np.random.default_rng(settings.seed)
    starts = flat[rng.integers(0, flat.shape[0], (settings.n_inner + 1, settings.n_chains, k))]
    with float64():
        dyn = flat_dynamics(model, z0)
        orbits, ok = _scyfi_chains(dyn, jnp.asarray(starts), settings.tol, settings.tol_unique)
        cycles = _unique_cycles(list(np.asarray(orbits)[np.asarray(ok)]), settings.tol_unique)
        return _cycle_table(dyn, cycles, k, standardizer,
                            {"method": "scyfi", "k": k, **settings.to_dict()})


__all__ = [
    "MAX_SEQUENCES",
    "CycleSettings",
    "enumerate_cycles",
    "enumerate_fixed_points",
    "find_cycles",
]
