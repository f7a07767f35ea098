"""Dendritic PLRNN (dendPLRNN), plain and clipped (Brenner et al., ICML 2022, "Tractable
Dendritic RNNs for Reconstructing Nonlinear Dynamical Systems").

    z_t = A ⊙ z_{t-1} + W φ(z_{t-1}) + h
    φ(z)_m = Σ_b α_b relu(z_m - H_{m,b})                     (plain)
    φ(z)_m = Σ_b α_b [relu(z_m - H_{m,b}) - relu(z_m)]       (clipped; bounded if max|A| < 1)

``α`` (``B`` bases) is shared across units, ``H`` is ``(M, B)``; ``W`` is off-diagonal.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models.observation import Observation, make_observation
from attractor.models.plrnn_family import (
    BoundedDiagonal,
    LatentConfig,
    LatentPLRNN,
    binary_code,
    input_matrix,
    offdiagonal,
    row_matmul,
    talathi_vartak_init,
    uniform,
)
from attractor.models.registry import Recipe, register


@dataclasses.dataclass(frozen=True)
class DendPLRNNConfig(LatentConfig):
    """dendPLRNN hyperparameters: ``n_bases`` is ``B``; ``clipped`` picks the bounded form;
    ``bounded`` keeps ``max|a_i| < 1`` in training (:class:`BoundedDiagonal`)."""

    name: ClassVar[str] = "dendplrnn"
    n_bases: int = 20
    clipped: bool = True
    bounded: bool = False


@register(
    "dendplrnn",
    family="plrnn",
    description="dendritic PLRNN, spline basis expansion (Brenner et al., ICML 2022)",
    recipe=Recipe(objective="agtf", epochs=800),
)
class DendPLRNN(LatentPLRNN, BoundedDiagonal):
    """PLRNN with a linear spline basis expansion of each unit's activation."""

    config: DendPLRNNConfig = eqx.field(static=True)
    observation: Observation
    A: jax.Array
    W: jax.Array
    h: jax.Array
    alpha: jax.Array
    H: jax.Array
    C: jax.Array | None

    def __init__(self, config: DendPLRNNConfig, *, key: jax.Array):
        k_a, k_alpha, k_h, k_obs, k_c = jax.random.split(key, 5)
        m, b = config.latent_dim, config.n_bases
        self.config = config
        self.A, self.W = talathi_vartak_init(m, key=k_a)
        self.h = jnp.zeros(m)
        self.alpha = uniform(k_alpha, (b,), 1.0 / jnp.sqrt(b))
        self.H = jax.random.normal(k_h, (m, b))
        self.C = input_matrix(config, m, key=k_c)
        self.observation = make_observation(config.observation, config.obs_dim, m, key=k_obs)

    def basis_expansion(self, z: jax.Array) -> jax.Array:
        """φ(z), shape ``(M,)``."""
        bases = jax.nn.relu(z[:, None] - self.H)
        if self.config.clipped:
            bases = bases - jax.nn.relu(z)[:, None]
        return bases @ self.alpha

    def latent_step(self, z: jax.Array) -> jax.Array:
        return self.A * z + row_matmul(self.basis_expansion(z), offdiagonal(self.W).T) + self.h

    def jacobian(self, z: jax.Array) -> jax.Array:
        """``diag(A) + W diag(φ'(z))``."""
        return jnp.diag(self.A) + offdiagonal(self.W) * self.jacobian_factors(z)

    def region_code(self, z: jax.Array) -> jax.Array:
        """Which spline kinks each unit has passed: ``1[z_m > H_mb]`` (and ``1[z_m > 0]`` when
        clipped), flattened to ``(..., M*B)`` (``(..., M*(B+1))``)."""
        bits = z[..., :, None] > self.H
        if self.config.clipped:
            bits = jnp.concatenate([bits, (z > 0)[..., :, None]], axis=-1)
        return binary_code(bits.reshape(*z.shape[:-1], -1))

    def code_system(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(diag(A) + W diag(φ'), h + W φ0)`` for the kink pattern ``code`` of
        :meth:`region_code`, where ``φ(z) = φ' ⊙ z + φ0`` inside the region."""
        m, b = self.config.latent_dim, self.config.n_bases
        bits = jnp.asarray(code).astype(self.A.dtype).reshape(m, -1)
        kinks = bits[:, :b]
        slope = kinks - bits[:, b:] if self.config.clipped else kinks
        offset = -(kinks * self.H) @ self.alpha
        w = offdiagonal(self.W)
        return jnp.diag(self.A) + w * (slope @ self.alpha), self.h + w @ offset

    def jacobian_factors(self, z: jax.Array) -> jax.Array:
        """φ'(z), shape ``(M,)``: the slope of each unit's spline at its current value."""
        slopes = (z[:, None] > self.H).astype(z.dtype)
        if self.config.clipped:
            slopes = slopes - (z > 0).astype(z.dtype)[:, None]
        return slopes @ self.alpha

    def jacobian_transpose_apply(self, slope: jax.Array, v: jax.Array) -> jax.Array:
        """``J^T v = A v + φ'(z) * (W^T v)``."""
        return self.A * v + slope * row_matmul(v, offdiagonal(self.W))

    def latent_regularization(self) -> jax.Array:
        return jnp.sum((1.0 - self.A) ** 2) + jnp.sum(offdiagonal(self.W) ** 2) + jnp.sum(self.h**2)
