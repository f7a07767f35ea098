"""Elman RNN forecaster (Elman, Cognitive Science 14:179–211, 1990, "Finding Structure in Time").

Each layer's cell, for state ``h`` and layer input ``i`` (``x_t`` for the first layer)::

    h' = tanh(i W + h U + b)

Layers are stacked, optionally gated and followed by attention, and the readout predicts the
increment ``x_{t+1} - x_t``: see :mod:`attractor.models.recurrent`.
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
class RNNConfig(RecurrentConfig):
    """Elman RNN hyperparameters (see :class:`RecurrentConfig`)."""

    name: ClassVar[str] = "rnn"


class ElmanCell(Cell):
    """``h' = tanh(i W + h U + b)``."""

    w: jax.Array
    u: jax.Array
    b: jax.Array
    hidden: int = eqx.field(static=True)

    def __init__(self, n_in: int, hidden: int, *, key: jax.Array):
        kw, ku = jax.random.split(key)
        self.hidden = hidden
        self.w = linear_init(kw, n_in, self.hidden)
        self.u = linear_init(ku, self.hidden, self.hidden)
        self.b = jnp.zeros(self.hidden)

    def update(self, s: jax.Array, i: jax.Array) -> jax.Array:
        return jnp.tanh(i @ self.w + s @ self.u + self.b)


@register(
    "rnn",
    family="recurrent",
    description="Elman RNN (Elman 1990), stacked, optional gating / attention",
    recipe=RECURRENT_RECIPE,
)
class RNN(RecurrentForecaster):
    """Stacked Elman RNN; see the module docstring."""

    config: RNNConfig = eqx.field(static=True)
    cell_type: ClassVar[type[Cell]] = ElmanCell
