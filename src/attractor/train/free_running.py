"""Free-running multi-step objective: warm up on data, then predict a horizon in closed loop.

For a window ``x_0..x_{W+H-1}`` the model warms up on the first ``W`` rows
(``s = init_state(x_{0..W-1})``), runs ``H`` steps on its own outputs, and the loss is the mean
squared error against ``x_W..x_{W+H-1}``. The gradient is backpropagation through the whole closed
loop (BPTT), as used to train forecasters on multi-step error (e.g. Vlachas et al., Neural
Networks 2020; Gilpin, NeurIPS 2021 benchmarks). It needs only the model contract, so it trains
every registered model that has parameters to train — recurrent, attention-based or latent. On
chaotic data keep the horizon within a few Lyapunov times: the loss landscape of long free runs
is rough (Mikhaeil et al., NeurIPS 2022), which is what teacher forcing avoids.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.train.objective import GradientObjective, register_objective


@dataclasses.dataclass(frozen=True)
class FreeRunning(GradientObjective):
    """Multi-step free-running MSE after a warm-up.

    Attributes:
        warmup: context rows the model warms up on (at least the model's ``context_length`` is
            sensible).
        horizon: closed-loop steps scored per window.
    """

    name: str = dataclasses.field(default="freerun", init=False)
    warmup: int = 20
    horizon: int = 20

    def __post_init__(self) -> None:
        for field in ("warmup", "horizon"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"freerun: {field} must be a positive integer, got {value!r}")

    @property
    def window(self) -> int:
        return self.warmup + self.horizon

    def loss(self, model: Any, batch: jax.Array, state: Any) -> jax.Array:
        def one(sequence: jax.Array) -> jax.Array:
            return model.forecast(sequence[: self.warmup], self.horizon)

        predictions = jax.vmap(one)(batch)
        return jnp.mean((predictions - batch[:, self.warmup :]) ** 2)


register_objective("freerun", FreeRunning)
