"""Teacher-forced one-step loss of a latent model on a batch of subsequences.

For a subsequence ``x_0..x_T`` the latent state starts at ``z_0 = init_state(x_0)``; for
``t = 1..T`` the model predicts ``z_t = F(z_tilde_{t-1})``, the loss compares ``O(z_t)`` with
``x_t``, and the state passed on is the forced ``z_tilde_t = force(z_t, x_t, alpha_t)``
(Hess et al., ICML 2023, §3). The gradient with respect to ``z`` through the forcing is
``(1 - alpha)`` times the upstream gradient, which plain autodiff of the interpolation gives.
The rollout is one ``lax.scan``. For small models :func:`forced_mse` differentiates it with
the hand-written reverse pass of :mod:`attractor.train.adjoint` (same gradient, fewer operations
per reverse step); :func:`forced_predictions` is the plain form that autodiff differentiates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from attractor.models.base import DSRModel
from attractor.train.adjoint import forced_rollout_adjoint, prefer_adjoint


def forced_predictions(model: DSRModel, sequence: jax.Array, alphas: jax.Array) -> jax.Array:
    """Un-forced one-step predictions ``O(z_t)``, ``t = 1..T``, for one sequence ``(T+1, N)``."""

    def body(z_tilde: jax.Array, inputs: tuple[jax.Array, jax.Array]):
        x_t, alpha_t = inputs
        z = model.step(z_tilde)
        return model.force(z, x_t, alpha_t), model.observe(z)

    z0 = model.init_state(sequence[0])
    _, predictions = jax.lax.scan(body, z0, (sequence[1:], alphas))
    return predictions


def forced_mse(
    model: DSRModel, batch: jax.Array, alphas: jax.Array, *, adjoint: bool | None = None
) -> jax.Array:
    """Mean squared error of the forced one-step predictions over a batch ``(B, T+1, N)``.

    ``adjoint``: differentiate with the hand-written reverse pass (``True``) or by autodiff of the
    plain scan (``False``); both give the same gradient. ``None`` picks the faster one for the
    model's size (:func:`attractor.train.adjoint.prefer_adjoint`). The adjoint supports reverse
    mode only: for forward-mode or higher derivatives of the loss (``jax.jvp``, ``jax.hessian``)
    pass ``adjoint=False``.
    """
    if adjoint is None:
        adjoint = prefer_adjoint(model)
    if adjoint:
        predictions = forced_rollout_adjoint(model, batch, alphas)
    else:
        predictions = jax.vmap(forced_predictions, in_axes=(None, 0, None))(model, batch, alphas)
    return jnp.mean((predictions - batch[:, 1:]) ** 2)
