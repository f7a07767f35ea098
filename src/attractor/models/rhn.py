"""Recurrent Highway Network forecaster (Zilly, Srivastava, Koutník & Schmidhuber, ICML 2017,
"Recurrent Highway Networks", arXiv 1607.03474, eqs. 6–9, coupled carry gate ``c = 1 - t``).

Each layer's cell runs ``D`` highway micro-steps per time step (the recurrence depth), the input
``i`` (``x_t`` for the first layer) entering only the first; ``s^(0) = s_t``, for ``l = 1..D``::

    hh = tanh(i W_H 1[l=1] + s^(l-1) R_H,l + b_H,l)
    t  = sigmoid(i W_T 1[l=1] + s^(l-1) R_T,l + b_T,l)
    s^(l) = hh ⊙ t + s^(l-1) ⊙ (1 - t)

and ``s_{t+1} = s^(D)``. The transform-gate biases start at ``-2`` so that each micro-step
initially mostly carries its state (Srivastava et al., "Training Very Deep Networks",
NeurIPS 2015). Stacking, gating, attention and the increment readout:
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

#: Initial transform-gate bias (Srivastava et al. 2015; Zilly et al. 2017).
TRANSFORM_BIAS = -2.0


@dataclasses.dataclass(frozen=True)
class RHNConfig(RecurrentConfig):
    """RHN hyperparameters: ``depth`` is the recurrence depth ``D`` (see also
    :class:`RecurrentConfig`)."""

    name: ClassVar[str] = "rhn"
    depth: int = 3


class RHNCell(Cell):
    """See the module docstring. ``w (n_in, 2H)`` (first micro-step only), ``r (D, H, 2H)``,
    ``b (D, 2H)``; each ``2H`` block holds the ``H`` (candidate) and ``T`` (transform) parts."""

    w: jax.Array
    r: jax.Array
    b: jax.Array
    hidden: int = eqx.field(static=True)

    def __init__(self, n_in: int, hidden: int, depth: int, *, key: jax.Array):
        kw, kr = jax.random.split(key)
        h = self.hidden = hidden
        self.w = linear_init(kw, n_in, 2 * h)
        self.r = jax.vmap(lambda k: linear_init(k, h, 2 * h))(jax.random.split(kr, depth))
        self.b = jnp.zeros((depth, 2 * h)).at[:, h:].set(TRANSFORM_BIAS)

    def update(self, s: jax.Array, i: jax.Array) -> jax.Array:
        h = self.hidden
        for l in range(self.r.shape[0]):
            pre = s @ self.r[l] + self.b[l] + (i @ self.w if l == 0 else 0.0)
            t = jax.nn.sigmoid(pre[h:])
            s = jnp.tanh(pre[:h]) * t + s * (1.0 - t)
        return s


@register(
    "rhn",
    family="recurrent",
    description="Recurrent Highway Network (Zilly et al. 2017), optional gating / attention",
    recipe=RECURRENT_RECIPE,
)
class RHN(RecurrentForecaster):
    """Stacked Recurrent Highway Network; see the module docstring."""

    config: RHNConfig = eqx.field(static=True)
    cell_type: ClassVar[type[Cell]] = RHNCell

    @classmethod
    def make_cell(cls, config: RHNConfig, n_in: int, *, key: jax.Array) -> RHNCell:
        return RHNCell(n_in, config.hidden_dim, config.depth, key=key)
