"""Almost-linear RNN (AL-RNN; Brenner et al., NeurIPS 2024, "Almost-Linear RNNs Yield Highly
Interpretable Symbolic Codes in
Dynamical Systems Reconstruction").

    z_t = A ⊙ z_{t-1} + W Φ*(z_{t-1}) + h,
    Φ*(z) = [z_1, ..., z_{M-P}, relu(z_{M-P+1}), ..., relu(z_M)]

Only the last ``P`` units are piecewise linear, so the state space splits into at most ``2^P``
linear subregions; the symbolic code of a state is the bit pattern ``z_p > 0`` of those units.
``W`` is a full ``M x M`` matrix initialised ``N(0, 0.01^2)``; ``h = 0``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.observation import Observation, make_observation
from attractor.models.plrnn_family import (
    LatentConfig,
    LatentPLRNN,
    binary_code,
    input_matrix,
    row_matmul,
    talathi_vartak_init,
)
from attractor.models.registry import Recipe, register


@dataclasses.dataclass(frozen=True)
class ALRNNConfig(LatentConfig):
    """AL-RNN hyperparameters: ``n_pwl`` is ``P``, the number of ReLU units (the last P)."""

    name: ClassVar[str] = "alrnn"
    non_negative: ClassVar[tuple[str, ...]] = ("input_dim", "n_pwl")
    n_pwl: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.n_pwl <= self.latent_dim:
            raise InputError(
                f"alrnn: n_pwl (P) must lie in [0, latent_dim={self.latent_dim}], got {self.n_pwl}"
            )


@register(
    "alrnn",
    family="plrnn",
    description="almost-linear RNN, symbolic codes (Brenner et al., NeurIPS 2024)",
    # The AL-RNN reference recipe trains longer and does not clip; clipping measurably hurt it in
    # our runs (BENCHMARKS.md, issue 3).
    recipe=Recipe(objective="agtf", epochs=2000, grad_clip=None, defaults={"latent_dim": 20}),
)
class ALRNN(LatentPLRNN):
    """Almost-linear RNN; see the module docstring for the equations."""

    config: ALRNNConfig = eqx.field(static=True)
    observation: Observation
    A: jax.Array
    W: jax.Array
    h: jax.Array
    C: jax.Array | None

    def __init__(self, config: ALRNNConfig, *, key: jax.Array):
        k_a, k_w, k_obs, k_c = jax.random.split(key, 4)
        m = config.latent_dim
        self.config = config
        self.A, _ = talathi_vartak_init(m, key=k_a)
        self.W = 0.01 * jax.random.normal(k_w, (m, m))
        self.h = jnp.zeros(m)
        self.C = input_matrix(config, m, key=k_c)
        self.observation = make_observation(config.observation, config.obs_dim, m, key=k_obs)

    def _pwl_mask(self, dtype: jnp.dtype) -> jax.Array:
        m, p = self.config.latent_dim, self.config.n_pwl
        return (jnp.arange(m) >= m - p).astype(dtype)

    def activation(self, z: jax.Array) -> jax.Array:
        """Φ*(z): identity on the first M-P units, relu on the last P."""
        mask = self._pwl_mask(z.dtype)
        return mask * jax.nn.relu(z) + (1.0 - mask) * z

    def latent_step(self, z: jax.Array) -> jax.Array:
        return self.A * z + row_matmul(self.activation(z), self.W.T) + self.h

    def _slope(self, z: jax.Array) -> jax.Array:
        """Φ*'(z): 1 on the linear units, the indicator ``z > 0`` on the P PWL units."""
        mask = self._pwl_mask(z.dtype)
        return (1.0 - mask) + mask * (z > 0).astype(z.dtype)

    def jacobian(self, z: jax.Array) -> jax.Array:
        """Analytic Jacobian ``diag(A) + W diag(1_{M-P}, z_P > 0)``."""
        return jnp.diag(self.A) + self.W * self._slope(z)

    def jacobian_factors(self, z: jax.Array) -> jax.Array:
        return self._slope(z)

    def jacobian_transpose_apply(self, slope: jax.Array, v: jax.Array) -> jax.Array:
        """``J^T v = A v + slope * (W^T v)``."""
        return self.A * v + slope * row_matmul(v, self.W)

    def region_code(self, z: jax.Array) -> jax.Array:
        """Switches ``1[z_p > 0]`` of the P piecewise-linear units ``(..., P)``."""
        return binary_code(z[..., self.config.latent_dim - self.config.n_pwl :] > 0)

    def code_system(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(diag(A) + W diag(1_{M-P}, code), h)``: the affine map of the region ``code``."""
        slope = jnp.concatenate(
            [jnp.ones(self.config.latent_dim - self.config.n_pwl), jnp.asarray(code)]
        ).astype(self.A.dtype)
        return jnp.diag(self.A) + self.W * slope, self.h

    def symbolic_code(self, z: jax.Array) -> jax.Array:
        """Integer code of the linear subregion of each state: bits ``z_p > 0`` of the P PWL units.

        Accepts ``(M,)`` or ``(T, M)``; returns an int32 scalar or ``(T,)`` array in ``[0, 2^P)``.
        """
        p = self.config.n_pwl
        bits = (z[..., self.config.latent_dim - p :] > 0).astype(jnp.int32)
        return jnp.sum(bits * (2 ** jnp.arange(p, dtype=jnp.int32)), axis=-1)

    def latent_regularization(self) -> jax.Array:
        return jnp.sum((1.0 - self.A) ** 2) + jnp.sum(self.W**2) + jnp.sum(self.h**2)
