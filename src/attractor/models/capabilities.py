"""Opt-in model capabilities, discovered at run time.

A capability is an abstract mixin: a model class that inherits it promises its methods. Code that
needs a capability (GTF training, the adjoint reverse pass, Lyapunov spectra, fixed-point
enumeration, ridge readouts) calls :func:`require`, which refuses other models with one clear
message naming the capability and the models that have it.

- :class:`TeacherForceable` — ``encode(x)``: the data-inferred state of one observation (batched
  over leading axes for array states); ``force(state, x, alpha)``: generalized teacher forcing,
  ``(1 - alpha) state + alpha encode(x)`` on the forced part (Hess et al., ICML 2023). With
  ``alpha = 1`` every step this is classical one-step teacher forcing.
- :class:`HasJacobian` — ``jacobian(z)`` of the step for flat array states, a factored
  transpose product for the adjoint reverse pass and aGTF, and the Jacobian in the storage the
  time-parallel solver scans (dense by default; diagonal for ParaGRU-style cells).
- :class:`PiecewiseLinear` (implies :class:`HasJacobian`) — ``region_code(z)`` and
  ``region_system(z)``: the linear subregion of a state and the affine map ``z -> J z + c`` the
  step equals there (Brenner et al., NeurIPS 2024; Eisenmann et al., NeurIPS 2023, SCYFI).
- :class:`Regularized` — ``latent_regularization()``: an L2 penalty on the latent parameters.
- :class:`Constrained` — ``project()``: the parameters projected back onto the set the model's
  guarantees need (e.g. ``max|a_i| < 1`` for the bounded orbits of the clipped PLRNNs); training
  applies it after every update (projected gradient descent).
- :class:`ReadoutOnly` — ``fit_readout(series, ridge)``: a closed-form ridge regression of the
  readout on harvested features (echo state networks, NG-RC, EDMD).
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.parallel.structure import Dense, Structure


class TeacherForceable(eqx.Module):
    """The model can be pulled towards data: generalized / sparse / one-step teacher forcing."""

    @abc.abstractmethod
    def encode(self, x: jax.Array) -> Any:
        """State inferred from observation(s) ``x`` ``(..., N)``."""

    @abc.abstractmethod
    def force(self, state: Any, x: jax.Array, alpha: jax.Array) -> Any:
        """``state`` moved a fraction ``alpha`` of the way towards ``encode(x)``."""


class HasJacobian(eqx.Module):
    """The step of a flat state ``z (M,)`` has a Jacobian the model computes itself."""

    @abc.abstractmethod
    def jacobian(self, z: jax.Array) -> jax.Array:
        """``dF/dz`` at ``z``, shape ``(M, M)``."""

    def jacobian_factors(self, z: jax.Array) -> Any:
        """What :meth:`jacobian_transpose_apply` needs to form ``J(z)^T v``; default ``J(z)``.

        The adjoint reverse pass of :mod:`attractor.train.adjoint` evaluates this for every state
        of a rollout at once, then applies it step by step. Models whose Jacobian is ``diag(A)``
        plus a structured part override both methods to store only a vector per state.
        """
        return self.jacobian(z)

    def jacobian_transpose_apply(self, factors: Any, v: jax.Array) -> jax.Array:
        """``J(z)^T v`` for ``v`` of shape ``(M,)``, from ``factors = jacobian_factors(z)``."""
        # A multiply-reduce rather than a matrix product: it fuses into one loop under vmap.
        return jnp.sum(factors * v[:, None], axis=0)

    def jacobian_structure(self) -> Structure:
        """How :meth:`structured_jacobian` stores ``J`` (:mod:`attractor.parallel.structure`).

        The time-parallel rollout scans products of these matrices; dense by default. Cells whose
        units interact only through their inputs declare a diagonal (or block) structure.
        """
        return Dense()

    def structured_jacobian(self, z: jax.Array) -> Any:
        """``J(z)`` in the storage of :meth:`jacobian_structure` (default: the dense matrix)."""
        return self.jacobian(z)


class PiecewiseLinear(HasJacobian):
    """The step is affine inside each of finitely many subregions of the state space."""

    @abc.abstractmethod
    def region_code(self, z: jax.Array) -> jax.Array:
        """Activation pattern of ``z`` ``(..., M)`` as small ints ``(..., K)``, one per switch."""

    def region_system(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(J, c)`` with ``step(y) = J y + c`` for every ``y`` in the subregion of ``z``.

        Exact for a piecewise-linear step: ``J`` is its Jacobian at ``z`` and
        ``c = step(z) - J z``.
        """
        jac = self.jacobian(z)
        return jac, self.step(z) - jac @ z  # type: ignore[attr-defined]

    def code_system(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(J, c)`` of the subregion whose :meth:`region_code` is ``code``, without a point in
        it: what the exhaustive enumeration of regions needs (``attractor.analysis.pwl``).

        Every binary ``code`` of the right length gives an affine map, also codes that no state
        has (infeasible regions); members of the PLRNN family write it out. The default raises
        ``NotImplementedError``: then only the point-based search applies.
        """
        raise NotImplementedError(f"{type(self).__name__} does not write out code_system")


class Regularized(eqx.Module):
    """The model has an L2 penalty on its latent parameters."""

    @abc.abstractmethod
    def latent_regularization(self) -> jax.Array:
        """A scalar penalty."""


class Constrained(eqx.Module):
    """The model's parameters must stay in a set; training projects them back after each update."""

    @abc.abstractmethod
    def project(self) -> Any:
        """A copy whose parameters lie in the feasible set (itself when they already do).

        Training calls it on the trainable half of a partitioned model, in which frozen leaves
        are ``None``; an implementation leaves those alone.
        """


class ReadoutOnly(eqx.Module):
    """Only a linear readout is learned, in closed form (ridge regression)."""

    @abc.abstractmethod
    def fit_readout(self, series: list[jax.Array], ridge: float) -> Any:
        """A copy of the model whose readout is fitted to the (standardised) ``series``."""


CAPABILITIES: dict[str, type[eqx.Module]] = {
    "teacher_forcing": TeacherForceable,
    "jacobian": HasJacobian,
    "piecewise_linear": PiecewiseLinear,
    "regularized": Regularized,
    "constrained": Constrained,
    "readout_only": ReadoutOnly,
}


def capabilities(model_or_class: Any) -> list[str]:
    """Names of the capabilities a model (or model class) has, in :data:`CAPABILITIES` order."""
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    return [name for name, cap in CAPABILITIES.items() if issubclass(cls, cap)]


def require(model: Any, capability: type[eqx.Module], *, by: str) -> None:
    """Raise :class:`InputError` unless ``model`` has ``capability``; ``by`` names the user."""
    if isinstance(model, capability):
        return
    from attractor.models.registry import models_with

    name = next(k for k, v in CAPABILITIES.items() if v is capability)
    able = models_with(name)
    model_name = getattr(getattr(model, "config", None), "name", type(model).__name__)
    raise InputError(
        f"model {model_name!r} cannot be used with {by}: it lacks the {name!r} capability; "
        f"models that have it: {', '.join(able) if able else 'none'}"
    )
