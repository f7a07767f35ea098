"""Lorenz-96 (any N and F) and the two-scale Lorenz-96 (K slow, K·J fast variables).

One-scale (Lorenz 1996; Lorenz & Emanuel 1998):

    dX_k/dt = (X_{k+1} − X_{k−2}) X_{k−1} − X_k + F,        k = 0 … N−1 (cyclic).

Two-scale (Lorenz 1996), Y_{j,k} on one ring of length K·J (Y_{J,k} is followed by Y_{1,k+1}):

    dX_k/dt     = −X_{k−1}(X_{k−2} − X_{k+1}) − X_k + F − (h c / b) Σ_j Y_{j,k}
    dY_{j,k}/dt = −c b Y_{j+1,k}(Y_{j+2,k} − Y_{j−1,k}) − c Y_{j,k} + (h c / b) X_k

Time unit ≈ 5 days of atmospheric error growth (Lorenz 1996). The state of the two-scale model is
``concat(X, Y.ravel())`` with ``Y`` of shape ``(K, J)``. Systems are built by cached factories so
that the same structural parameters give the same :class:`System` (and compile once).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError
from attractor.systems.base import Invariants, System

Array = jax.Array
Params = Mapping[str, Array]

_L96_CITE = (
    "Lorenz, E. N. (1996). Predictability: a problem partly solved. Proc. ECMWF Seminar on "
    "Predictability 1:1-18; Lorenz, E. N. & Emanuel, K. A. (1998). J. Atmos. Sci. 55:399-414."
)
_VLACHAS = "Vlachas et al. (2020), Neural Networks 126:191-217 (N=40)"
#: largest Lyapunov exponents of the one-scale model with N = 40 (per time unit)
_L96_LYAPUNOV: dict[tuple[int, float], float] = {(40, 8.0): 1.68, (40, 10.0): 2.27}


def lorenz96_rhs(x: Array, t: Array, p: Params) -> Array:
    """dX_k/dt = (X_{k+1} − X_{k−2}) X_{k−1} − X_k + F, for a state of any length N ≥ 4."""
    return (jnp.roll(x, -1) - jnp.roll(x, 2)) * jnp.roll(x, 1) - x + p["F"]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not float(value) == int(value) or int(value) < minimum:  # type: ignore[arg-type]
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


@functools.lru_cache(maxsize=64)
def _lorenz96(n: int, forcing: float) -> System:
    lam = _L96_LYAPUNOV.get((n, forcing))
    reference = Invariants(lyapunov_max=lam, source=_VLACHAS) if lam is not None else Invariants()
    ic = np.full(n, forcing)
    ic[0] += 0.01  # Lorenz & Emanuel (1998): rest state X_k = F, one variable perturbed
    return System(
        name="lorenz96",
        kind="flow",
        dim=n,
        rhs=lorenz96_rhs,
        params={"F": forcing},
        initial_condition=tuple(float(v) for v in ic),
        dt=0.01,
        period=None,
        reference=reference,
        citation=_L96_CITE,
        description=f"Lorenz-96, N={n} (structural: N, F)",
        integrator_dt=0.005,
        transient=50.0,
    )


def lorenz96(N: int = 40, F: float = 8.0) -> System:
    """The one-scale Lorenz-96 system with ``N`` variables and forcing ``F`` (default 40, 8).

    ``F`` is also a parameter (``params={"F": 10}`` in a trajectory); given here it sets the
    default and picks the reference exponent (Vlachas et al. 2020: 1.68 at F=8, 2.27 at F=10).
    """
    return _lorenz96(_check_int("N", N, 4), float(F))


@functools.lru_cache(maxsize=64)
def two_scale_rhs(k: int, j: int) -> Callable[[Array, Array, Params], Array]:
    """The right-hand side of the two-scale model for ``K = k`` slow and ``J = j`` fast per slow."""

    def rhs(x: Array, t: Array, p: Params) -> Array:
        slow, fast = x[:k], x[k:]
        coupling = p["h"] * p["c"] / p["b"]
        d_slow = (
            -jnp.roll(slow, 1) * (jnp.roll(slow, 2) - jnp.roll(slow, -1))
            - slow
            + p["F"]
            - coupling * jnp.sum(fast.reshape(k, j), axis=1)
        )
        d_fast = (
            -p["c"] * p["b"] * jnp.roll(fast, -1) * (jnp.roll(fast, -2) - jnp.roll(fast, 1))
            - p["c"] * fast
            + coupling * jnp.repeat(slow, j)
        )
        return jnp.concatenate([d_slow, d_fast])

    rhs.__name__ = f"two_scale_lorenz96_K{k}_J{j}"
    return rhs


@functools.lru_cache(maxsize=64)
def _two_scale(k: int, j: int) -> System:
    forcing = 10.0
    idx = np.arange(k * j)
    slow = forcing * (1.0 + 0.1 * np.sin(2.0 * np.pi * np.arange(k) / k))
    fast = 0.1 * np.cos(2.0 * np.pi * 3.0 * idx / (k * j)) + 0.01 * np.sin(idx)
    return System(
        name="lorenz96_two_scale",
        kind="flow",
        dim=k * (1 + j),
        rhs=two_scale_rhs(k, j),
        params={"F": forcing, "h": 1.0, "b": 10.0, "c": 10.0},
        initial_condition=tuple(float(v) for v in np.concatenate([slow, fast])),
        dt=0.01,
        citation=_L96_CITE,
        description=f"Two-scale Lorenz-96, K={k} slow and J={j} fast per slow "
        "(structural: K, J); state = concat(X, Y.ravel())",
        integrator_dt=0.001,
        transient=20.0,
    )


def lorenz96_two_scale(K: int = 36, J: int = 10) -> System:
    """Two-scale Lorenz-96 with ``K`` slow and ``K·J`` fast variables (default 36 × 10).

    Parameters ``F=10, h=1, b=10, c=10`` (Lorenz 1996); the time-scale ratio is ``c``.
    """
    return _two_scale(_check_int("K", K, 4), _check_int("J", J, 3))


FACTORIES: tuple[tuple[str, Callable[..., System], tuple[str, ...]], ...] = (
    ("lorenz96", lorenz96, ("N", "F")),
    ("lorenz96_two_scale", lorenz96_two_scale, ("K", "J")),
)

__all__ = ["FACTORIES", "lorenz96", "lorenz96_rhs", "lorenz96_two_scale", "two_scale_rhs"]
