"""Observation models: how latent states map to data, and how data enter the latent space.

Two models from the DSR literature (Hess et al., ICML 2023; Brenner et al., NeurIPS 2024):

- :class:`IdentityObservation`: the first ``N`` latent units are read out, ``x_hat = z[:N]``. The
  initial latent state is ``z_1 = [x_1; L x_1]`` with a learned ``L`` of shape ``(M-N, N)`` when
  ``M > N``. Teacher forcing acts on the first ``N`` units only ("partial forcing").
- :class:`AffineObservation`: ``x_hat = B z`` with ``B`` of shape ``(N, M)``; data enter through the
  pseudo-inverse ``z = B^+ x`` and forcing acts on all units.

Each provides ``observe(z)``, ``init_state(x)`` and ``force(z, x, alpha)``, the generalized
teacher-forcing interpolation ``z_tilde = (1 - alpha) z + alpha z_hat(x)`` (Hess et al. 2023).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError


class IdentityObservation(eqx.Module):
    """Read out the first ``obs_dim`` latent units; a learned map fills the rest at start-up."""

    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)
    fill: jax.Array  # (M - N, N); empty when M == N

    def __init__(self, obs_dim: int, latent_dim: int, *, key: jax.Array):
        if latent_dim < obs_dim:
            raise InputError(
                f"identity observation needs latent_dim >= obs_dim, got latent_dim={latent_dim} "
                f"< obs_dim={obs_dim}; use an affine observation model instead"
            )
        self.obs_dim = obs_dim
        self.latent_dim = latent_dim
        extra = latent_dim - obs_dim
        limit = jnp.sqrt(6.0 / max(extra + obs_dim, 1))  # Glorot uniform
        self.fill = jax.random.uniform(key, (extra, obs_dim), minval=-limit, maxval=limit)

    def observe(self, z: jax.Array) -> jax.Array:
        return z[..., : self.obs_dim]

    def init_state(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([x, x @ self.fill.T], axis=-1)

    def force(self, z: jax.Array, x: jax.Array, alpha: jax.Array) -> jax.Array:
        forced = (1.0 - alpha) * z[..., : self.obs_dim] + alpha * x
        return jnp.concatenate([forced, z[..., self.obs_dim :]], axis=-1)

    def regularization(self) -> jax.Array:
        return jnp.zeros(())


class AffineObservation(eqx.Module):
    """``x_hat = B z``; data enter through the pseudo-inverse of ``B`` (Hess et al. 2023)."""

    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)
    B: jax.Array  # (N, M)

    def __init__(self, obs_dim: int, latent_dim: int, *, key: jax.Array):
        self.obs_dim = obs_dim
        self.latent_dim = latent_dim
        # Kaiming normal with fan-in M.
        self.B = jax.random.normal(key, (obs_dim, latent_dim)) * jnp.sqrt(2.0 / latent_dim)

    def observe(self, z: jax.Array) -> jax.Array:
        return z @ self.B.T

    def init_state(self, x: jax.Array) -> jax.Array:
        return x @ jnp.linalg.pinv(self.B).T

    def force(self, z: jax.Array, x: jax.Array, alpha: jax.Array) -> jax.Array:
        return (1.0 - alpha) * z + alpha * self.init_state(x)

    def regularization(self) -> jax.Array:
        """Condition-number penalty ``(1 - s_max/s_min)^2`` (weighted by the trainer)."""
        s = jnp.linalg.svd(self.B, compute_uv=False)
        return (1.0 - s[0] / s[-1]) ** 2


Observation = IdentityObservation | AffineObservation

OBSERVATIONS = {"identity": IdentityObservation, "affine": AffineObservation}


def make_observation(kind: str, obs_dim: int, latent_dim: int, *, key: jax.Array) -> Observation:
    """Build an observation model by name (``"identity"`` or ``"affine"``)."""
    try:
        cls = OBSERVATIONS[kind]
    except KeyError:
        raise InputError(
            f"unknown observation model {kind!r}; choose one of {sorted(OBSERVATIONS)}"
        ) from None
    return cls(obs_dim, latent_dim, key=key)
