"""Extended dynamic mode decomposition (EDMD): the linear Koopman baseline (Williams, Kevrekidis &
Rowley 2015, "A data-driven approximation of the Koopman operator: extending dynamic mode
decomposition", J. Nonlinear Sci. 25:1307; with delays: Arbabi & Mezić 2017, SIAM J. Appl. Dyn.
Syst. 16:2096, Hankel DMD).

A dictionary ``ψ`` lifts a window of the last ``d`` observations to

    ψ_t = [1 ⊕] x_t ⊕ x_{t-1} ⊕ … ⊕ x_{t-d+1} [⊕ unique quadratic monomials of those]

and the finite-dimensional Koopman approximation ``K`` ``(D, D)`` evolves it linearly,

    ψ_{t+1} = K ψ_t,        x_t = the ``x_t`` block of ``ψ_t``,

fitted by ridge regression of ``ψ_{t+1}`` on ``ψ_t`` over all training pairs
(:func:`attractor.models.readout.ridge_solve`; with ``ridge = 0`` and only the linear block this
is exactly DMD, Schmid 2010). The constant coordinate is not fitted: its row of ``K`` is ``e_0``,
so the constant stays exactly 1 along a free run. ``K``'s eigenvalues (:meth:`EDMD.eigenvalues`)
approximate Koopman eigenvalues; with a linear dictionary on data of ``x_{t+1} = A x_t`` they are
``A``'s.

This is the Koopman **linear predictor** (Korda & Mezić 2018, Automatica 93:149): the state is the
lifted vector ``ψ_t`` and it is never re-lifted from the prediction (re-lifting every step would
be a nonlinear autoregression: :mod:`attractor.models.nvar`). ``observe`` reads the ``x_t`` block,
which is the last context row exactly after ``init_state``; a context shorter than ``d`` rows is
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
class EDMDConfig(ModelConfig):
    """EDMD dictionary.

    Attributes:
        delays: ``d``, observations in the dictionary (1: the current one only).
        quadratic: add the unique quadratic monomials of the delay vector.
        constant: add the constant observable 1.
    """

    name: ClassVar[str] = "edmd"
    delays: int = 1
    quadratic: bool = False
    constant: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)
        if self.dictionary_size > 20_000:
            raise InputError(
                f"edmd: a dictionary of {self.dictionary_size} observables is too large for a "
                "dense Koopman matrix; lower the delays or drop the quadratic terms"
            )

    @property
    def dictionary_size(self) -> int:
        order = 2 if self.quadratic else 1
        return polynomial_size(self.delays * self.obs_dim, order, self.constant)


@register(
    "edmd",
    family="koopman",
    description="EDMD linear Koopman predictor on a delay/quadratic dictionary (Williams 2015)",
    recipe=Recipe(objective="ridge", objective_options={"ridge": 1e-6}),
)
class EDMD(DynamicsModel, ReadoutOnly):
    """Extended DMD; see the module docstring."""

    config: EDMDConfig = eqx.field(static=True)
    W: jax.Array  # (D, D - constant): ψ_{t+1}[constant:] = W.T ψ_t

    def __init__(self, config: EDMDConfig, *, key: jax.Array):
        del key  # nothing random
        self.config = config
        size = config.dictionary_size
        self.W = jnp.zeros((size, size - int(config.constant)))

    def lift(self, window: Any, xp: Any = jnp) -> Any:
        """The dictionary ``ψ`` ``(..., D)`` of windows ``(..., d, N)`` (NumPy with ``xp=np``)."""
        c = self.config
        lin = delay_vector(window, c.delays, 1, xp)
        return polynomial_features(lin, 2 if c.quadratic else 1, c.constant, xp)

    def koopman_matrix(self) -> jax.Array:
        """``K`` ``(D, D)`` with ``ψ_{t+1} = K ψ_t`` (the constant row is ``e_0``)."""
        k = self.W.T
        if self.config.constant:
            e0 = jnp.zeros((1, k.shape[1]), k.dtype).at[0, 0].set(1.0)
            k = jnp.concatenate([e0, k], axis=0)
        return k

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``K`` (complex, float64), sorted by decreasing modulus."""
        ev = np.linalg.eigvals(np.asarray(self.koopman_matrix(), dtype=np.float64))
        return ev[np.argsort(-np.abs(ev), kind="stable")]

    # ------------------------------------------------------------------ the contract
    @property
    def context_length(self) -> int:
        return self.config.delays

    def init_state(self, context: jax.Array) -> State:
        return self.lift(window_from_context(context, self.config.delays))

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        nxt = state.astype(self.W.dtype) @ self.W
        if self.config.constant:
            nxt = jnp.concatenate([jnp.ones((1,), nxt.dtype), nxt])
        return nxt.astype(state.dtype)

    def observe(self, state: State) -> jax.Array:
        start = int(self.config.constant)
        return state[start : start + self.config.obs_dim]

    # ------------------------------------------------------------------ training
    def fit_readout(self, series: list[Any], ridge: float) -> EDMD:
        """``K`` by ridge regression of ``ψ_{t+1}`` on ``ψ_t`` over every series."""
        d = self.config.delays
        now, nxt = [], []
        for i, x in enumerate(series):
            x = np.asarray(x, dtype=np.float64)
            if x.shape[0] < d + 1:
                raise InputError(
                    f"edmd: training series {i} has {x.shape[0]} rows; {d} delays and one "
                    f"target need at least {d + 1}"
                )
            psi = self.lift(sliding_windows(x, d), np)  # rows d-1 … T-1
            now.append(psi[:-1])
            nxt.append(psi[1:, int(self.config.constant) :])
        w = ridge_solve(np.concatenate(now), np.concatenate(nxt), ridge)
        return eqx.tree_at(lambda m: m.W, self, jnp.asarray(w, self.W.dtype))
