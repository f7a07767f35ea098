"""Next-generation reservoir computing: a nonlinear vector autoregression (NG-RC / NVAR) with a
ridge readout (Gauthier, Bollt, Griffith & Barbosa 2021, "Next generation reservoir computing",
Nat. Commun. 12:5564).

    O_lin(t)   = x_t ⊕ x_{t-s} ⊕ … ⊕ x_{t-(k-1)s}                          (k N values)
    O_nonlin   = unique monomials of O_lin of degree 2 … order
    φ_t        = [1 ⊕] O_lin(t) ⊕ O_nonlin(t)
    x_{t+1}    = x_t + Wᵀ φ_t        (increment = True, the paper's setting)
    x_{t+1}    = Wᵀ φ_t              (increment = False)

``k`` delays with stride ``s``, polynomial ``order``. For N = 3, k = 2, order 2 with the constant:
1 + 6 + 21 = 28 features (the paper's Lorenz-63 setting). ``W`` ``(F, N)`` is the only parameter,
fitted by ridge regression (:func:`attractor.models.readout.ridge_solve`, SVD for these small,
ill-conditioned libraries) on the features and targets of every training series, in float64.

Deliberate difference from reservoirpy's ``NVAR(delay, order, strides)``: reservoirpy's nonlinear
part holds the monomials of degree exactly ``order``; here it holds every degree 2 … ``order``
(a full polynomial). For ``order = 2`` (the paper's Lorenz-63 and reservoirpy's notebook) the two
coincide.

Contract: the state is the window of the last ``(k - 1) s + 1`` observations ``(L, N)`` (newest
last) — ``context_length`` — and ``observe`` is its last row. A context shorter than ``L`` is
front-padded with its first row.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError
from attractor.models.base import DynamicsModel, ModelConfig, State
from attractor.models.capabilities import ReadoutOnly
from attractor.models.features import (
    check_autonomous,
    delay_vector,
    no_external_input,
    polynomial_features,
    polynomial_size,
    sliding_windows,
    window_from_context,
)
from attractor.models.readout import ridge_solve
from attractor.models.registry import Recipe, register


@dataclasses.dataclass(frozen=True)
class NVARConfig(ModelConfig):
    """NG-RC hyperparameters.

    Attributes:
        delays: ``k``, number of delayed copies in the linear part (1: the current state only).
        stride: ``s``, steps between delays.
        order: highest monomial degree (1: a linear VAR).
        constant: include the constant feature.
        increment: learn ``x_{t+1} - x_t`` (True, as in the paper) or ``x_{t+1}``.
    """

    name: ClassVar[str] = "nvar"
    delays: int = 2
    stride: int = 1
    order: int = 2
    constant: bool = True
    increment: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)
        if self.n_features > 100_000:
            raise InputError(
                f"nvar: {self.n_features} features (delays {self.delays}, order {self.order}, "
                f"N = {self.obs_dim}) is too many; lower the order or the delays"
            )

    @property
    def window(self) -> int:
        """Rows of the state window: ``(k - 1) s + 1``."""
        return (self.delays - 1) * self.stride + 1

    @property
    def n_features(self) -> int:
        return polynomial_size(self.delays * self.obs_dim, self.order, self.constant)


@register(
    "nvar",
    family="reservoir",
    description="NG-RC: delays + polynomial features, ridge readout (Gauthier et al. 2021)",
    recipe=Recipe(objective="ridge", objective_options={"ridge": 2.5e-6}),
)
class NVAR(DynamicsModel, ReadoutOnly):
    """Next-generation reservoir computer; see the module docstring."""

    config: NVARConfig = eqx.field(static=True)
    W: jax.Array  # (F, N)

    def __init__(self, config: NVARConfig, *, key: jax.Array):
        del key  # nothing random: the readout starts at zero (persistence when increment=True)
        self.config = config
        self.W = jnp.zeros((config.n_features, config.obs_dim))

    def features(self, window: Any, xp: Any = jnp) -> Any:
        """``φ`` ``(..., F)`` of windows ``(..., L, N)`` (NumPy with ``xp=np``)."""
        c = self.config
        lin = delay_vector(window, c.delays, c.stride, xp)
        return polynomial_features(lin, c.order, c.constant, xp)

    # ------------------------------------------------------------------ the contract
    @property
    def context_length(self) -> int:
        return self.config.window

    def init_state(self, context: jax.Array) -> State:
        return window_from_context(context, self.config.window)

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        out = self.features(state).astype(self.W.dtype) @ self.W
        x_next = state[-1] + out if self.config.increment else out
        return jnp.concatenate([state[1:], x_next[None].astype(state.dtype)], axis=0)

    def observe(self, state: State) -> jax.Array:
        return state[-1]

    # ------------------------------------------------------------------ training
    def training_pairs(self, series: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(K, F)`` and targets ``(K, N)`` of every series, in float64."""
        length = self.config.window
        feats, targets = [], []
        for i, x in enumerate(series):
            x = np.asarray(x, dtype=np.float64)
            if x.shape[0] < length + 1:
                raise InputError(
                    f"nvar: training series {i} has {x.shape[0]} rows; the window of "
                    f"{length} rows and one target need at least {length + 1}"
                )
            windows = sliding_windows(x[:-1], length)  # ends at rows L-1 … T-2
            feats.append(self.features(windows, np))
            nxt = x[length:]
            targets.append(nxt - x[length - 1 : -1] if self.config.increment else nxt)
        return np.concatenate(feats), np.concatenate(targets)

    def fit_readout(self, series: list[Any], ridge: float) -> NVAR:
        """``W`` by ridge regression on every (window, next step) pair of every series."""
        w = ridge_solve(*self.training_pairs(series), ridge)
        return eqx.tree_at(lambda m: m.W, self, jnp.asarray(w, self.W.dtype))
