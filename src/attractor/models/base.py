"""The common surface of every latent recurrent model in attractor.

A model is an :class:`equinox.Module` holding its parameters and a frozen config dataclass. Training
code (:mod:`attractor.train`) and analysis code work on any model with this surface:

- ``init_state(x)``: latent state inferred from one observation ``x`` (shape ``(N,)`` or batched);
- ``step(z)``: one latent step ``z_t = F(z_{t-1})`` (shape ``(M,)``);
- ``observe(z)``: the observation model ``x_hat = O(z)``;
- ``force(z, x, alpha)``: generalized teacher forcing (Hess et al., ICML 2023);
- ``jacobian(z)``: the ``(M, M)`` Jacobian of ``step`` (autodiff unless a model overrides it);
- ``rollout(z0, n)`` / ``simulate(x0, n)``: free-running trajectories, compiled as ``lax.scan``.

Convention: row 0 of ``rollout`` and ``simulate`` is the initial point (``z0``, resp.
``observe(init_state(x0))``), so ``n`` rows cover ``n - 1`` steps.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.observation import Observation


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters shared by all models; subclasses add their own fields.

    Attributes:
        obs_dim: ``N``, dimension of the observed data.
        latent_dim: ``M``, dimension of the latent state.
        observation: ``"identity"`` (read out the first N units) or ``"affine"``.
    """

    name: ClassVar[str] = "base"
    obs_dim: int
    latent_dim: int
    observation: str = "identity"

    def __post_init__(self) -> None:
        for field in ("obs_dim", "latent_dim"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"{self.name}: {field} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.name, **dataclasses.asdict(self)}


class DSRModel(eqx.Module):
    """Abstract latent recurrent model: see the module docstring for the surface."""

    config: eqx.AbstractVar[ModelConfig]
    observation: eqx.AbstractVar[Observation]

    @abc.abstractmethod
    def step(self, z: jax.Array) -> jax.Array:
        """One latent step ``(M,) -> (M,)``."""

    @abc.abstractmethod
    def latent_regularization(self) -> jax.Array:
        """L2 penalty on the latent parameters (``1 - A`` and the weights), a scalar."""

    # ------------------------------------------------------------------ observation surface
    @property
    def obs_dim(self) -> int:
        return self.config.obs_dim

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def observe(self, z: jax.Array) -> jax.Array:
        return self.observation.observe(z)

    def init_state(self, x: jax.Array) -> jax.Array:
        return self.observation.init_state(x)

    def force(self, z: jax.Array, x: jax.Array, alpha: jax.Array) -> jax.Array:
        return self.observation.force(z, x, alpha)

    def jacobian(self, z: jax.Array) -> jax.Array:
        """Jacobian ``dF/dz`` of the latent step at ``z``, shape ``(M, M)``."""
        return jax.jacfwd(self.step)(z)

    def jacobian_factors(self, z: jax.Array) -> Any:
        """What :meth:`jacobian_transpose_apply` needs to form ``J(z)^T v``; default ``J(z)``.

        The adjoint reverse pass of :mod:`attractor.train.adjoint` evaluates this for every state
        of a rollout at once, then applies it step by step. Models whose Jacobian is ``diag(A)``
        plus a structured part override both methods to store only a vector per state (e.g. the
        active-unit indicators) instead of an ``M x M`` matrix.
        """
        return self.jacobian(z)

    def jacobian_transpose_apply(self, factors: Any, v: jax.Array) -> jax.Array:
        """``J(z)^T v`` for ``v`` of shape ``(M,)``, from ``factors = jacobian_factors(z)``."""
        # A multiply-reduce rather than a matrix product: it fuses into one loop under vmap.
        return jnp.sum(factors * v[:, None], axis=0)

    # ------------------------------------------------------------------ free running
    def rollout(self, z0: jax.Array, n: int) -> jax.Array:
        """Latent trajectory of ``n`` rows starting with ``z0`` (row 0 is ``z0``)."""

        def body(z: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
            z_next = self.step(z)
            return z_next, z_next

        _, zs = jax.lax.scan(body, z0, None, length=n - 1)
        return jnp.concatenate([z0[None], zs], axis=0)

    def simulate(self, x0: jax.Array, n: int) -> jax.Array:
        """Observed trajectory of ``n`` rows from ``x0``; row 0 is ``O(init_state(x0))``."""
        return self.observe(self.rollout(self.init_state(x0), n))

    def predict_ahead(self, x: jax.Array, n: int) -> jax.Array:
        """``n``-step-ahead predictions from each row of ``x`` ``(K, N) -> (K, N)``."""

        def one(x0: jax.Array) -> jax.Array:
            z = jax.lax.fori_loop(0, n, lambda _, z: self.step(z), self.init_state(x0))
            return self.observe(z)

        return jax.vmap(one)(x)

    def regularization(self) -> jax.Array:
        """Observation-model penalty (zero for the identity model)."""
        return self.observation.regularization()


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
