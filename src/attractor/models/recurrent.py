"""Stacked recurrent forecasters with the component switches of Heidenreich, Vlachas &
Koumoutsakos (2024, arXiv 2410.02654, "Deconstructing Recurrence, Attention, and Gating"): the
common part of the Elman RNN, LSTM, GRU and Recurrent Highway Network, whose cells live in their
own files (``rnn.py``, ``lstm.py``, ``gru.py``, ``rhn.py``).

One step from the carried observation ``x_t`` and the layer states ``s^l_t``::

    i^1 = x_t
    s^l_{t+1} = G_l(s^l_t, cell_l(s^l_t, i^l)),   i^{l+1} = out_l(s^l_{t+1})     l = 1..L
    o = h + Attn(h, [h_{t-K+2}, ..., h_{t+1}])   (attention on; o = h otherwise), h = i^{L+1}
    x_{t+1} = x_t + o W_out + b_out

**Readout: the increment** ``x_{t+1} - x_t``, not ``x_{t+1}`` itself. At the sampling steps used
for chaotic flows (Lorenz-63 at dt = 0.01) consecutive rows differ by a few percent of the
attractor's size; predicting the increment starts the model at the persistence forecast
(``W_out ~ 0``) and spends its capacity on the flow, as NG-RC does (Gauthier et al., Nat. Commun.
2021) and as a residual / forward-Euler step does.

**Gating** ``G`` around the cell's state update (the paper names "additive", "learned rate" and
"input-dependent" gating without publishing equations; ours, for the old state ``s`` and the
cell's proposal ``f = cell(s, i)``):

- ``none``: ``s' = f`` (the plain cell);
- ``additive``: ``s' = s + f`` (a residual connection through time);
- ``learned_rate``: ``s' = (1 - a) ⊙ s + a ⊙ f``, ``a = sigmoid(rho)`` one learned rate per unit
  (a leaky integrator; ``a = 1`` is the plain cell). We take the convex form, not
  ``s + a ⊙ f``, so that it contains the plain cell and stays bounded for bounded cells;
- ``input_dependent``: ``g = sigmoid([s, f] W_g + b_g)``, ``s' = (1 - g) ⊙ s + g ⊙ f``
  (``g = 1`` is the plain cell).

For an LSTM ``s = [h, c]``, so the gate acts on both.

**Attention** (on / off) over the last ``K`` top-layer outputs, the newest ``h_{t+1}`` included:
multi-head dot-product attention with one learned bias per head and lag (relative positions,
:mod:`attractor.models.attention`), query ``h_{t+1}``, keys and values the memory. Its output is
added to the cell output before the readout; it does not feed back into the cells. The memory is
a fixed ``(K, H)`` buffer in the state with a ``(K,)`` mask of filled slots, so ``step`` stays a
pure function of the state.

**State**: ``(x_t, s^1..s^L, memory, filled)`` — the current observation is carried, so
``observe`` returns it and teacher forcing (:meth:`force`) pulls it towards the data.
``init_state(context)`` starts from zero layer states at the first of the last
``context_length`` rows and runs teacher-forced over the rest (``force`` with ``alpha = 1``), so
its observation is the last context row exactly.

Weights are stored ``(in, out)`` and applied as row vectors ``x @ W`` (fast under ``vmap``).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.attention import MultiHeadAttention, head_size, linear_init, relative_bias
from attractor.models.base import DynamicsModel, ModelConfig
from attractor.models.capabilities import TeacherForceable
from attractor.models.registry import Recipe

GATINGS = ("none", "additive", "learned_rate", "input_dependent")

#: Scale of the initial readout weights relative to U(-1/sqrt(H), 1/sqrt(H)): the model starts
#: close to the persistence forecast (see the module docstring).
READOUT_SCALE = 0.1


#: Recommended training of the four recurrent models: free-running BPTT, 25 closed-loop steps
#: after a warm-up of ``context_length`` rows. On standardised Lorenz-63 (dt 0.01, 100 epochs,
#: ``benchmarks/zoo_smoke.py``, seeds 0 and 1, RNN/LSTM/GRU/RHN) its median VPT was 2.1-3.3
#: Lyapunov times (mean 2.59) against 1.4-2.8 (mean 2.09) for one-step teacher forcing
#: (``onestep``, seq_len 100, same epochs, ~25 % more CPU time): ahead in 5 of the 8 model-seed
#: pairs, level in 1, behind in 2.
RECURRENT_RECIPE = Recipe(
    objective="freerun", epochs=100, objective_options={"warmup": 50, "horizon": 25}
)


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(ModelConfig):
    """Hyperparameters of every stacked recurrent forecaster.

    Attributes:
        hidden_dim: ``H``, units per layer.
        n_layers: ``L``, stacked layers.
        context_length: rows of the context the warm-up runs over (older rows are ignored).
        gating: one of ``none``, ``additive``, ``learned_rate``, ``input_dependent``.
        attention: attend over the last ``attention_window`` top-layer outputs.
        heads: attention heads (must divide ``hidden_dim``).
        attention_window: ``K``, hidden states in the attention memory.
    """

    name: ClassVar[str] = "recurrent"
    hidden_dim: int = 32
    n_layers: int = 1
    context_length: int = 50
    gating: str = "none"
    attention: bool = False
    heads: int = 2
    attention_window: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gating not in GATINGS:
            raise InputError(
                f"{self.name}: gating must be one of {', '.join(GATINGS)}, got {self.gating!r}"
            )
        if self.attention:
            head_size(self.name, self.hidden_dim, self.heads)
        if self.input_dim:
            raise InputError(f"{self.name}: external inputs (input_dim > 0) are not supported")


class Cell(eqx.Module):
    """One recurrent layer: ``update(s, i)`` proposes the next state, ``output(s)`` is ``h``."""

    hidden: eqx.AbstractVar[int]

    @property
    def state_size(self) -> int:
        return self.hidden

    @abc.abstractmethod
    def update(self, s: jax.Array, i: jax.Array) -> jax.Array:
        """The cell's proposal for the next state, from state ``s`` and layer input ``i``."""

    def output(self, s: jax.Array) -> jax.Array:
        """The layer output ``h`` ``(H,)`` of a state (the state itself unless overridden)."""
        return s


