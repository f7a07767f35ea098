"""A model's closed-loop step as a map of flat float64 vectors: the view every analysis uses.

A model's state is any pytree (a latent vector for the PLRNN family, ``(x, (h, c), ...)`` for an
LSTM forecaster). Fixed points, cycles, Jacobians and Lyapunov spectra are defined on the flat
vector ``z`` of all its leaves, which :func:`jax.flatten_util.ravel_pytree` provides: ``F(z) =
ravel(step(unravel(z)))``. For the PLRNN family the state already is that vector.

Everything is done in float64 (trained models hold float32 parameters; a speed tolerance of
``1e-12`` is out of float32's reach): :func:`flat_dynamics` casts the model's floating-point
leaves to float64, and must be called, like every function that uses its result, inside
:func:`attractor._precision.float64` (JAX's global x64 flag is never flipped).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from attractor.errors import InputError
from attractor.models.capabilities import HasJacobian


def to_float64(tree: Any) -> Any:
    """``tree`` with every floating-point array leaf cast to float64 (other leaves untouched)."""
    return jax.tree_util.tree_map(
        lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, tree
    )


@dataclasses.dataclass(frozen=True)
class Unravel:
    """Flat vector -> state pytree; hashable, so that jitted analyses of models with the same
    state structure share one compilation."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[Any, ...]

    def __call__(self, z: jax.Array) -> Any:
        sizes = [int(np.prod(s)) for s in self.shapes]
        parts = jnp.split(z, np.cumsum(sizes)[:-1]) if sizes else []
        leaves = [
            p.reshape(s).astype(d) for p, s, d in zip(parts, self.shapes, self.dtypes, strict=True)
        ]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


class FlatDynamics(eqx.Module):
    """The autonomous step of ``model`` on flat state vectors ``z`` ``(D,)`` (float64).

    A pytree (an :class:`equinox.Module`): pass it to ``eqx.filter_jit``-ed functions.

    Attributes:
        model: the model, its floating-point parameters cast to float64.
        unravel: flat vector -> state pytree.
        dim: ``D``, the length of the flat state.
        is_flat: the model's state is itself a vector (then ``model.jacobian`` applies).
    """

    model: Any
    unravel: Unravel = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    is_flat: bool = eqx.field(static=True)

    def step(self, z: jax.Array) -> jax.Array:
        """``F(z)``: one closed-loop step of the flat state."""
        return ravel_pytree(self.model.step(self.unravel(z)))[0]

    def observe(self, z: jax.Array) -> jax.Array:
        """The model's observation ``(N,)`` (standardised units) of a flat state."""
        return self.model.observe(self.unravel(z))

    def jacobian(self, z: jax.Array) -> jax.Array:
        """``dF/dz`` ``(D, D)``: the model's own Jacobian when it has one, else autodiff."""
        if self.is_flat and isinstance(self.model, HasJacobian):
            return self.model.jacobian(z)
        return jax.jacfwd(self.step)(z)

    def ravel_many(self, states: Any) -> jax.Array:
        """Flat vectors ``(K, D)`` of states stacked along a leading axis."""
        return jax.vmap(lambda s: ravel_pytree(s)[0])(to_float64(states))


def flat_dynamics(model: Any, example_state: Any) -> FlatDynamics:
    """The flat float64 view of ``model``'s step; ``example_state`` fixes the state's structure.

    Call inside :func:`attractor._precision.float64`.
    """
    if jax.dtypes.canonicalize_dtype(jnp.float64) != jnp.float64:
        raise RuntimeError("flat_dynamics: call inside attractor._precision.float64()")
    if not callable(getattr(model, "step", None)) or not callable(getattr(model, "observe", None)):
        raise InputError(f"{type(model).__name__} has no step/observe: not a DynamicsModel")
    state = to_float64(example_state)
    leaves, treedef = jax.tree_util.tree_flatten(state)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    unravel = Unravel(
        treedef, tuple(tuple(x.shape) for x in leaves), tuple(x.dtype for x in leaves)
    )
    dim = sum(int(x.size) for x in leaves)
    is_flat = len(leaves) == 1 and leaves[0].ndim == 1
    return FlatDynamics(to_float64(model), unravel, dim, is_flat)


def trajectory_states(model: Any, contexts: jax.Array, n_steps: int) -> Any:
    """States of free runs of ``n_steps`` rows from each context ``(B, T_ctx, N)``, stacked as
    one leading axis of ``B * n_steps`` states (row 0 of each run is its initial state)."""
    contexts = jnp.asarray(contexts)
    if contexts.ndim == 2:
        contexts = contexts[None]
    states = _free_runs(model, contexts, int(n_steps))
    return jax.tree_util.tree_map(lambda s: s.reshape((-1,) + s.shape[2:]), states)


@eqx.filter_jit
def _free_runs(model: Any, contexts: jax.Array, n_steps: int) -> Any:
    return jax.vmap(lambda ctx: model.rollout(model.init_state(ctx), n_steps))(contexts)


__all__ = ["FlatDynamics", "flat_dynamics", "to_float64", "trajectory_states"]
