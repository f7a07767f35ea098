"""Shared compilation: many catalogue flows behind one compiled integrator.

Compiling the adaptive integrator for one right-hand side takes ~0.3–0.5 s on a 2-core CPU, far
more than integrating a 1000-point trajectory (~3 ms). Code that samples many catalogue systems
(benchmarks, ``attractor systems simulate`` in a loop, contract tests) would spend nearly all its
time compiling. Here flows of the same state dimension are grouped: one program dispatches with
``lax.switch`` on a system index, and packs each member's parameters into a padded vector, so the
whole group compiles once (~2 s for the 49 native three-variable flows) and every member then
runs without compiling. Results are identical to the member's own program (same operations).

Policy (deterministic): for a given call signature (``n``, batch size, method), the
first :data:`SOLO_BEFORE_SHARING` members of a group called compile alone (~0.4 s each: a session
that needs one or two systems never pays the group's ~2 s); from the next member on, short calls
(``n · B ≤`` :data:`SHARED_MAX_SAMPLES`) run the group program, compiled once for that
signature. Members that compiled alone keep their own program. Long calls always use the
member's own program, which avoids the dispatch overhead per stage.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from attractor.systems import integrate as integ

SHARED_MAX_SAMPLES = 20_000
SOLO_BEFORE_SHARING = 3

Rhs = Callable[..., jax.Array]


@dataclasses.dataclass(frozen=True)
class FlowGroup:
    """Flows of one dimension sharing a compiled integrator: ``(rhs, parameter names)`` each."""

    members: tuple[tuple[Rhs, tuple[str, ...]], ...]

    @property
    def width(self) -> int:
        return max(1, max(len(names) for _, names in self.members))

    def rhs(self) -> Rhs:
        """``rhs(x, t, {"index": i, "values": v})`` dispatching to member ``i``."""
        branches = [_branch(f, names) for f, names in self.members]

        def dispatch(x: jax.Array, t: jax.Array, p: Mapping[str, jax.Array]) -> jax.Array:
            return jax.lax.switch(p["index"], branches, x, t, p["values"])

        return dispatch


def _branch(f: Rhs, names: tuple[str, ...]) -> Rhs:
    return lambda x, t, v: f(x, t, {k: v[i] for i, k in enumerate(names)})


_GROUPS: dict[Rhs, tuple[FlowGroup, int]] = {}
_SOLO: dict[tuple, set[Rhs]] = {}
_LOCK = threading.Lock()


def share_compilation(members: Sequence[tuple[Rhs, Sequence[str]]]) -> FlowGroup | None:
    """Declare flows (``(rhs, parameter names)``, all of one state dimension) that may share a
    compiled integrator. Duplicated right-hand sides are merged; fewer than three: no group
    (with two, the second compile would cost as much as compiling it alone)."""
    unique: dict[Rhs, tuple[str, ...]] = {}
    for f, names in members:
        unique.setdefault(f, tuple(names))
    if len(unique) < 3:
        return None
    group = FlowGroup(tuple(unique.items()))
    with _LOCK:
        for i, f in enumerate(unique):
            _GROUPS[f] = (group, i)
    return group


@functools.lru_cache(maxsize=16)
def _group_rhs(group: FlowGroup) -> Rhs:
    return group.rhs()


def _packed(group: FlowGroup, index: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
    names = group.members[index][1]
    if set(params) != set(names):
        return None
    values = np.zeros(group.width)
    for i, k in enumerate(names):
        v = np.asarray(params[k], dtype=np.float64)
        if v.shape != ():
            return None  # array-valued parameters: use the member's own program
        values[i] = v
    return {"index": np.int32(index), "values": values}


def integrate_flow(rhs: Rhs, y0: Any, params: Mapping[str, Any], **kw: Any) -> tuple:
    """:func:`attractor.systems.integrate.integrate_flow`, through the shared program when the
    policy above allows it (same arguments, same results)."""
    entry = _GROUPS.get(rhs)
    samples = int(kw["n"]) * int(np.shape(y0)[0])
    if entry is None or samples > SHARED_MAX_SAMPLES or not isinstance(kw.get("method"), str):
        return integ.integrate_flow(rhs, y0, params, **kw)
    group, index = entry
    packed = _packed(group, index, params)
    signature = (group, np.shape(y0), kw["n"], kw["method"], kw.get("max_steps"))
    with _LOCK:
        solo = _SOLO.setdefault(signature, set())
        alone = rhs in solo or len(solo) < SOLO_BEFORE_SHARING
        if alone:
            solo.add(rhs)
    if alone or packed is None:
        return integ.integrate_flow(rhs, y0, params, **kw)
    return integ.integrate_flow(_group_rhs(group), y0, packed, **kw)


__all__ = [
    "SHARED_MAX_SAMPLES",
    "SOLO_BEFORE_SHARING",
    "FlowGroup",
    "integrate_flow",
    "share_compilation",
]
