"""Shallow PLRNN (shPLRNN), plain and clipped (Hess et al., ICML 2023, "Generalized Teacher Forcing
for Learning Chaotic Dynamics").

    z_t = A ⊙ z_{t-1} + W1 relu(W2 z_{t-1} + h2) + h1                      (plain)
    z_t = A ⊙ z_{t-1} + W1 [relu(W2 z_{t-1} + h2) - relu(W2 z_{t-1})] + h1  (clipped)

``A`` is diagonal (a vector), ``W1`` is ``(M, L)``, ``W2`` is ``(L, M)``. The clipped form keeps
orbits bounded whenever ``max|A| < 1``; it is the default, as in the paper's runs.
Parameter count: ``2 M L + 2 M + L`` plus the observation model.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models.base import DSRModel, ModelConfig, talathi_vartak_init, uniform
from attractor.models.observation import Observation, make_observation


@dataclasses.dataclass(frozen=True)
class ShPLRNNConfig(ModelConfig):
    """shPLRNN hyperparameters: ``hidden_dim`` is ``L``; ``clipped`` picks the bounded form."""

    name: ClassVar[str] = "shplrnn"
    hidden_dim: int = 50
    clipped: bool = True


class ShPLRNN(DSRModel):
    """Shallow piecewise-linear RNN; see the module docstring for the equations."""

    config: ShPLRNNConfig = eqx.field(static=True)
    observation: Observation
    A: jax.Array
    W1: jax.Array
    W2: jax.Array
    h1: jax.Array
    h2: jax.Array

    def __init__(self, config: ShPLRNNConfig, *, key: jax.Array):
        k_a, k_w1, k_w2, k_h2, k_obs = jax.random.split(key, 5)
        m, l = config.latent_dim, config.hidden_dim
        self.config = config
        self.A, _ = talathi_vartak_init(m, key=k_a)
        self.W1 = uniform(k_w1, (m, l), 1.0 / jnp.sqrt(l))
        self.W2 = uniform(k_w2, (l, m), 1.0 / jnp.sqrt(m))
        self.h1 = jnp.zeros(m)
        self.h2 = uniform(k_h2, (l,), 1.0 / jnp.sqrt(l)) if config.clipped else jnp.zeros(l)
        self.observation = make_observation(config.observation, config.obs_dim, m, key=k_obs)

    def step(self, z: jax.Array) -> jax.Array:
        pre = self.W2 @ z
        hidden = jax.nn.relu(pre + self.h2)
        if self.config.clipped:
            hidden = hidden - jax.nn.relu(pre)
        return self.A * z + self.W1 @ hidden + self.h1

    def jacobian(self, z: jax.Array) -> jax.Array:
        """Analytic Jacobian ``diag(A) + W1 diag(d) W2`` (d: active-unit indicator)."""
        pre = self.W2 @ z
        d = (pre + self.h2 > 0).astype(z.dtype)
        if self.config.clipped:
            d = d - (pre > 0).astype(z.dtype)
        return jnp.diag(self.A) + (self.W1 * d) @ self.W2

    def latent_regularization(self) -> jax.Array:
        return (
            jnp.sum((1.0 - self.A) ** 2)
            + jnp.sum(self.W1**2)
            + jnp.sum(self.W2**2)
            + jnp.sum(self.h1**2)
            + jnp.sum(self.h2**2)
        )
