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

from attractor.models.capabilities import HasJacobian
from attractor.models.observation import Observation, make_observation
from attractor.models.plrnn_family import (
    SMALL_CONTRACTION,
    BoundedDiagonal,
    LatentConfig,
    LatentPLRNN,
    binary_code,
    input_matrix,
    row_matmul,
    talathi_vartak_init,
    uniform,
)
from attractor.models.registry import Recipe, register


@dataclasses.dataclass(frozen=True)
class ShPLRNNConfig(LatentConfig):
    """shPLRNN hyperparameters: ``hidden_dim`` is ``L``; ``clipped`` picks the bounded form;
    ``bounded`` keeps ``max|a_i| < 1`` in training (:class:`BoundedDiagonal`)."""

    name: ClassVar[str] = "shplrnn"
    hidden_dim: int = 50
    clipped: bool = True
    bounded: bool = False


@register(
    "shplrnn",
    family="plrnn",
    description="shallow PLRNN, GTF's model (Hess et al., ICML 2023)",
    recipe=Recipe(objective="agtf", epochs=800, defaults={"hidden_dim": 100}),
)
class ShPLRNN(LatentPLRNN, BoundedDiagonal):
    """Shallow piecewise-linear RNN; see the module docstring for the equations."""

    config: ShPLRNNConfig = eqx.field(static=True)
    observation: Observation
    A: jax.Array
    W1: jax.Array
    W2: jax.Array
    h1: jax.Array
    h2: jax.Array
    C: jax.Array | None

    def __init__(self, config: ShPLRNNConfig, *, key: jax.Array):
        k_a, k_w1, k_w2, k_h2, k_obs, k_c = jax.random.split(key, 6)
        m, l = config.latent_dim, config.hidden_dim
        self.config = config
        self.A, _ = talathi_vartak_init(m, key=k_a)
        self.W1 = uniform(k_w1, (m, l), 1.0 / jnp.sqrt(l))
        self.W2 = uniform(k_w2, (l, m), 1.0 / jnp.sqrt(m))
        self.h1 = jnp.zeros(m)
        self.h2 = uniform(k_h2, (l,), 1.0 / jnp.sqrt(l)) if config.clipped else jnp.zeros(l)
        self.C = input_matrix(config, m, key=k_c)
        self.observation = make_observation(config.observation, config.obs_dim, m, key=k_obs)

    def latent_step(self, z: jax.Array) -> jax.Array:
        return self.A * z + self._hidden(self._pre(z)) @ self.W1.T + self.h1

    def _pre(self, z: jax.Array) -> jax.Array:
        """Hidden pre-activation ``W2 z`` (as a row-vector product, see ``row_matmul``)."""
        return row_matmul(z, self.W2.T)

    def _hidden(self, pre: jax.Array) -> jax.Array:
        hidden = jax.nn.relu(pre + self.h2)
        return hidden - jax.nn.relu(pre) if self.config.clipped else hidden

    def jacobian(self, z: jax.Array) -> jax.Array:
        """Analytic Jacobian ``diag(A) + W1 diag(d) W2`` (d: active-unit indicator).

        Computed as ``d @ P`` with ``P[l] = outer(W1[:, l], W2[l])`` so that a batch of Jacobians
        is one ``(B, L) @ (L, M*M)`` product.
        """
        m = self.config.latent_dim
        d = self._active(self._pre(z))
        outer = jnp.einsum("ml,lk->lmk", self.W1, self.W2).reshape(-1, m * m)
        return jnp.diag(self.A) + (d @ outer).reshape(m, m)

    def _active(self, pre: jax.Array) -> jax.Array:
        """Slope of the hidden layer at pre-activation ``pre``: 1[pre + h2 > 0] (- 1[pre > 0])."""
        d = (pre + self.h2 > 0).astype(pre.dtype)
        return d - (pre > 0).astype(pre.dtype) if self.config.clipped else d

    def jacobian_factors(self, z: jax.Array) -> jax.Array:
        """The full Jacobian for ``M <= SMALL_CONTRACTION`` (9 numbers for M = 3, cheaper to
        apply than two products with the hidden layer), else the hidden slopes ``d`` ``(L,)``."""
        if self.config.latent_dim <= SMALL_CONTRACTION:
            return HasJacobian.jacobian_factors(self, z)
        return self._active(self._pre(z))

    def jacobian_transpose_apply(self, factors: jax.Array, v: jax.Array) -> jax.Array:
        """``J^T v = A v + W2^T (d * (W1^T v))``, or the full ``J^T v`` for small ``M``."""
        if self.config.latent_dim <= SMALL_CONTRACTION:
            return HasJacobian.jacobian_transpose_apply(self, factors, v)
        return self.A * v + (factors * row_matmul(v, self.W1)) @ self.W2

    def region_code(self, z: jax.Array) -> jax.Array:
        """Hidden switches ``1[W2 z + h2 > 0]`` (and ``1[W2 z > 0]`` when clipped) ``(..., L)``
        (``(..., 2L)``)."""
        pre = row_matmul(z, self.W2.T)
        bits = [pre + self.h2 > 0] + ([pre > 0] if self.config.clipped else [])
        return binary_code(jnp.concatenate(bits, axis=-1))

    def code_system(self, code: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(diag(A) + W1 diag(d1 - d2) W2, h1 + W1 (d1 h2))`` for the code ``[d1, d2]`` of
        :meth:`region_code` (``d2 = 0`` when not clipped)."""
        code = jnp.asarray(code).astype(self.A.dtype)
        l = self.config.hidden_dim
        d1 = code[:l]
        d2 = code[l:] if self.config.clipped else jnp.zeros_like(d1)
        jac = jnp.diag(self.A) + (self.W1 * (d1 - d2)) @ self.W2
        return jac, self.h1 + self.W1 @ (d1 * self.h2)

    def latent_regularization(self) -> jax.Array:
        return (
            jnp.sum((1.0 - self.A) ** 2)
            + jnp.sum(self.W1**2)
            + jnp.sum(self.W2**2)
            + jnp.sum(self.h1**2)
            + jnp.sum(self.h2**2)
        )
