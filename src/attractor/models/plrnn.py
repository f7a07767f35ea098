"""The PLRNN (Durstewitz 2017; Koppe et al. 2019), as used for DSR (Hess et al., ICML 2023).

    z_t = A ⊙ z_{t-1} + W relu(z_{t-1}) + h

``A`` is diagonal (a vector) and ``W`` is off-diagonal: its diagonal is masked out in the step, so
it has no effect and receives no gradient. Jacobian ``diag(A) + W diag(z > 0)``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models.observation import Observation, make_observation
from attractor.models.plrnn_family import (
    LatentConfig,
    LatentPLRNN,
    binary_code,
    input_matrix,
    offdiagonal,
    row_matmul,
    talathi_vartak_init,
)
from attractor.models.registry import Recipe, register


@dataclasses.dataclass(frozen=True)
class PLRNNConfig(LatentConfig):
    """PLRNN hyperparameters: ``mean_centered`` uses relu(z - mean(z)) (mcPLRNN)."""

    name: ClassVar[str] = "plrnn"
    mean_centered: bool = False


@register(
    "plrnn",
    family="plrnn",
    description="piecewise-linear RNN (Durstewitz 2017; Koppe et al. 2019)",
    recipe=Recipe(objective="agtf", epochs=800),
)
class PLRNN(LatentPLRNN):
    """Piecewise-linear RNN with diagonal ``A`` and off-diagonal ``W``."""

    config: PLRNNConfig = eqx.field(static=True)
    observation: Observation
    A: jax.Array
    W: jax.Array
    h: jax.Array
    C: jax.Array | None

    def __init__(self, config: PLRNNConfig, *, key: jax.Array):
        k_a, k_obs, k_c = jax.random.split(key, 3)
        self.config = config
        self.A, self.W = talathi_vartak_init(config.latent_dim, key=k_a)
        self.h = jnp.zeros(config.latent_dim)
        self.C = input_matrix(config, config.latent_dim, key=k_c)
        self.observation = make_observation(
            config.observation, config.obs_dim, config.latent_dim, key=k_obs
        )

    def _activation_input(self, z: jax.Array) -> jax.Array:
        return z - jnp.mean(z, axis=-1, keepdims=True) if self.config.mean_centered else z

    def latent_step(self, z: jax.Array) -> jax.Array:
        w_t = offdiagonal(self.W).T
        return self.A * z + row_matmul(jax.nn.relu(self._activation_input(z)), w_t) + self.h

    def jacobian(self, z: jax.Array) -> jax.Array:
        """``diag(A) + W diag(d) C`` (``d``: active units; ``C``: the optional mean-centring)."""
        d = self.jacobian_factors(z)
        slope = offdiagonal(self.W) * d
        if self.config.mean_centered:
            slope = slope - jnp.mean(slope, axis=1, keepdims=True)
        return jnp.diag(self.A) + slope

    def region_code(self, z: jax.Array) -> jax.Array:
        """Which units are active: ``1[c(z) > 0]`` ``(..., M)``."""
        return binary_code(self._activation_input(z) > 0)

    def code_system(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(diag(A) + W diag(code) C, h)`` (``C``: the optional mean-centring)."""
        slope = offdiagonal(self.W) * jnp.asarray(code).astype(self.W.dtype)
        if self.config.mean_centered:
            slope = slope - jnp.mean(slope, axis=1, keepdims=True)
        return jnp.diag(self.A) + slope, self.h

    def jacobian_factors(self, z: jax.Array) -> jax.Array:
        """The active-unit indicator ``d = 1[c(z) > 0]`` (``c``: the optional mean-centring)."""
        return (self._activation_input(z) > 0).astype(z.dtype)

    def jacobian_transpose_apply(self, d: jax.Array, v: jax.Array) -> jax.Array:
        """``J^T v = A v + C (d * (W^T v))`` with ``C = I - 11^T / M`` when mean-centred."""
        u = d * row_matmul(v, offdiagonal(self.W))
        return self.A * v + self._activation_input(u)

    def latent_regularization(self) -> jax.Array:
        return jnp.sum((1.0 - self.A) ** 2) + jnp.sum(offdiagonal(self.W) ** 2) + jnp.sum(self.h**2)
