"""Rollout strategies: how a teacher-forced sequence and its gradient are computed.

A rollout turns ``(model, batch (B, T+1, N), alphas (T,))`` into the un-forced one-step
predictions ``(B, T, N)`` (see :mod:`attractor.train.loss`). All strategies give the same values
and gradients; they differ in speed:

- :class:`Scan` — one ``lax.scan``, differentiated by JAX's autodiff;
- :class:`Adjoint` — the same forward scan with the hand-written discrete-adjoint reverse pass of
  :mod:`attractor.train.adjoint` (needs an analytic Jacobian and a flat latent state);
- :class:`AutoRollout` (the default) — the adjoint where it is faster (models with at most
  ``max_parameters`` parameters that have a Jacobian), the scan otherwise.

- :class:`~attractor.train.time_parallel.TimeParallel` — Newton's method over the whole forced
  sequence, each iteration one parallel scan (needs a Jacobian; see
  :mod:`attractor.train.time_parallel`).

A strategy may also report statistics of its work (:meth:`Rollout.predictions_and_stats`, e.g.
Newton iterations); the training loop logs them per epoch.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import jax

from attractor.models.base import parameter_count
from attractor.models.capabilities import HasJacobian, require


@dataclasses.dataclass(frozen=True)
class Rollout(abc.ABC):
    """Base of the rollout strategies."""

    @abc.abstractmethod
    def predictions(self, model: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        """Forced one-step predictions ``(B, T, N)`` of ``batch`` ``(B, T+1, N)``."""

    def predictions_and_stats(
        self, model: Any, batch: jax.Array, alphas: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The predictions and scalar statistics of how they were computed (default: none)."""
        return self.predictions(model, batch, alphas), {}

    def check(self, model: Any) -> None:  # noqa: B027 - optional hook
        """Raise :class:`InputError` if this strategy cannot run ``model``."""

    def describe(self) -> dict[str, Any]:
        return {"rollout": type(self).__name__, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class Scan(Rollout):
    """Autodiff through a ``lax.scan`` (works for every teacher-forceable model)."""

    def predictions(self, model: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        from attractor.train.loss import forced_predictions

        return jax.vmap(forced_predictions, in_axes=(None, 0, None))(model, batch, alphas)


@dataclasses.dataclass(frozen=True)
class Adjoint(Rollout):
    """Hand-written reverse pass (reverse mode only; see :mod:`attractor.train.adjoint`)."""

    def check(self, model: Any) -> None:
        require(model, HasJacobian, by="the adjoint rollout")

    def predictions(self, model: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        from attractor.train.adjoint import forced_rollout_adjoint

        return forced_rollout_adjoint(model, batch, alphas)


#: Models with up to this many parameters use the adjoint by default. It recomputes the step once
#: more over the whole rollout (for the Jacobian factors and the parameter gradient), which costs
#: more than it saves once the step's arithmetic, not the per-step overhead, dominates.
#: ``benchmarks/adjoint_speed.py`` (B = 16, T = 200, 2-core CPU; BENCHMARKS.md) measured the
#: adjoint 1.3-4x faster up to the shPLRNN with M=20, L=200 (8.3k parameters) and slower from
#: M=32, L=256 (16.8k: 0.84x; 66k: 0.65x).
ADJOINT_MAX_PARAMETERS = 12_000


@dataclasses.dataclass(frozen=True)
class AutoRollout(Rollout):
    """The adjoint for small models with a Jacobian, the scan otherwise."""

    max_parameters: int = ADJOINT_MAX_PARAMETERS

    def choose(self, model: Any) -> Rollout:
        if isinstance(model, HasJacobian) and parameter_count(model) <= self.max_parameters:
            return Adjoint()
        return Scan()

    def predictions(self, model: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        return self.choose(model).predictions(model, batch, alphas)