class Gate(eqx.Module):
    """Gating ``G(s, f)`` of a state update; see the module docstring."""

    kind: str = eqx.field(static=True)
    rate: jax.Array | None
    w: jax.Array | None
    b: jax.Array | None

    def __init__(self, kind: str, size: int, *, key: jax.Array):
        self.kind = kind
        self.rate = jnp.zeros(size) if kind == "learned_rate" else None
        self.w = linear_init(key, 2 * size, size) if kind == "input_dependent" else None
        self.b = jnp.zeros(size) if kind == "input_dependent" else None

    def __call__(self, s: jax.Array, f: jax.Array) -> jax.Array:
        if self.kind == "additive":
            return s + f
        if self.kind == "learned_rate":
            a = jax.nn.sigmoid(self.rate)
            return (1.0 - a) * s + a * f
        if self.kind == "input_dependent":
            g = jax.nn.sigmoid(jnp.concatenate([s, f]) @ self.w + self.b)
            return (1.0 - g) * s + g * f
        return f


class RecurrentState(NamedTuple):
    """State of a recurrent forecaster (arrays may carry leading batch axes)."""

    x: jax.Array  #: (N,) the current observation
    layers: tuple[jax.Array, ...]  #: per layer (S_l,)
    memory: jax.Array | None  #: (K, H) recent top-layer outputs, oldest first; None: no attention
    filled: jax.Array | None  #: (K,) 1 where ``memory`` holds a state


