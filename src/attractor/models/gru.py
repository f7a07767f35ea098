"""GRU forecaster (Cho et al., EMNLP 2014, "Learning Phrase Representations using RNN
Encoder–Decoder for Statistical Machine Translation", eqs. 5–8).

Each layer's cell, for state ``h`` and layer input ``i`` (``x_t`` for the first layer)::

    z  = sigmoid(i W_z + h U_z + b_z)              update gate
    r  = sigmoid(i W_r + h U_r + b_r)              reset gate
    h~ = tanh(i W_h + (r ⊙ h) U_h + b_h)
    h' = z ⊙ h + (1 - z) ⊙ h~                      (Cho et al.'s convention: z keeps the old state)

Stacking, gating, attention and the increment readout: :mod:`attractor.models.recurrent`.
The cell is also the recurrence inside the transformer's blocks (``transformer.py``).
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


@dataclasses.dataclass(frozen=True)
class GRUConfig(RecurrentConfig):
    """GRU hyperparameters (see :class:`RecurrentConfig`)."""

    name: ClassVar[str] = "gru"


class GRUCell(Cell):
    """See the module docstring. ``w (n_in, 3H)``, ``u (H, 3H)``, ``b (3H,)`` hold the update,
    reset and candidate blocks in that order."""

    w: jax.Array
    u: jax.Array
    b: jax.Array
    hidden: int = eqx.field(static=True)

    def __init__(self, n_in: int, hidden: int, *, key: jax.Array):
        kw, ku = jax.random.split(key)
        h = self.hidden = hidden
        self.w = linear_init(kw, n_in, 3 * h)
        self.u = linear_init(ku, h, 3 * h)
        self.b = jnp.zeros(3 * h)

    def update(self, s: jax.Array, i: jax.Array) -> jax.Array:
        h = self.hidden
        wi = i @ self.w + self.b
        z = jax.nn.sigmoid(wi[:h] + s @ self.u[:, :h])
        r = jax.nn.sigmoid(wi[h : 2 * h] + s @ self.u[:, h : 2 * h])
        candidate = jnp.tanh(wi[2 * h :] + (r * s) @ self.u[:, 2 * h :])
        return z * s + (1.0 - z) * candidate


@register(
    "gru",
    family="recurrent",
    description="GRU (Cho et al. 2014), stacked, optional gating / attention",
    recipe=RECURRENT_RECIPE,
)
class GRU(RecurrentForecaster):
    """Stacked GRU; see the module docstring."""

    config: GRUConfig = eqx.field(static=True)
    cell_type: ClassVar[type[Cell]] = GRUCell
