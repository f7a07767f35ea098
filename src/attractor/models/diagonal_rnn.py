"""Recurrent cells with diagonal recurrence: what ParaGRU and ParaLSTM share.

A cell whose units interact only through their inputs has a diagonal (or block-diagonal)
recurrent Jacobian, so the Newton solver of :mod:`attractor.parallel` scans vectors instead of
matrices: ``O(T H)`` work per iteration instead of ``O(T H^3)`` (Martin & Cundy, ICLR 2018,
"Parallelizing Linear Recurrent Neural Nets Over Sequence Length"; Danieli et al. 2025,
arXiv 2510.21450, "ParaRNN: Unlocking Parallel Training of Nonlinear RNNs for Large Language
Models", whose ParaGRU and ParaLSTM cells these follow). Units mix through the input matrix
and the readout.

As a dynamics model the cell is run in closed loop with the increment readout of the zoo's
recurrent forecasters (:mod:`attractor.models.recurrent`): the flat state is ``z = [x; s]``, the
current observation ``x`` ``(N,)`` and the cell state ``s``; one step is

    s' = cell(s, x W_in + b),      x' = x + h(s') W_out + b_out.

Teacher forcing moves ``x`` towards data; ``encode(x) = [x; 0]`` (zero cell state), and
``init_state(context)`` runs fully forced over the last ``context_length`` rows, so its
observation is the last context row. With full forcing (``alpha = 1``, one-step teacher forcing)
the observation part of the forced recurrence is the data itself and the solver's diagonal
Newton step is exact; with partial forcing the cross terms between ``x`` and ``s`` are dropped
(quasi-Newton).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.attention import linear_init
from attractor.models.base import DynamicsModel, ModelConfig
from attractor.models.capabilities import HasJacobian, TeacherForceable
from attractor.models.recurrent import READOUT_SCALE
from attractor.models.registry import Recipe
from attractor.parallel.structure import Diagonal, Stacked, Structure

#: One-step teacher forcing on windows of 50 steps: full forcing makes the time-parallel Newton
#: step exact for these cells (see the module docstring).
DIAGONAL_RNN_RECIPE = Recipe(objective="onestep", epochs=100, objective_options={"seq_len": 50})


@dataclasses.dataclass(frozen=True)
class DiagonalRNNConfig(ModelConfig):
    """Hyperparameters of a diagonal-recurrence cell.

    Attributes:
        hidden_dim: ``H``, units of the cell.
        context_length: rows of the context the warm-up runs over.
    """

    name: ClassVar[str] = "diagonal_rnn"
    hidden_dim: int = 64
    context_length: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.input_dim:
            raise InputError(f"{self.name}: external inputs (input_dim > 0) are not supported")


class DiagonalRNN(DynamicsModel, TeacherForceable, HasJacobian):
    """Closed-loop model around a cell with diagonal recurrence; see the module docstring."""

    config: eqx.AbstractVar[DiagonalRNNConfig]
    #: gate blocks in the input drive ``x W_in + b`` (``G`` blocks of ``H``)
    n_gates: ClassVar[int]
    #: cell-state entries per unit
    state_per_unit: ClassVar[int] = 1

    w_in: jax.Array  # (N, G H)
    b: jax.Array  # (G H,)
    a: jax.Array  # (G', H) diagonal recurrent weights (and peepholes)
    w_out: jax.Array  # (H, N)
    b_out: jax.Array  # (N,)

    def __init__(self, config: DiagonalRNNConfig, *, key: jax.Array):
        k_in, k_a, k_out = jax.random.split(key, 3)
        n, h = config.obs_dim, config.hidden_dim
        self.config = config
        self.w_in = linear_init(k_in, n, self.n_gates * h)
        self.b = self.initial_bias(h)
        self.a = jax.random.uniform(k_a, (self.n_recurrent, h), minval=-0.5, maxval=0.5)
        self.w_out = READOUT_SCALE * linear_init(k_out, h, n)
        self.b_out = jnp.zeros(n)

    # ------------------------------------------------------------------ the cell
    n_recurrent: ClassVar[int]

    def initial_bias(self, hidden: int) -> jax.Array:
        return jnp.zeros(self.n_gates * hidden)

    @abc.abstractmethod
    def cell(self, s: jax.Array, u: jax.Array) -> jax.Array:
        """Next cell state from ``s`` and the input drive ``u = x W_in + b``."""

    @abc.abstractmethod
    def cell_jacobian(self, s: jax.Array, u: jax.Array) -> jax.Array:
        """``d cell / d s`` in the storage of :meth:`cell_structure`."""

    @abc.abstractmethod
    def cell_structure(self) -> Structure:
        """Storage of :meth:`cell_jacobian`."""

    def hidden(self, s: jax.Array) -> jax.Array:
        """The cell output ``h`` ``(H,)`` of a cell state (the state itself unless overridden)."""
        return s

    # ------------------------------------------------------------------ the contract
    @property
    def context_length(self) -> int:
        return self.config.context_length

    @property
    def state_size(self) -> int:
        return self.state_per_unit * self.config.hidden_dim

    def _split(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        n = self.config.obs_dim
        return z[..., :n], z[..., n:]

    def _drive(self, x: jax.Array) -> jax.Array:
        return x @ self.w_in + self.b

    def _readout(self, x: jax.Array, s_next: jax.Array) -> jax.Array:
        return x + self.hidden(s_next) @ self.w_out + self.b_out

    def init_state(self, context: jax.Array) -> jax.Array:
        context = context[-self.context_length :]

        def forced(z: jax.Array, x: jax.Array) -> tuple[jax.Array, None]:
            return self.force(self.step(z), x, 1.0), None

        z, _ = jax.lax.scan(forced, self.encode(context[0]), context[1:])
        return z

    def step(self, z: jax.Array, u: jax.Array | None = None) -> jax.Array:
        if u is not None:
            raise InputError(f"{self.config.name}: this model takes no external input u")
        x, s = self._split(z)
        s_next = self.cell(s, self._drive(x))
        return jnp.concatenate([self._readout(x, s_next), s_next], axis=-1)

    def observe(self, z: jax.Array) -> jax.Array:
        return z[..., : self.config.obs_dim]

    # ------------------------------------------------------------------ teacher forcing
    def encode(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([x, jnp.zeros(x.shape[:-1] + (self.state_size,), x.dtype)], -1)

    def force(self, z: jax.Array, x: jax.Array, alpha: jax.Array) -> jax.Array:
        x_model, s = self._split(z)
        return jnp.concatenate([(1.0 - alpha) * x_model + alpha * x, s], axis=-1)

    # ------------------------------------------------------------------ Jacobians
    def jacobian(self, z: jax.Array) -> jax.Array:
        """The dense ``(N + S) x (N + S)`` Jacobian of the step (autodiff)."""
        return jax.jacfwd(self.step)(z)

    def jacobian_factors(self, z: jax.Array) -> jax.Array:
        """The state itself: :meth:`jacobian_transpose_apply` is a vector-Jacobian product."""
        return z

    def jacobian_transpose_apply(self, z: jax.Array, v: jax.Array) -> jax.Array:
        return jax.vjp(self.step, z)[1](v)[0]

    def jacobian_structure(self) -> Structure:
        """The observation's own diagonal, then the cell's structure (cross terms dropped)."""
        return Stacked((Diagonal(), self.cell_structure()),
                       (self.config.obs_dim, self.state_size))

    def structured_jacobian(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        x, s = self._split(z)
        u = self._drive(x)

        def next_x(x: jax.Array) -> jax.Array:
            return self._readout(x, self.cell(s, self._drive(x)))

        return jnp.diagonal(jax.jacfwd(next_x)(x)), self.cell_jacobian(s, u)


def gates(u: jax.Array, n: int) -> list[jax.Array]:
    """The ``n`` blocks of an input drive ``(n H,)``."""
    return jnp.split(u, n, axis=-1)

