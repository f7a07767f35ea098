"""Naive forecasting baselines: persistence (last value, optionally with drift), the training mean,
and seasonal naive (Hyndman & Athanasopoulos 2021, "Forecasting: Principles and Practice", 3rd ed.,
§5.2 "Some simple forecasting methods"; the naive forecast is also the MASE denominator).

    persistence:     x_{t+1} = x_t + c            c: mean increment of the training data (drift)
    mean:            x_{t+1} = μ                  μ: mean of the training data
    seasonal naive:  x_{t+1} = x_{t+1-P} + c      c: mean seasonal difference x_t - x_{t-P} (drift)

Each learned constant is the ridge solution on a constant feature (``c = Σ Δ / (K + ridge)``,
:func:`attractor.models.readout.ridge_solve`), i.e. the sample mean shrunk towards 0 by a
negligible ``K / (K + ridge)``. ``drift=False`` gives the textbook naive and seasonal naive
forecasts exactly (``c = 0``, nothing is learned).

Why the drift is on by default: every registered model must change when it is trained and must
return a non-finite forecast when its float parameters are infinite (the contract tests). A model
with no float parameter can do neither, so the registered defaults carry the drift, which is the
standard "naive with drift" / "seasonal naive with drift" baseline; on stationary data it is
``O(range / T)``, i.e. practically the naive forecast.

Contract: the state carries the current observation (persistence, mean) or the window of the last
``P`` observations (seasonal naive, newest last; a shorter context is front-padded with its first
row), so row 0 of a free run is the last context row and the forecast starts at row 1.
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
from attractor.models.features import check_autonomous, no_external_input, window_from_context
from attractor.models.readout import ridge_solve
from attractor.models.registry import Recipe, register

_RECIPE = Recipe(objective="ridge", objective_options={"ridge": 1e-6})


def _constant_fit(values: list[np.ndarray], ridge: float, obs_dim: int) -> np.ndarray:
    """Ridge fit of ``values`` ``(K, N)`` on a constant feature: ``Σ values / (K + ridge)``."""
    y = np.concatenate(values) if values else np.zeros((0, obs_dim))
    return ridge_solve(np.ones((y.shape[0], 1)), y, ridge)[0]


def _arrays(series: list[Any], name: str, minimum: int) -> list[np.ndarray]:
    out = []
    for i, x in enumerate(series):
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] < minimum:
            raise InputError(
                f"{name}: training series {i} has {x.shape[0]} rows; need at least {minimum}"
            )
        out.append(x)
    return out


@dataclasses.dataclass(frozen=True)
class PersistenceConfig(ModelConfig):
    """Persistence; ``drift`` adds the mean training increment each step."""

    name: ClassVar[str] = "persistence"
    drift: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)


@register(
    "persistence",
    family="baseline",
    description="naive forecast: the last value (plus the mean drift), Hyndman & Athanasopoulos",
    recipe=_RECIPE,
)
class Persistence(DynamicsModel, ReadoutOnly):
    """``x_{t+1} = x_t + c``; see the module docstring."""

    config: PersistenceConfig = eqx.field(static=True)
    drift: jax.Array  # (N,)

    def __init__(self, config: PersistenceConfig, *, key: jax.Array):
        del key
        self.config = config
        self.drift = jnp.zeros(config.obs_dim)

    def init_state(self, context: jax.Array) -> State:
        return context[-1]

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        return state + self.drift.astype(state.dtype)

    def observe(self, state: State) -> jax.Array:
        return state

    def fit_readout(self, series: list[Any], ridge: float) -> Persistence:
        if not self.config.drift:
            return self
        arrays = _arrays(series, self.config.name, 2)
        c = _constant_fit([np.diff(x, axis=0) for x in arrays], ridge, self.obs_dim)
        return eqx.tree_at(lambda m: m.drift, self, jnp.asarray(c, self.drift.dtype))


@dataclasses.dataclass(frozen=True)
class MeanConfig(ModelConfig):
    """Mean forecast (no hyperparameters)."""

    name: ClassVar[str] = "mean"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)


@register(
    "mean",
    family="baseline",
    description="mean forecast: the training mean from the first forecast step on",
    recipe=_RECIPE,
)
class Mean(DynamicsModel, ReadoutOnly):
    """``x_{t+1} = μ``; see the module docstring."""

    config: MeanConfig = eqx.field(static=True)
    mean: jax.Array  # (N,)

    def __init__(self, config: MeanConfig, *, key: jax.Array):
        del key
        self.config = config
        self.mean = jnp.zeros(config.obs_dim)

    def init_state(self, context: jax.Array) -> State:
        return context[-1]

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        return self.mean.astype(state.dtype)

    def observe(self, state: State) -> jax.Array:
        return state

    def fit_readout(self, series: list[Any], ridge: float) -> Mean:
        mu = _constant_fit(_arrays(series, self.config.name, 1), ridge, self.obs_dim)
        return eqx.tree_at(lambda m: m.mean, self, jnp.asarray(mu, self.mean.dtype))


@dataclasses.dataclass(frozen=True)
class SeasonalNaiveConfig(ModelConfig):
    """Seasonal naive with period ``P`` (steps); ``drift`` adds the mean seasonal difference."""

    name: ClassVar[str] = "seasonal_naive"
    period: int = 10
    drift: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)


@register(
    "seasonal_naive",
    family="baseline",
    description="seasonal naive: the value one period P ago (plus the mean seasonal drift)",
    recipe=_RECIPE,
)
class SeasonalNaive(DynamicsModel, ReadoutOnly):
    """``x_{t+1} = x_{t+1-P} + c``; see the module docstring."""

    config: SeasonalNaiveConfig = eqx.field(static=True)
    drift: jax.Array  # (N,)

    def __init__(self, config: SeasonalNaiveConfig, *, key: jax.Array):
        del key
        self.config = config
        self.drift = jnp.zeros(config.obs_dim)

    @property
    def context_length(self) -> int:
        return self.config.period

    def init_state(self, context: jax.Array) -> State:
        return window_from_context(context, self.config.period)

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        nxt = state[0] + self.drift.astype(state.dtype)
        return jnp.concatenate([state[1:], nxt[None]], axis=0)

    def observe(self, state: State) -> jax.Array:
        return state[-1]

    def fit_readout(self, series: list[Any], ridge: float) -> SeasonalNaive:
        if not self.config.drift:
            return self
        p = self.config.period
        arrays = _arrays(series, self.config.name, p + 1)
        c = _constant_fit([x[p:] - x[:-p] for x in arrays], ridge, self.obs_dim)
        return eqx.tree_at(lambda m: m.drift, self, jnp.asarray(c, self.drift.dtype))
