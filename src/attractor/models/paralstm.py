"""ParaLSTM: a coupled-input-forget-gate LSTM with diagonal recurrence and peepholes (Danieli et
al. 2025, arXiv 2510.21450, "ParaRNN: Unlocking Parallel Training of Nonlinear RNNs for Large
Language Models"; CIFG: Greff et al., IEEE TNNLS 2017, "LSTM: A Search Space Odyssey").

For unit states ``(h, c)`` and the input drive ``[u_f, u_o, u_g] = x W_in + b``::

    f  = sigmoid(a_f ⊙ h + p_f ⊙ c + u_f)      forget gate; input gate 1 - f
    g  = tanh(a_g ⊙ h + u_g)
    c' = f ⊙ c + (1 - f) ⊙ g
    o  = sigmoid(a_o ⊙ h + p_o ⊙ c' + u_o)
    h' = o ⊙ tanh(c')

Every weight on the state is a vector, so unit ``k``'s next ``(h'_k, c'_k)`` depends on its own
``(h_k, c_k)`` only: the Jacobian is ``H`` blocks of ``2 x 2``, and the time-parallel solver
scans them as a :class:`~attractor.parallel.structure.BlockDiagonal` structure. The cell state
stores the pairs unit by unit, ``[h_1, c_1, h_2, c_2, ...]``. The forget bias starts at 1
(Jozefowicz et al., ICML 2015). Closed loop, increment readout and teacher forcing:
:mod:`attractor.models.diagonal_rnn`.
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
from attractor.models.lstm import FORGET_BIAS
from attractor.models.registry import register
from attractor.parallel.structure import BlockDiagonal, Structure


@dataclasses.dataclass(frozen=True)
class ParaLSTMConfig(DiagonalRNNConfig):
    """ParaLSTM hyperparameters (see :class:`DiagonalRNNConfig`)."""

    name: ClassVar[str] = "paralstm"


@register(
    "paralstm",
    family="diagonal",
    description="CIFG LSTM with diagonal recurrence, parallel-in-time (ParaRNN, Danieli et al. "
    "2025)",
    recipe=DIAGONAL_RNN_RECIPE,
)
class ParaLSTM(DiagonalRNN):
    """See the module docstring. ``a`` rows: ``a_f, p_f, a_g, a_o, p_o``."""

    config: ParaLSTMConfig = eqx.field(static=True)
    n_gates: ClassVar[int] = 3
    n_recurrent: ClassVar[int] = 5
    state_per_unit: ClassVar[int] = 2

    def initial_bias(self, hidden: int) -> jax.Array:
        return jnp.zeros(3 * hidden).at[:hidden].set(FORGET_BIAS)

    def _pairs(self, s: jax.Array) -> tuple[jax.Array, jax.Array]:
        pairs = s.reshape(s.shape[:-1] + (-1, 2))
        return pairs[..., 0], pairs[..., 1]

    def _forward(self, s: jax.Array, u: jax.Array):
        a_f, p_f, a_g, a_o, p_o = self.a
        u_f, u_o, u_g = gates(u, 3)
        h, c = self._pairs(s)
        f = jax.nn.sigmoid(a_f * h + p_f * c + u_f)
        g = jnp.tanh(a_g * h + u_g)
        c_next = f * c + (1.0 - f) * g
        o = jax.nn.sigmoid(a_o * h + p_o * c_next + u_o)
        return h, c, f, g, c_next, o

    def cell(self, s: jax.Array, u: jax.Array) -> jax.Array:
        *_, c_next, o = self._forward(s, u)
        h_next = o * jnp.tanh(c_next)
        return jnp.stack([h_next, c_next], axis=-1).reshape(s.shape)

    def hidden(self, s: jax.Array) -> jax.Array:
        return self._pairs(s)[0]

    def cell_jacobian(self, s: jax.Array, u: jax.Array) -> jax.Array:
        """``(H, 2, 2)``: rows ``(h', c')``, columns ``(h, c)`` of each unit."""
        a_f, p_f, a_g, a_o, p_o = self.a
        h, c, f, g, c_next, o = self._forward(s, u)
        df = f * (1.0 - f)
        dc_dh = df * a_f * (c - g) + (1.0 - f) * (1.0 - g**2) * a_g
        dc_dc = f + df * p_f * (c - g)
        do = o * (1.0 - o)
        tanh_c = jnp.tanh(c_next)
        dtanh = o * (1.0 - tanh_c**2)
        dh_dh = do * (a_o + p_o * dc_dh) * tanh_c + dtanh * dc_dh
        dh_dc = do * p_o * dc_dc * tanh_c + dtanh * dc_dc
        rows_h = jnp.stack([dh_dh, dh_dc], axis=-1)
        rows_c = jnp.stack([dc_dh, dc_dc], axis=-1)
        return jnp.stack([rows_h, rows_c], axis=-2)

    def cell_structure(self) -> Structure:
        return BlockDiagonal(2)
