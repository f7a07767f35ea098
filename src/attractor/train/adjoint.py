"""Teacher-forced rollouts with a hand-written reverse pass (discrete adjoint).

Backpropagation through a ``lax.scan`` makes JAX replay, at every one of the ``T`` reverse steps,
the transposed operations of the whole step, including the accumulation of every parameter's
cotangent. For the small latent models of dynamical-systems reconstruction (``M`` of 3 to 50 units
and a batch of 16 sequences) each of those operations is tiny, and the reverse loop's cost is
dominated by the number of operations per iteration rather than by arithmetic.

This module runs the same computation with a shorter sequential part. With ``z~_0 =
encode(x_0)``, ``z_t = F(z~_{t-1})``, the prediction ``O(z_t)`` and ``z~_t = force(z_t, x_t,
alpha_t)`` (Hess et al., ICML 2023), let ``g_t = dL/dO(z_t)`` be the loss's cotangent. The adjoint
states (the total derivatives ``lambda_t = dL/dz_t`` and ``mu_t = dL/dz~_t``) obey the linear
backward recursion

    mu_T = 0,
    lambda_t = O'(z_t)^T g_t + (d force / d z)^T mu_t,
    mu_{t-1} = J_t^T lambda_t,           J_t = dF/dz at z~_{t-1},

which is the only loop of the reverse pass: ``(d force / d z)`` is a diagonal interpolation weight
and the Jacobians ``J_t`` are prepared for all ``(t, b)`` at once before the loop, in the factored
form each model chooses (:meth:`HasJacobian.jacobian_factors`: the full ``M x M`` matrix for a
3-unit shPLRNN, the vector of active-unit slopes for the PLRNN and the AL-RNN), so that each
reverse step is one cheap batched Jacobian-transpose product. That pays off while the per-step
overhead dominates, i.e. for the small models of low-dimensional reconstruction (see
:data:`attractor.train.rollout.ADJOINT_MAX_PARAMETERS`). The parameter gradient is then a single
batched contraction over all time steps, obtained as the gradient of the surrogate

    S(theta) = sum_t <F_theta(z~_{t-1}), lambda_t> + <O_theta(z_t), g_t>
             + <force_theta(z_t, x_t, alpha_t), mu_t> + <encode_theta(x_0), mu_0>

with the states and adjoints held fixed (the standard discrete-adjoint identity). The result is
exactly the gradient of the plain scan (up to floating-point summation order); the tests check it
against autodiff of :func:`attractor.train.loss.forced_predictions` for every registered model.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp


def forced_rollout_adjoint(model, batch: jax.Array, alphas: jax.Array) -> jax.Array:
    """Forced one-step predictions ``(B, T, N)`` of ``batch (B, T+1, N)``; reverse pass by adjoint.

    Same values and gradients as ``vmap(forced_predictions)`` of :mod:`attractor.train.loss`;
    differentiable with respect to the model's parameters, the batch and the forcing weights.
    """
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def combine(p: Any):
        return eqx.combine(p, static)

    @jax.custom_vjp
    def run(params: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        return _forward(combine(params), batch, alphas)[0]

    def run_fwd(params: Any, batch: jax.Array, alphas: jax.Array):
        predictions, z_in, z_out = _forward(combine(params), batch, alphas)
        return predictions, (params, batch, alphas, z_in, z_out)

    def run_bwd(residuals: tuple, g: jax.Array):
        params, batch, alphas, z_in, z_out = residuals
        model = combine(params)
        xs = jnp.swapaxes(batch, 0, 1)  # (T+1, B, N), time-major
        g = jnp.swapaxes(g, 0, 1)  # (T, B, N)
        lam, mu = _adjoints(model, xs, alphas, z_in, z_out, g)
        g_params, g_xs, g_alphas = jax.grad(_surrogate, argnums=(0, 1, 2))(
            params, xs, alphas, static, z_in, z_out, g, lam, mu
        )
        return g_params, jnp.swapaxes(g_xs, 0, 1), g_alphas

    run.defvjp(run_fwd, run_bwd)
    return run(params, batch, alphas)


def _forward(
    model, batch: jax.Array, alphas: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The forced rollout: predictions ``(B, T, N)``, step inputs and outputs ``(T, B, M)``.

    The loop emits only the step outputs ``z_t``; the step inputs ``z~_{t-1}`` are recomputed
    from them after the loop in one batched call of ``force`` (fewer operations per iteration).
    """
    xs = jnp.swapaxes(batch, 0, 1)
    step = jax.vmap(model.step)

    def body(z_tilde: jax.Array, inputs: tuple[jax.Array, jax.Array]):
        x_t, alpha_t = inputs
        z = step(z_tilde)
        return model.force(z, x_t, alpha_t), z

    z0 = model.encode(xs[0])
    _, z_out = jax.lax.scan(body, z0, (xs[1:], alphas))
    forced = jax.vmap(model.force)(z_out[:-1], xs[1:-1], alphas[:-1])
    z_in = jnp.concatenate([z0[None], forced], axis=0)
    return jnp.swapaxes(model.observe(z_out), 0, 1), z_in, z_out


def _adjoints(
    model,
    xs: jax.Array,
    alphas: jax.Array,
    z_in: jax.Array,
    z_out: jax.Array,
    g: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """``lambda_t`` for ``t = 1..T`` and ``mu_t`` for ``t = 0..T`` (time-major, ``(., B, M)``).

    The loop carries and emits only ``mu``; ``lambda`` is recomputed from it after the loop.
    """
    _, observe_vjp = jax.vjp(model.observe, z_out)
    (g_z,) = observe_vjp(g)  # O'(z_t)^T g_t, (T, B, M)
    factors = jax.vmap(jax.vmap(model.jacobian_factors))(z_in)  # J_t in factored form
    pull_back = jax.vmap(model.jacobian_transpose_apply)  # over the batch

    def through_force(g_z_t, z_t, x_t, alpha_t, mu_t):
        _, force_vjp = jax.vjp(lambda z: model.force(z, x_t, alpha_t), z_t)
        return g_z_t + force_vjp(mu_t)[0]

    def body(mu: jax.Array, inputs: tuple) -> tuple[jax.Array, jax.Array]:
        g_z_t, z_t, x_t, alpha_t, factors_t = inputs
        mu_prev = pull_back(factors_t, through_force(g_z_t, z_t, x_t, alpha_t, mu))
        return mu_prev, mu_prev

    mu_last = jnp.zeros_like(z_out[0])
    _, mu_prev = jax.lax.scan(body, mu_last, (g_z, z_out, xs[1:], alphas, factors), reverse=True)
    mu = jnp.concatenate([mu_prev, mu_last[None]], axis=0)  # mu_0 .. mu_T
    lam = jax.vmap(through_force)(g_z, z_out, xs[1:], alphas, mu[1:])
    return lam, mu


def _surrogate(
    params: Any,
    xs: jax.Array,
    alphas: jax.Array,
    static: Any,
    z_in: jax.Array,
    z_out: jax.Array,
    g: jax.Array,
    lam: jax.Array,
    mu: jax.Array,
) -> jax.Array:
    """``S`` of the module docstring: its gradient is the reverse pass's output."""
    model = eqx.combine(params, static)
    step = jax.vmap(jax.vmap(model.step))
    force = jax.vmap(model.force)  # over time; force handles the batch axis itself
    total = jnp.sum(step(z_in) * lam)
    total += jnp.sum(model.observe(z_out) * g)
    total += jnp.sum(force(z_out, xs[1:], alphas) * mu[1:])
    total += jnp.sum(model.encode(xs[0]) * mu[0])
    return total
