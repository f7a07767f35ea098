"""LSTM forecaster (Hochreiter & Schmidhuber, Neural Computation 9(8):1735–1780, 1997, with the
forget gate of Gers, Schmidhuber & Cummins, Neural Computation 12(10), 2000).

Each layer's cell, for state ``s = [h, c]`` and layer input ``i`` (``x_t`` for the first layer),
with ``[z_i, z_f, z_g, z_o] = i W + h U + b`` split into four blocks of ``H``::

    c' = sigmoid(z_f) ⊙ c + sigmoid(z_i) ⊙ tanh(z_g)
    h' = sigmoid(z_o) ⊙ tanh(c')

The forget-gate bias starts at 1 (Jozefowicz, Zaremba & Sutskever, ICML 2015). The layer output is
``h``; gating acts on the whole ``[h, c]``. Stacking, gating, attention and the increment readout:
:mod:`attractor.models.recurrent`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models.attention import linear_init
from attractor.models.recurrent import (
    RECURRENT_RECIPE,
    Cell,
    RecurrentConfig,
    RecurrentForecaster,
)
from attractor.models.registry import register

#: Initial forget-gate bias (Jozefowicz et al. 2015).
FORGET_BIAS = 1.0


@dataclasses.dataclass(frozen=True)
class LSTMConfig(RecurrentConfig):
    """LSTM hyperparameters (see :class:`RecurrentConfig`)."""

    name: ClassVar[str] = "lstm"


class LSTMCell(Cell):
    """``s = [h, c]``; see the module docstring. ``w (n_in, 4H)``, ``u (H, 4H)``, ``b (4H,)`` hold
    the input, forget, cell and output blocks in that order."""

    w: jax.Array
    u: jax.Array
    b: jax.Array
    hidden: int = eqx.field(static=True)

    def __init__(self, n_in: int, hidden: int, *, key: jax.Array):
        kw, ku = jax.random.split(key)
        h = self.hidden = hidden
        self.w = linear_init(kw, n_in, 4 * h)
        self.u = linear_init(ku, h, 4 * h)
        self.b = jnp.zeros(4 * h).at[h : 2 * h].set(FORGET_BIAS)

    @property
    def state_size(self) -> int:
        return 2 * self.hidden

    def update(self, s: jax.Array, i: jax.Array) -> jax.Array:
        h, c = jnp.split(s, 2)
        z_i, z_f, z_g, z_o = jnp.split(i @ self.w + h @ self.u + self.b, 4)
        c = jax.nn.sigmoid(z_f) * c + jax.nn.sigmoid(z_i) * jnp.tanh(z_g)
        h = jax.nn.sigmoid(z_o) * jnp.tanh(c)
        return jnp.concatenate([h, c])

    def output(self, s: jax.Array) -> jax.Array:
        return s[: self.hidden]


@register(
    "lstm",
    family="recurrent",
    description="LSTM (Hochreiter & Schmidhuber 1997), stacked, optional gating / attention",
    recipe=RECURRENT_RECIPE,
)
class LSTM(RecurrentForecaster):
    """Stacked LSTM; see the module docstring."""

    config: LSTMConfig = eqx.field(static=True)
    cell_type: ClassVar[type[Cell]] = LSTMCell
