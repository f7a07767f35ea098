"""ParaGRU: a GRU with diagonal recurrence (Danieli et al. 2025, arXiv 2510.21450, "ParaRNN:
Unlocking Parallel Training of Nonlinear RNNs for Large Language Models"; the idea of recurrences
whose units do not mix goes back to Martin & Cundy, ICLR 2018).

For cell state ``h`` and the input drive ``[u_z, u_r, u_h] = x W_in + b``::

    z  = sigmoid(a_z ⊙ h + u_z)               update gate
    r  = sigmoid(a_r ⊙ h + u_r)               reset gate
    h~ = tanh(a_h ⊙ (r ⊙ h) + u_h)
    h' = (1 - z) ⊙ h + z ⊙ h~

The recurrent weights ``a_z, a_r, a_h`` are vectors, so ``dh'/dh`` is diagonal:

    dh'/dh = (1 - z) + (h~ - h) z (1 - z) a_z + z (1 - h~^2) a_h (r + h r (1 - r) a_r).

Closed loop, increment readout and teacher forcing: :mod:`attractor.models.diagonal_rnn`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models.diagonal_rnn import (
    DIAGONAL_RNN_RECIPE,
    DiagonalRNN,
    DiagonalRNNConfig,
    gates,
)
from attractor.models.registry import register
from attractor.parallel.structure import Diagonal, Structure


@dataclasses.dataclass(frozen=True)
class ParaGRUConfig(DiagonalRNNConfig):
    """ParaGRU hyperparameters (see :class:`DiagonalRNNConfig`)."""

    name: ClassVar[str] = "paragru"


@register(
    "paragru",
    family="diagonal",
    description="GRU with diagonal recurrence, parallel-in-time (ParaRNN, Danieli et al. 2025)",
    recipe=DIAGONAL_RNN_RECIPE,
)
class ParaGRU(DiagonalRNN):
    """See the module docstring. ``a`` rows: ``a_z, a_r, a_h``."""

    config: ParaGRUConfig = eqx.field(static=True)
    n_gates: ClassVar[int] = 3
    n_recurrent: ClassVar[int] = 3

    def _gates(self, h: jax.Array, u: jax.Array):
        a_z, a_r, a_h = self.a
        u_z, u_r, u_h = gates(u, 3)
        z = jax.nn.sigmoid(a_z * h + u_z)
        r = jax.nn.sigmoid(a_r * h + u_r)
        candidate = jnp.tanh(a_h * (r * h) + u_h)
        return z, r, candidate

    def cell(self, h: jax.Array, u: jax.Array) -> jax.Array:
        z, _, candidate = self._gates(h, u)
        return (1.0 - z) * h + z * candidate

    def cell_jacobian(self, h: jax.Array, u: jax.Array) -> jax.Array:
        a_z, a_r, a_h = self.a
        z, r, candidate = self._gates(h, u)
        d_z = z * (1.0 - z) * a_z
        d_candidate = (1.0 - candidate**2) * a_h * (r + h * r * (1.0 - r) * a_r)
        return (1.0 - z) + (candidate - h) * d_z + z * d_candidate

    def cell_structure(self) -> Structure:
        return Diagonal()

    def jacobian_structure(self) -> Structure:
        """Diagonal over the whole state ``[x; h]``."""
        return Diagonal()

    def structured_jacobian(self, z: jax.Array) -> jax.Array:
        return jnp.concatenate(super().structured_jacobian(z), axis=-1)