class RecurrentForecaster(DynamicsModel, TeacherForceable):
    """Common surface of the stacked recurrent models; subclasses name their ``cell_type``."""

    config: eqx.AbstractVar[RecurrentConfig]
    #: the cell class, built by :meth:`make_cell`
    cell_type: ClassVar[type[Cell]]

    cells: tuple[Cell, ...]
    gates: tuple[Gate, ...]
    attention: MultiHeadAttention | None
    lag_bias: jax.Array | None
    w_out: jax.Array
    b_out: jax.Array

    def __init__(self, config: RecurrentConfig, *, key: jax.Array):
        n_layers, hidden = config.n_layers, config.hidden_dim
        keys = jax.random.split(key, 2 * n_layers + 2)
        self.config = config
        self.cells = tuple(
            self.make_cell(config, config.obs_dim if l == 0 else hidden, key=keys[l])
            for l in range(n_layers)
        )
        self.gates = tuple(
            Gate(config.gating, cell.state_size, key=keys[n_layers + l])
            for l, cell in enumerate(self.cells)
        )
        if config.attention:
            self.attention = MultiHeadAttention(hidden, hidden, config.heads, key=keys[-2])
            self.lag_bias = jnp.zeros((config.heads, config.attention_window))
        else:
            self.attention, self.lag_bias = None, None
        self.w_out = READOUT_SCALE * linear_init(keys[-1], hidden, config.obs_dim)
        self.b_out = jnp.zeros(config.obs_dim)

    @classmethod
    def make_cell(cls, config: RecurrentConfig, n_in: int, *, key: jax.Array) -> Cell:
        """One layer's cell for layer inputs of size ``n_in``."""
        return cls.cell_type(n_in, config.hidden_dim, key=key)

    # ------------------------------------------------------------------ the contract
    @property
    def context_length(self) -> int:
        return self.config.context_length

    def init_state(self, context: jax.Array) -> RecurrentState:
        context = context[-self.context_length :]

        def forced(state: RecurrentState, x: jax.Array) -> tuple[RecurrentState, None]:
            return self.force(self.step(state), x, 1.0), None

        state, _ = jax.lax.scan(forced, self.encode(context[0]), context[1:])
        return state

    def step(self, state: RecurrentState, u: jax.Array | None = None) -> RecurrentState:
        if u is not None:
            raise InputError(f"{self.config.name}: this model takes no external input u")
        i = state.x
        layers = []
        for cell, gate, s in zip(self.cells, self.gates, state.layers, strict=True):
            s = gate(s, cell.update(s, i))
            layers.append(s)
            i = cell.output(s)
        memory, filled = state.memory, state.filled
        if self.attention is not None:
            memory = jnp.concatenate([memory[1:], i[None]])
            filled = jnp.concatenate([filled[1:], jnp.ones((1,), filled.dtype)])
            i = i + self.attend(i, memory, filled)
        x_next = state.x + i @ self.w_out + self.b_out
        return RecurrentState(x_next, tuple(layers), memory, filled)

    def observe(self, state: RecurrentState) -> jax.Array:
        return state.x

    def attend(self, h: jax.Array, memory: jax.Array, filled: jax.Array) -> jax.Array:
        """Attention output ``(H,)`` of query ``h`` over ``memory`` ``(K, H)`` (newest last)."""
        k = memory.shape[0]
        lags = (k - 1 - jnp.arange(k))[None]  # slot j lies k-1-j steps behind the query
        bias = relative_bias(self.lag_bias, lags)
        return self.attention(h[None], memory, bias, filled[None] > 0)[0]

    # ------------------------------------------------------------------ teacher forcing
    def encode(self, x: jax.Array) -> RecurrentState:
        """Zero layer states and an empty memory, carrying ``x`` ``(..., N)``."""
        lead = x.shape[:-1]
        layers = tuple(jnp.zeros(lead + (c.state_size,), x.dtype) for c in self.cells)
        if self.attention is None:
            return RecurrentState(x, layers, None, None)
        k, h = self.config.attention_window, self.config.hidden_dim
        return RecurrentState(
            x, layers, jnp.zeros(lead + (k, h), x.dtype), jnp.zeros(lead + (k,), x.dtype)
        )

    def force(self, state: RecurrentState, x: jax.Array, alpha: jax.Array) -> RecurrentState:
        """The carried observation moved a fraction ``alpha`` towards ``x``; the rest is kept."""
        return state._replace(x=(1.0 - alpha) * state.x + alpha * x)
