"""What the PLRNN family (PLRNN, dendPLRNN, shPLRNN, AL-RNN) shares.

Every member is a latent model ``z_t = F(z_{t-1}) + C u_t`` with a flat latent state ``z`` of
``M`` units, an observation model (:mod:`attractor.models.observation`) and every capability:
teacher forcing through the observation model, an analytic Jacobian (and a factored transpose
product for the adjoint reverse pass), piecewise-linear subregions and an L2 penalty. A member only
writes its latent map :meth:`LatentPLRNN.latent_step`, its Jacobian and its region code.

The state is inferred from the **last** row of the context (``init_state(context) =
encode(context[-1])``), as in the GTF papers; older rows are ignored (``context_length == 1``).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.base import DynamicsModel, ModelConfig
from attractor.models.capabilities import (
    Constrained,
    PiecewiseLinear,
    Regularized,
    TeacherForceable,
)
from attractor.models.observation import Observation


@dataclasses.dataclass(frozen=True)
class LatentConfig(ModelConfig):
    """Hyperparameters of a latent model.

    Attributes:
        latent_dim: ``M``, dimension of the latent state.
        observation: ``"identity"`` (read out the first N units) or ``"affine"``.
    """

    name: ClassVar[str] = "latent"
    latent_dim: int = 3
    observation: str = "identity"


class LatentPLRNN(DynamicsModel, TeacherForceable, PiecewiseLinear, Regularized):
    """Common surface of the PLRNN family; subclasses write :meth:`latent_step`."""

    config: eqx.AbstractVar[LatentConfig]
    observation: eqx.AbstractVar[Observation]
    C: eqx.AbstractVar[jax.Array | None]

    @abc.abstractmethod
    def latent_step(self, z: jax.Array) -> jax.Array:
        """The autonomous latent map ``F``: ``(M,) -> (M,)``."""

    # ------------------------------------------------------------------ the contract
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def init_state(self, context: jax.Array) -> jax.Array:
        return self.encode(context[-1])

    def step(self, z: jax.Array, u: jax.Array | None = None) -> jax.Array:
        z_next = self.latent_step(z)
        if u is None:
            return z_next
        if self.C is None:
            raise InputError(f"{self.config.name}: an input u needs input_dim > 0 in the config")
        return z_next + u @ self.C.T

    def observe(self, z: jax.Array) -> jax.Array:
        return self.observation.observe(z)

    def observe_many(self, states: jax.Array) -> jax.Array:
        return self.observation.observe(states)

    # ------------------------------------------------------------------ capabilities
    def encode(self, x: jax.Array) -> jax.Array:
        return self.observation.init_state(x)

    def force(self, z: jax.Array, x: jax.Array, alpha: jax.Array) -> jax.Array:
        return self.observation.force(z, x, alpha)

    def jacobian(self, z: jax.Array) -> jax.Array:
        """``dF/dz`` at ``z`` ``(M, M)`` (autodiff unless a member writes it out)."""
        return jax.jacfwd(self.latent_step)(z)

    def regularization(self) -> jax.Array:
        """Observation-model penalty (zero for the identity model)."""
        return self.observation.regularization()

    def predict_ahead(self, x: jax.Array, n: int) -> jax.Array:
        """``n``-step-ahead predictions from each row of ``x`` ``(K, N) -> (K, N)``."""

        def one(x0: jax.Array) -> jax.Array:
            z = jax.lax.fori_loop(0, n, lambda _, z: self.latent_step(z), self.encode(x0))
            return self.observe(z)

        return jax.vmap(one)(x)


def input_matrix(config: ModelConfig, latent_dim: int, *, key: jax.Array) -> jax.Array | None:
    """``C`` ``(M, input_dim)`` of the input term ``C u_t``, or ``None`` without inputs."""
    if config.input_dim == 0:
        return None
    return uniform(key, (latent_dim, config.input_dim), 1.0 / jnp.sqrt(config.input_dim))


#: A ``bounded`` model keeps every ``|a_i|`` at or below this during training.
A_LIMIT = 1.0 - 1e-3


class BoundedDiagonal(Constrained):
    """A diagonal ``A`` kept inside ``[-A_LIMIT, A_LIMIT]`` when the config sets ``bounded``.

    The clipped shPLRNN and dendPLRNN add a bounded nonlinearity to ``A ⊙ z``, so every orbit
    stays bounded when ``max|a_i| < 1`` (Hess et al., ICML 2023; Brenner et al., ICML 2022).
    Gradient steps do not respect that; with ``bounded`` training projects ``A`` back after
    every update, so no free run of the trained model can diverge. Without clipping the bound
    constrains ``A`` but guarantees nothing. A subclass has a diagonal ``A`` field and a config
    with ``bounded`` (``A`` is not declared here: a declared field would come first in the
    subclass's field order, which is the leaf order of saved models).
    """

    def project(self) -> BoundedDiagonal:
        a = self.A  # type: ignore[attr-defined]
        if not self.config.bounded or a is None:  # type: ignore[attr-defined]
            return self
        return eqx.tree_at(lambda m: m.A, self, jnp.clip(a, -A_LIMIT, A_LIMIT))


def binary_code(active: jax.Array) -> jax.Array:
    """Region code from boolean switches ``(..., K)``: int8 zeros and ones."""
    return active.astype(jnp.int8)


def talathi_vartak_init(latent_dim: int, *, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Initial ``A`` (diagonal, as a vector) and off-diagonal ``W`` (Talathi & Vartak 2016).

    ``K = R^T R / M + I`` with ``R ~ N(0, 1)``, normalised by its largest eigenvalue; ``A`` is its
    diagonal and ``W`` its off-diagonal part. Used by the PLRNN family (Hess et al. 2023).
    """
    r = jax.random.normal(key, (latent_dim, latent_dim))
    k = r.T @ r / latent_dim + jnp.eye(latent_dim)
    k = k / jnp.max(jnp.linalg.eigvalsh(k))
    a = jnp.diag(k)
    w = k - jnp.diag(a)
    return a, w


#: Contraction sizes up to this are computed by :func:`row_matmul` as unrolled multiply-adds.
SMALL_CONTRACTION = 8


def row_matmul(x: jax.Array, w_t: jax.Array) -> jax.Array:
    """``x @ w_t`` for row vectors ``x (..., K)`` and ``w_t (K, N)``, fast for tiny ``K``.

    For ``K <= SMALL_CONTRACTION`` (e.g. the 3 latent units of a Lorenz-63 model) the product is
    written as ``K`` broadcast multiply-adds, which XLA fuses with the elementwise operations
    around it into one loop; inside a ``lax.scan`` over time this saves a matrix-multiply call
    per step (about a third of a small shPLRNN's forward time on CPU). Larger ``K`` use ``@``.
    The models write all their products in this row-vector form (``z @ W^T``, not ``W @ z``):
    under ``vmap`` it batches into ``(B, K) @ (K, N)`` with the batch leading, which XLA's CPU
    backend runs several times faster at these sizes than the transposed layout of ``W @ z``.
    """
    k = w_t.shape[0]
    if k > SMALL_CONTRACTION:
        return x @ w_t
    out = x[..., 0:1] * w_t[0]
    for i in range(1, k):
        out = out + x[..., i : i + 1] * w_t[i]
    return out


def offdiagonal(w: jax.Array) -> jax.Array:
    """``w`` with its diagonal zeroed: the PLRNN's off-diagonal coupling (Durstewitz 2017)."""
    return w * (1.0 - jnp.eye(w.shape[0], dtype=w.dtype))


def uniform(key: jax.Array, shape: tuple[int, ...], bound: float) -> jax.Array:
    """``U(-bound, bound)`` samples."""
    return jax.random.uniform(key, shape, minval=-bound, maxval=bound)
