"""Teacher-forced one-step loss of a model on a batch of subsequences.

For a subsequence ``x_0..x_T`` the state starts at ``z_0 = encode(x_0)``; for ``t = 1..T`` the
model predicts ``z_t = F(z_tilde_{t-1})``, the loss compares ``O(z_t)`` with ``x_t``, and the state
passed on is the forced ``z_tilde_t = force(z_t, x_t, alpha_t)`` (Hess et al., ICML 2023, §3).
The gradient with respect to ``z`` through the forcing is ``(1 - alpha)`` times the upstream
gradient, which plain autodiff of the interpolation gives. The rollout is one ``lax.scan``; how it
is differentiated is a :mod:`rollout strategy <attractor.train.rollout>` (the hand-written adjoint
for small models, autodiff otherwise). :func:`forced_predictions` is the plain form.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from attractor.train.rollout import Adjoint, AutoRollout, Rollout, Scan


def forced_predictions(model, sequence: jax.Array, alphas: jax.Array) -> jax.Array:
    """Un-forced one-step predictions ``O(z_t)``, ``t = 1..T``, for one sequence ``(T+1, N)``."""

    def body(z_tilde, inputs: tuple[jax.Array, jax.Array]):
        x_t, alpha_t = inputs
        z = model.step(z_tilde)
        return model.force(z, x_t, alpha_t), model.observe(z)

    z0 = model.encode(sequence[0])
    _, predictions = jax.lax.scan(body, z0, (sequence[1:], alphas))
    return predictions


def forced_mse(
    model,
    batch: jax.Array,
    alphas: jax.Array,
    *,
    adjoint: bool | None = None,
    rollout: Rollout | None = None,
) -> jax.Array:
    """Mean squared error of the forced one-step predictions over a batch ``(B, T+1, N)``.

    ``rollout`` picks the strategy (default :class:`AutoRollout`); ``adjoint=True/False`` is a
    shorthand for :class:`Adjoint` / :class:`Scan`. The adjoint supports reverse mode only: for
    forward-mode or higher derivatives of the loss (``jax.jvp``, ``jax.hessian``) use the scan.
    """
    if rollout is None:
        rollout = AutoRollout() if adjoint is None else (Adjoint() if adjoint else Scan())
    predictions = rollout.predictions(model, batch, alphas)
    return jnp.mean((predictions - batch[:, 1:]) ** 2)
