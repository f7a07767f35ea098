"""The :class:`System` abstraction: one dynamical system with its metadata and reference invariants.

A system is a pure description: its equations as a JAX function, default parameters, a default
initial condition, a recommended sampling step and the invariants known from the literature.
Integration lives in :mod:`attractor.systems.integrate`, invariants in
:mod:`attractor.systems.invariants`.

Right-hand-side conventions, by ``kind``:

- ``"flow"``  (ODE):   ``rhs(x, t, p) -> dx/dt``; ``x`` has shape ``(dim,)``, ``t`` is a scalar
  time, ``p`` a dict of parameter name -> JAX scalar (or array).
- ``"map"``:           ``rhs(x, p) -> x_next``; time advances by one iteration per step
  (``dt == 1``).
- ``"delay"`` (DDE):   ``rhs(x, x_delayed, t, p) -> dx/dt`` with the delay time ``p["tau"]``.
- ``"pde"``:           spatially discretised; ``step_factory(dt, p)`` returns the one-step map
  (e.g. ETDRK4 for Kuramoto–Sivashinsky); ``rhs`` may be ``None``.

Every kind but ``"delay"`` provides :meth:`System.make_step`: a pure, differentiable function that
advances the state by one sampling step ``dt``. The Lyapunov estimators use it (the Jacobian of the
step map comes from autodiff). Flows whose right-hand side depends on ``t`` explicitly (a forcing
such as ECGSYN's heart-rate modulation) are marked ``autonomous=False``: they have no step map
``x -> x(t + dt)`` independent of ``t``, so they integrate through
:func:`attractor.systems.trajectory` (which passes the true time) and ``make_step`` refuses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError

SystemKind = Literal["flow", "map", "delay", "pde"]
KINDS: tuple[str, ...] = ("flow", "map", "delay", "pde")

StepFn = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Invariants:
    """Reference invariants of a system, with the source they come from.

    Exponents are per unit of time for flows and per iteration for maps.
    """

    lyapunov_max: float | None = None
    lyapunov_spectrum: tuple[float, ...] | None = None
    kaplan_yorke_dim: float | None = None
    correlation_dim: float | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class System:
    """A dynamical system: equations, defaults, metadata and reference invariants.

    Attributes:
        name: registry name, lower case (``"lorenz63"``); dysts systems are ``"dysts:Lorenz"``.
        kind: one of ``"flow"``, ``"map"``, ``"delay"``, ``"pde"``.
        dim: state dimension (for delay equations: the dimension of the observed state).
        rhs: the equations, following the module's conventions for ``kind``.
        params: default parameters.
        initial_condition: default initial condition, length ``dim``.
        dt: recommended sampling step, in the system's time units (1 for maps).
        period: characteristic period in time units, where known.
        reference: reference invariants and where they come from.
        citation: the paper the equations come from.
        description: one line for people.
        source: ``"native"`` (written in JAX here) or ``"dysts"``.
        integrator_dt: internal fixed step for :meth:`make_step` (defaults to ``dt / 10``).
        step_factory: for ``"pde"`` systems, ``step_factory(dt, params) -> step``.
        jacobian: optional analytic Jacobian ``jac(x, t, p)`` of a flow (autodiff otherwise).
        transient: recommended burn-in, in time units (iterations for maps), from the default
            initial condition before samples are on the attractor (0 when the default initial
            condition already lies on it). :func:`attractor.systems.trajectory` discards it by
            default.
        autonomous: ``False`` for a flow whose right-hand side depends on ``t`` (forced): time
            ``t`` runs from 0 at the initial condition, and :meth:`make_step` is unavailable.
    """

    name: str
    kind: SystemKind
    dim: int
    rhs: Callable[..., jax.Array] | None
    params: Mapping[str, Any]
    initial_condition: tuple[float, ...]
    dt: float
    period: float | None = None
    reference: Invariants = Invariants()
    citation: str = ""
    description: str = ""
    source: str = "native"
    integrator_dt: float | None = None
    step_factory: Callable[[float, Mapping[str, Any]], StepFn] | None = None
    jacobian: Callable[..., jax.Array] | None = None
    transient: float = 0.0
    autonomous: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"system {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}"
            )
        if len(self.initial_condition) != self.dim:
            raise InputError(
                f"system {self.name!r}: initial condition has length "
                f"{len(self.initial_condition)}, expected dim={self.dim}"
            )
        if not self.dt > 0:
            raise InputError(f"system {self.name!r}: dt must be positive, got {self.dt}")
        if not self.transient >= 0:
            raise InputError(
                f"system {self.name!r}: transient must be >= 0, got {self.transient}"
            )

    # ------------------------------------------------------------------ parameters
    def merged_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated with ``overrides``; unknown names raise InputError."""
        merged = dict(self.params)
        for key, value in (overrides or {}).items():
            if key not in merged:
                raise InputError(
                    f"system {self.name!r} has no parameter {key!r}; known: {sorted(merged)}"
                )
            if isinstance(value, jax.core.Tracer):  # differentiating through a parameter
                merged[key] = value
                continue
            try:
                finite = bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
            except (TypeError, ValueError):
                raise InputError(
                    f"system {self.name!r}: parameter {key!r} must be numeric, got {value!r}"
                ) from None
            if not finite:
                raise InputError(
                    f"system {self.name!r}: parameter {key!r} must be finite, got {value!r}"
                )
            merged[key] = value
        return merged

    def jax_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, jax.Array]:
        """Parameters as JAX arrays in the current default float dtype."""
        return {k: jnp.asarray(v) for k, v in self.merged_params(overrides).items()}

    # ------------------------------------------------------------------ stepping
    def make_step(self, dt: float | None = None, params: Mapping[str, Any] | None = None) -> StepFn:
        """A pure function ``x -> x(t + dt)`` (maps: ``x -> f(x)``), differentiable by JAX.

        Flows use classical RK4 with substeps no longer than ``integrator_dt`` (default ``dt/10``).
        Non-autonomous flows (``autonomous=False``) raise :class:`InputError`: their step depends
        on the time (carry time as a state variable, like ``duffing``'s phase, or integrate with
        :func:`attractor.systems.trajectory`). Maps ignore ``dt``.
        """
        if not self.autonomous:
            raise InputError(
                f"system {self.name!r} is non-autonomous (its equations depend on the time t): it "
                "has no time-independent step map x -> x(t + dt); sample it with trajectory()"
            )
        p = self.jax_params(params)
        if self.kind == "map":
            assert self.rhs is not None
            rhs_map = self.rhs
            return lambda x: rhs_map(x, p)
        step_dt = float(self.dt if dt is None else dt)
        if self.kind == "pde":
            if self.step_factory is None:
                raise InputError(f"pde system {self.name!r} has no step_factory")
            return self.step_factory(step_dt, p)
        if self.kind == "delay":
            raise InputError(
                f"delay system {self.name!r} has an infinite-dimensional state; "
                "it has no finite step map"
            )
        assert self.rhs is not None
        h_max = self.integrator_dt if self.integrator_dt is not None else self.dt / 10.0
        n_sub = max(1, int(-(-step_dt // h_max)))  # ceil
        h = step_dt / n_sub
        rhs = self.rhs

        def rk4(x: jax.Array, t: jax.Array) -> jax.Array:
            k1 = rhs(x, t, p)
            k2 = rhs(x + 0.5 * h * k1, t + 0.5 * h, p)
            k3 = rhs(x + 0.5 * h * k2, t + 0.5 * h, p)
            k4 = rhs(x + h * k3, t + h, p)
            return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        def step(x: jax.Array) -> jax.Array:
            def body(i: int, xc: jax.Array) -> jax.Array:
                return rk4(xc, jnp.asarray(i * h, dtype=xc.dtype))

            return jax.lax.fori_loop(0, n_sub, body, x)

        return step

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (used by ``attractor systems show --json``)."""
        ref = dataclasses.asdict(self.reference)
        return {
            "name": self.name,
            "kind": self.kind,
            "dim": self.dim,
            "source": self.source,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "initial_condition": list(self.initial_condition),
            "dt": self.dt,
            "period": self.period,
            "transient": self.transient,
            "autonomous": self.autonomous,
            "reference": {k: _jsonable(v) for k, v in ref.items()},
            "citation": self.citation,
            "description": self.description,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
