"""Chaotic maps: ``rhs(x, p) -> x_next``, one iteration per time step (``dt = 1``).

Lyapunov exponents are per iteration. Reference values: Sprott, J. C. (2003). *Chaos and
Time-Series Analysis*, Oxford University Press, Appendix A ("Sprott 2003" below); each pair there
satisfies λ1 + λ2 = ln|det J| for maps of constant Jacobian determinant, which is checked by the
tests. The logistic (r = 4) and tent maps have exact exponents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import Invariants, System

Array = jax.Array
Params = Mapping[str, Array]

_SPROTT_2003 = "Sprott (2003), Chaos and Time-Series Analysis, App. A"


def henon_rhs(x: Array, p: Params) -> Array:
    """x' = 1 − a x² + y, y' = b x (Hénon 1976)."""
    X, y = x
    return jnp.stack([1.0 - p["a"] * X**2 + y, p["b"] * X])


def logistic_rhs(x: Array, p: Params) -> Array:
    """x' = r x (1 − x) (May 1976)."""
    return p["r"] * x * (1.0 - x)


def ikeda_rhs(x: Array, p: Params) -> Array:
    """x' = 1 + u(x cos τ − y sin τ), y' = u(x sin τ + y cos τ), τ = 0.4 − 6/(1 + x² + y²)."""
    X, y = x
    u = p["u"]
    tau = 0.4 - 6.0 / (1.0 + X**2 + y**2)
    c, s = jnp.cos(tau), jnp.sin(tau)
    return jnp.stack([1.0 + u * (X * c - y * s), u * (X * s + y * c)])


def tent_rhs(x: Array, p: Params) -> Array:
    """x' = μ min(x, 1 − x)."""
    return p["mu"] * jnp.minimum(x, 1.0 - x)


def lozi_rhs(x: Array, p: Params) -> Array:
    """x' = 1 − a|x| + y, y' = b x (Lozi 1978)."""
    X, y = x
    return jnp.stack([1.0 - p["a"] * jnp.abs(X) + y, p["b"] * X])


def duffing_map_rhs(x: Array, p: Params) -> Array:
    """x' = y, y' = −b x + a y − y³ (Holmes 1979)."""
    X, y = x
    return jnp.stack([y, -p["b"] * X + p["a"] * y - y**3])


def standard_map_rhs(x: Array, p: Params) -> Array:
    """p' = p + K sin θ, θ' = θ + p' on the torus [0, 2π)² (Chirikov 1979); state (θ, p)."""
    theta, mom = x
    two_pi = 2.0 * jnp.pi
    mom_next = jnp.mod(mom + p["k"] * jnp.sin(theta), two_pi)
    return jnp.stack([jnp.mod(theta + mom_next, two_pi), mom_next])


def _map(name: str, rhs: object, dim: int, params: dict[str, float], ic: tuple[float, ...],
         reference: Invariants, citation: str, description: str,
         transient: float = 0.0) -> System:  # fmt: skip
    return System(
        name=name, kind="map", dim=dim, rhs=rhs, params=params,  # type: ignore[arg-type]
        initial_condition=ic, dt=1.0, reference=reference, citation=citation,
        description=description, transient=transient,
    )  # fmt: skip


HENON = _map(
    "henon", henon_rhs, 2, {"a": 1.4, "b": 0.3}, (1.21674097, 0.03536533),
    Invariants(0.41922, (0.41922, -1.62319), 1.25827, 1.21,
               f"{_SPROTT_2003}; correlation dim: Grassberger & Procaccia (1983)"),
    "Henon, M. (1976). A two-dimensional mapping with a strange attractor. "
    "Commun. Math. Phys. 50:69-77.",
    "Stretch-and-fold map of the plane",
)  # fmt: skip

LOGISTIC = _map(
    "logistic", logistic_rhs, 1, {"r": 4.0}, (0.3,),
    Invariants(math.log(2.0), (math.log(2.0),), source="exact for r=4 (Ulam & von Neumann 1947)"),
    "May, R. M. (1976). Simple mathematical models with very complicated dynamics. "
    "Nature 261:459-467.",
    "Logistic map; at r=4 conjugate to the tent map, x_n = sin^2(2^n theta_0 pi)",
)  # fmt: skip

IKEDA = _map(
    "ikeda", ikeda_rhs, 2, {"u": 0.9}, (0.9, 0.55524451),
    Invariants(0.50760, (0.50760, -0.71832), 1.70665, source=_SPROTT_2003),
    "Ikeda, K. (1979). Multiple-valued stationary state and its instability of the transmitted "
    "light by a ring cavity system. Opt. Commun. 30:257-261; map form of Hammel, Jones & "
    "Moloney (1985), J. Opt. Soc. Am. B 2:552.",
    "Laser light in a nonlinear ring cavity", transient=100.0,
)  # fmt: skip

_TENT_MU = 1.99999
TENT = _map(
    "tent", tent_rhs, 1, {"mu": _TENT_MU}, (0.3,),
    Invariants(math.log(_TENT_MU), (math.log(_TENT_MU),),
               source="exact: |f'| = mu everywhere, lambda = ln(mu)"),
    "Tent map; see e.g. Ott, E. (2002). Chaos in Dynamical Systems, 2nd ed., Cambridge, §2.2.",
    "Piecewise-linear map. Default mu = 1.99999, not 2: at mu = 2 every float orbit reaches 0 "
    "within ~55 iterations (x -> 2x is exact in binary)",
)  # fmt: skip

LOZI = _map(
    "lozi", lozi_rhs, 2, {"a": 1.7, "b": 0.5}, (-0.1, 0.1),
    Invariants(0.47023, (0.47023, -1.16338), 1.40419, source=_SPROTT_2003),
    "Lozi, R. (1978). Un attracteur etrange (?) du type attracteur de Henon. "
    "J. Phys. Colloques 39:C5-9.",
    "Piecewise-linear Henon map", transient=100.0,
)  # fmt: skip

DUFFING_MAP = _map(
    "duffing_map", duffing_map_rhs, 2, {"a": 2.75, "b": 0.2}, (0.51, 0.1),
    Invariants(0.59458, (0.59458, -2.20402), 1.26977, source=_SPROTT_2003),
    "Holmes, P. (1979). A nonlinear oscillator with a strange attractor. "
    "Phil. Trans. R. Soc. A 292:419-448.",
    "Holmes's discrete Duffing oscillator", transient=100.0,
)  # fmt: skip

STANDARD_MAP = _map(
    "standard_map", standard_map_rhs, 2, {"k": 6.0}, (0.1, 0.1),
    Invariants(math.log(6.0 / 2.0), source="asymptotic lambda ~ ln(K/2) for K >> 1 "
               "(Chirikov 1979, Phys. Rep. 52:263); approximate"),
    "Chirikov, B. V. (1979). A universal instability of many-dimensional oscillator systems. "
    "Phys. Rep. 52:263-379.",
    "Kicked rotor on the torus (area preserving); K=6 is in the chaotic sea",
)  # fmt: skip

SYSTEMS: tuple[System, ...] = (HENON, LOGISTIC, IKEDA, TENT, LOZI, DUFFING_MAP, STANDARD_MAP)

__all__ = ["SYSTEMS", "henon_rhs", "logistic_rhs", "tent_rhs"]
