"""Dynamical systems: the catalogue, the registry, integration and trajectories.

Example::

    from attractor.systems import get, names, trajectory
    names(source="native")                            # ['aizawa', 'arneodo', ...]
    x = trajectory("lorenz63", 1000, points_per_period=100)          # (1000, 3) float64
    xs = trajectory("lorenz96", 500, params={"N": 20}, n_ics=8, key=jax.random.PRNGKey(0))

The invariants (Lyapunov spectra, dimensions) live in :mod:`attractor.systems.invariants` and are
re-exported here lazily.
"""

from __future__ import annotations

from typing import Any

from attractor.systems.base import Invariants, System
from attractor.systems.registry import (
    all_systems,
    from_rhs,
    get,
    names,
    register,
    register_factory,
    register_resolver,
)
from attractor.systems.trajectory import trajectory

_LAZY = {
    "lyapunov_spectrum",
    "lyapunov_spectrum_from_step",
    "kaplan_yorke_dimension",
    "correlation_dimension",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from attractor.systems import invariants

        return getattr(invariants, name)
    raise AttributeError(f"module 'attractor.systems' has no attribute {name!r}")


__all__ = [
    "Invariants",
    "System",
    "all_systems",
    "correlation_dimension",
    "from_rhs",
    "get",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "lyapunov_spectrum_from_step",
    "names",
    "register",
    "register_factory",
    "register_resolver",
    "trajectory",
]
