"""Sprott's algebraically simplest chaotic flows, cases A–S (Sprott 1994), and his simplest jerk.

Equations: Sprott, J. C. (1994). Some simple chaotic flows. Phys. Rev. E 50:R647–R650, Table I
(case A is the Nosé–Hoover oscillator, conservative); Sprott, J. C. (1997). Simplest dissipative
chaotic flow. Phys. Lett. A 228:271–274. Parameters, initial conditions, periods and reference
invariants from dysts 0.96 (see :mod:`attractor.systems.flows_metadata`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import System
from attractor.systems.flows_metadata import from_dysts

Array = jax.Array
Params = Mapping[str, Array]

_CITE_1994 = "Sprott, J. C. (1994). Some simple chaotic flows. Phys. Rev. E 50:R647-R650."


def sprott_a(x: Array, t: Array, p: Params) -> Array:
    """A: x' = y, y' = −x + yz, z' = 1 − y²."""
    X, y, z = x
    return jnp.stack([y, -X + y * z, 1.0 - y**2])


def sprott_b(x: Array, t: Array, p: Params) -> Array:
    """B: x' = yz, y' = x − y, z' = 1 − xy."""
    X, y, z = x
    return jnp.stack([y * z, X - y, 1.0 - X * y])


def sprott_c(x: Array, t: Array, p: Params) -> Array:
    """C: x' = yz, y' = x − y, z' = 1 − x²."""
    X, y, z = x
    return jnp.stack([y * z, X - y, 1.0 - X**2])


def sprott_d(x: Array, t: Array, p: Params) -> Array:
    """D: x' = −y, y' = x + z, z' = xz + 3y²."""
    X, y, z = x
    return jnp.stack([-y, X + z, X * z + 3.0 * y**2])


def sprott_e(x: Array, t: Array, p: Params) -> Array:
    """E: x' = yz, y' = x² − y, z' = 1 − 4x."""
    X, y, z = x
    return jnp.stack([y * z, X**2 - y, 1.0 - 4.0 * X])


def sprott_f(x: Array, t: Array, p: Params) -> Array:
    """F: x' = y + z, y' = −x + ay, z' = x² − z."""
    X, y, z = x
    return jnp.stack([y + z, -X + p["a"] * y, X**2 - z])


def sprott_g(x: Array, t: Array, p: Params) -> Array:
    """G: x' = ax + z, y' = xz − y, z' = −x + y."""
    X, y, z = x
    return jnp.stack([p["a"] * X + z, X * z - y, -X + y])


def sprott_h(x: Array, t: Array, p: Params) -> Array:
    """H: x' = −y + z², y' = x + ay, z' = x − z."""
    X, y, z = x
    return jnp.stack([-y + z**2, X + p["a"] * y, X - z])


def sprott_i(x: Array, t: Array, p: Params) -> Array:
    """I: x' = −ay, y' = x + z, z' = x + y² − z."""
    X, y, z = x
    return jnp.stack([-p["a"] * y, X + z, X + y**2 - z])


def sprott_j(x: Array, t: Array, p: Params) -> Array:
    """J: x' = 2z, y' = −2y + z, z' = −x + y + y²."""
    X, y, z = x
    return jnp.stack([2.0 * z, -2.0 * y + z, -X + y + y**2])


def sprott_k(x: Array, t: Array, p: Params) -> Array:
    """K: x' = xy − z, y' = x − y, z' = x + az."""
    X, y, z = x
    return jnp.stack([X * y - z, X - y, X + p["a"] * z])


def sprott_l(x: Array, t: Array, p: Params) -> Array:
    """L: x' = y + bz, y' = ax² − y, z' = 1 − x."""
    X, y, z = x
    return jnp.stack([y + p["b"] * z, p["a"] * X**2 - y, 1.0 - X])


def sprott_m(x: Array, t: Array, p: Params) -> Array:
    """M: x' = −z, y' = −x² − y, z' = a(1 + x) + y."""
    X, y, z = x
    return jnp.stack([-z, -(X**2) - y, p["a"] * (1.0 + X) + y])


def sprott_n(x: Array, t: Array, p: Params) -> Array:
    """N: x' = −2y, y' = x + z², z' = 1 + y − 2z."""
    X, y, z = x
    return jnp.stack([-2.0 * y, X + z**2, 1.0 + y - 2.0 * z])


def sprott_o(x: Array, t: Array, p: Params) -> Array:
    """O: x' = y, y' = x − z, z' = x + xz + ay."""
    X, y, z = x
    return jnp.stack([y, X - z, X + X * z + p["a"] * y])


def sprott_p(x: Array, t: Array, p: Params) -> Array:
    """P: x' = ay + z, y' = −x + y², z' = x + y."""
    X, y, z = x
    return jnp.stack([p["a"] * y + z, -X + y**2, X + y])


def sprott_q(x: Array, t: Array, p: Params) -> Array:
    """Q: x' = −z, y' = x − y, z' = ax + y² + bz."""
    X, y, z = x
    return jnp.stack([-z, X - y, p["a"] * X + y**2 + p["b"] * z])


def sprott_r(x: Array, t: Array, p: Params) -> Array:
    """R: x' = a − y, y' = b + z, z' = xy − z."""
    X, y, z = x
    return jnp.stack([p["a"] - y, p["b"] + z, X * y - z])


def sprott_s(x: Array, t: Array, p: Params) -> Array:
    """S: x' = −x − 4y, y' = x + z², z' = 1 + x."""
    X, y, z = x
    return jnp.stack([-X - 4.0 * y, X + z**2, 1.0 + X])


def sprott_jerk(x: Array, t: Array, p: Params) -> Array:
    """x''' = −μ x'' + (x')² − x as x' = y, y' = z, z' = −x + y² − μz (Sprott 1997)."""
    X, y, z = x
    return jnp.stack([y, z, -X + y**2 - p["mu"] * z])


_CASES: tuple[Callable[..., Array], ...] = (
    sprott_a, sprott_b, sprott_c, sprott_d, sprott_e, sprott_f, sprott_g, sprott_h, sprott_i,
    sprott_j, sprott_k, sprott_l, sprott_m, sprott_n, sprott_o, sprott_p, sprott_q, sprott_r,
    sprott_s,
)  # fmt: skip


def _case(rhs: Callable[..., Array]) -> System:
    letter = rhs.__name__[-1]
    kind = "conservative" if letter == "a" else "dissipative"
    return from_dysts(
        rhs.__name__, f"Sprott{letter.upper()}", rhs, citation=_CITE_1994,
        description=f"Sprott case {letter.upper()}, {kind} quadratic flow",
    )  # fmt: skip


SYSTEMS: tuple[System, ...] = (
    *(_case(rhs) for rhs in _CASES),
    from_dysts(
        "sprott_jerk", "SprottJerk", sprott_jerk,
        citation="Sprott, J. C. (1997). Simplest dissipative chaotic flow. "
        "Phys. Lett. A 228:271-274.",
        description="Simplest quadratic jerk flow",
    ),
)  # fmt: skip

__all__ = ["SYSTEMS"]
