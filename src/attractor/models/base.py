"""The one contract every model in attractor fulfils: a state, a step, an observation.

A model is an :class:`equinox.Module` holding its parameters and a frozen config dataclass. The
contract has three abstract methods, and everything else (free runs, forecasts, training, metrics,
benchmarks) is written once on top of them:

- ``init_state(context)``: the state after warming up on a context window ``(T_ctx, N)`` of
  observations (its last row is the most recent). The state is any pytree: a latent vector for the
  PLRNN family, ``(h, c, x)`` for an LSTM, a window of recent observations for NG-RC.
- ``step(state, u=None)``: one closed-loop step; the model's own output is fed back unless an
  external input ``u`` drives it (driven models, task-trained networks).
- ``observe(state)``: the observation ``x_hat`` ``(N,)`` of a state.

Convention (tested for every registered model): row 0 of :meth:`DynamicsModel.simulate` is
``observe(init_state(context))`` — the model's view of the last context row, which *is* that row
for every model that carries its observation in the state (and for the PLRNN family with the
identity observation) — and row ``k`` is ``k`` steps later. :meth:`DynamicsModel.forecast` returns
the ``horizon`` rows after the context, i.e. ``simulate(context, horizon + 1)[1:]``.

What a model can do beyond the contract is declared by opt-in capabilities
(:mod:`attractor.models.capabilities`): teacher forcing, an analytic Jacobian, piecewise-linear
regions, a closed-form readout. Code that needs one checks for it with
:func:`~attractor.models.capabilities.require` and refuses other models with a clear message.
"""

from __future__ import annotations

import abc
import dataclasses
import typing
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError

#: A model state: any pytree of arrays.
State = Any


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters shared by all models; subclasses add their own fields.

    Every field is type-checked on construction (an ``int`` field refuses ``1e9`` read from a
    JSON file, a ``bool`` field refuses ``1``), and integer sizes must be positive unless a
    subclass lists them in ``non_negative``.

    Attributes:
        obs_dim: ``N``, dimension of the observed data.
        input_dim: dimension of an external input ``u_t`` driving the model (0: none).
    """

    name: ClassVar[str] = "base"
    #: integer fields that may be 0 (all others must be >= 1)
    non_negative: ClassVar[tuple[str, ...]] = ("input_dim",)
    obs_dim: int
    input_dim: int = 0

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_field(self.name, field.name, hints.get(field.name), getattr(self, field.name))
            value = getattr(self, field.name)
            if isinstance(value, int) and not isinstance(value, bool):
                lower = 0 if field.name in self.non_negative else 1
                if value < lower:
                    raise InputError(
                        f"{self.name}: {field.name} must be an integer >= {lower}, got {value!r}"
                    )

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.name, **dataclasses.asdict(self)}


def _check_field(model: str, name: str, hint: Any, value: Any) -> None:
    """Refuse values whose type does not match the field's annotation (int, float, bool, str)."""
    allowed = typing.get_args(hint) or (hint,)
    ok = False
    for kind in allowed:
        if kind is type(None):
            ok = ok or value is None
        elif kind is bool:
            ok = ok or isinstance(value, bool)
        elif kind is int:
            ok = ok or (isinstance(value, int) and not isinstance(value, bool))
        elif kind is float:
            ok = ok or (isinstance(value, int | float) and not isinstance(value, bool))
        elif kind is str:
            ok = ok or isinstance(value, str)
        else:  # an annotation this check does not know: accept
            ok = True
    if not ok:
        names = " or ".join(getattr(k, "__name__", str(k)) for k in allowed)
        raise InputError(f"{model}: {name} must be {names}, got {value!r}")
    if isinstance(value, float) and not jnp.isfinite(value):
        raise InputError(f"{model}: {name} must be finite, got {value!r}")


class DynamicsModel(eqx.Module):
    """Abstract model: ``init_state`` / ``step`` / ``observe``; see the module docstring."""

    config: eqx.AbstractVar[ModelConfig]

    #: Field names that training never changes (e.g. an echo state network's reservoir).
    frozen_fields: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def init_state(self, context: jax.Array) -> State:
        """State after warming up on ``context`` ``(T_ctx, N)``; the last row is the newest."""

    @abc.abstractmethod
    def step(self, state: State, u: jax.Array | None = None) -> State:
        """One step; closed loop unless an external input ``u`` ``(input_dim,)`` drives it."""

    @abc.abstractmethod
    def observe(self, state: State) -> jax.Array:
        """The observation ``(N,)`` of one state."""

    # ------------------------------------------------------------------ derived surface
    @property
    def obs_dim(self) -> int:
        return self.config.obs_dim

    @property
    def context_length(self) -> int:
        """Context rows the model uses in :meth:`init_state` (older rows are ignored)."""
        return 1

    def rollout(self, state: State, n: int, inputs: jax.Array | None = None) -> State:
        """States of ``n`` rows stacked along a leading axis; row 0 is ``state`` itself.

        ``inputs`` ``(n - 1, input_dim)`` drive the steps of a driven model.
        """
        if n < 1:
            raise InputError(f"rollout: n must be >= 1, got {n}")

        def body(s: State, u: jax.Array | None) -> tuple[State, State]:
            s_next = self.step(s, u)
            return s_next, s_next

        _, states = jax.lax.scan(body, state, inputs, length=n - 1)
        return jax.tree_util.tree_map(lambda s0, s: jnp.concatenate([s0[None], s]), state, states)

    def observe_many(self, states: State) -> jax.Array:
        """Observations ``(n, N)`` of states stacked along a leading axis."""
        return jax.vmap(self.observe)(states)

    def simulate(self, context: jax.Array, n: int) -> jax.Array:
        """Free run of ``n`` rows ``(n, N)`` after warming up on ``context``.

        ``context`` is ``(T_ctx, N)`` or a single observation ``(N,)``. Row 0 is
        ``observe(init_state(context))`` (see the module docstring).
        """
        context = _as_context(context, self.obs_dim)
        return self.observe_many(self.rollout(self.init_state(context), n))

    def forecast(self, context: jax.Array, horizon: int) -> jax.Array:
        """The ``horizon`` rows ``(horizon, N)`` that follow ``context`` ``(T_ctx, N)``."""
        return self.simulate(context, horizon + 1)[1:]


def _as_context(context: jax.Array, obs_dim: int) -> jax.Array:
    context = jnp.asarray(context)
    if context.ndim == 1:
        context = context[None]
    if context.ndim != 2 or context.shape[1] != obs_dim:
        raise InputError(
            f"context must have shape (T, {obs_dim}) or ({obs_dim},), got {tuple(context.shape)}"
        )
    if context.shape[0] < 1:
        raise InputError("context must hold at least one row")
    return context


def default_trainable(model: DynamicsModel) -> Any:
    """Filter spec (a pytree of bools like ``model``): every float array except frozen fields."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, model)
    for name in model.frozen_fields:
        frozen = jax.tree_util.tree_map(lambda _: False, getattr(spec, name))
        spec = eqx.tree_at(lambda m, name=name: getattr(m, name), spec, frozen)
    return spec


def parameter_count(model: DynamicsModel, *, trainable_only: bool = False) -> int:
    """Number of float parameters (all, or only those training changes)."""
    spec = default_trainable(model) if trainable_only else eqx.is_inexact_array
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, spec))
    return sum(int(leaf.size) for leaf in leaves)
