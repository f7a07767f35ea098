"""Teacher forcing: weights, the aGTF update, and the forced loss."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config
from attractor.train.forcing import (
    ForcingConfig,
    forcing_weights,
    jacobian_norm_estimate,
    spectral_norms,
    update_alpha,
)
from attractor.train.loss import forced_mse, forced_predictions


def test_stf_weights_force_every_tau_steps() -> None:
    w = forcing_weights(ForcingConfig(method="stf", tau=3), jnp.asarray(1.0), 10)
    np.testing.assert_array_equal(w, [0, 0, 1, 0, 0, 1, 0, 0, 1, 0])
    g = forcing_weights(ForcingConfig(method="gtf", alpha=0.2), jnp.asarray(0.2), 4)
    np.testing.assert_allclose(g, [0.2] * 4)


def test_bad_forcing_settings() -> None:
    with pytest.raises(InputError, match="--forcing"):
        ForcingConfig(method="tf")
    with pytest.raises(InputError, match="--alpha"):
        ForcingConfig(method="gtf", alpha=1.5)
    with pytest.raises(InputError, match="--tau"):
        ForcingConfig(method="stf", tau=0)


def _linear_plrnn(a: float, latent: int = 3):
    """A PLRNN whose step is z -> a z (W = 0, h = 0): Jacobian a I, spectral norm |a|."""
    m = build_model(
        make_config("plrnn", obs_dim=latent, latent_dim=latent), key=jax.random.PRNGKey(0)
    )
    m = eqx.tree_at(lambda mod: mod.A, m, jnp.full(latent, a))
    return eqx.tree_at(lambda mod: mod.W, m, jnp.zeros((latent, latent)))


def test_jacobian_norm_and_alpha_update() -> None:
    model = _linear_plrnn(2.0)
    batch = jax.random.normal(jax.random.PRNGKey(1), (4, 20, 3))
    for est in ("product_upper_bound", "arithmetic_mean", "batch_maximum"):
        np.testing.assert_allclose(jacobian_norm_estimate(model, batch, est), 2.0, rtol=1e-5)
    cfg = ForcingConfig(method="agtf", gamma=0.9)
    # alpha_est = 1 - 1/2 = 0.5: a larger estimate replaces alpha at once ...
    np.testing.assert_allclose(update_alpha(cfg, jnp.asarray(0.1), model, batch), 0.5, rtol=1e-6)
    # ... a smaller one is approached geometrically: 0.9 * 0.8 + 0.1 * 0.5.
    np.testing.assert_allclose(update_alpha(cfg, jnp.asarray(0.8), model, batch), 0.77, rtol=1e-6)
    # A contracting model needs no forcing: alpha_est = max(0, 1 - 1/0.5) = 0.
    contracting = _linear_plrnn(0.5)
    np.testing.assert_allclose(update_alpha(cfg, jnp.asarray(0.0), contracting, batch), 0.0)


def test_full_forcing_gives_one_step_predictions_from_data() -> None:
    model = build_model(
        make_config("shplrnn", obs_dim=3, latent_dim=3, hidden_dim=8), key=jax.random.PRNGKey(2)
    )
    seq = jax.random.normal(jax.random.PRNGKey(3), (12, 3))
    preds = forced_predictions(model, seq, jnp.ones(11))
    expected = jax.vmap(lambda x: model.observe(model.step(model.encode(x))))(seq[:-1])
    np.testing.assert_allclose(preds, expected, rtol=1e-5, atol=1e-6)


def test_no_forcing_gives_free_run() -> None:
    model = build_model(
        make_config("shplrnn", obs_dim=3, latent_dim=3, hidden_dim=8), key=jax.random.PRNGKey(2)
    )
    seq = jax.random.normal(jax.random.PRNGKey(3), (12, 3))
    preds = forced_predictions(model, seq, jnp.zeros(11))
    np.testing.assert_allclose(preds, model.simulate(seq[0], 12)[1:], rtol=1e-5, atol=1e-6)


def test_loss_gradient_matches_finite_differences() -> None:
    with float64():
        model = build_model(
            make_config("shplrnn", obs_dim=2, latent_dim=3, hidden_dim=5),
            key=jax.random.PRNGKey(4),
        )
        model = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), model)
        batch = jax.random.normal(jax.random.PRNGKey(5), (3, 15, 2), dtype=jnp.float64)
        alphas = jnp.full(14, 0.3)
        params, static = eqx.partition(model, eqx.is_inexact_array)

        def loss(p):
            return forced_mse(eqx.combine(p, static), batch, alphas)

        grads = jax.grad(loss)(params)
        direction = jax.tree_util.tree_map(
            lambda v: jax.random.normal(jax.random.PRNGKey(6), v.shape, v.dtype), params
        )
        eps = 1e-6
        plus = jax.tree_util.tree_map(lambda p, d: p + eps * d, params, direction)
        minus = jax.tree_util.tree_map(lambda p, d: p - eps * d, params, direction)
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        analytic = sum(
            jnp.sum(g * d)
            for g, d in zip(
                jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(direction), strict=True
            )
        )
        np.testing.assert_allclose(float(analytic), float(fd), rtol=1e-6)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_spectral_norms_match_svd(m: int) -> None:
    rng = np.random.default_rng(m)
    special = [np.eye(m), np.zeros((m, m)), np.outer(np.arange(1, m + 1), rng.normal(size=m))]
    if m >= 2:  # repeated largest singular value, and a nearly repeated one
        special += [np.diag([2.0, 2.0] + [1.0] * (m - 2)), np.diag([1.0] * (m - 1) + [1.0 + 1e-7])]
    mats = np.concatenate([rng.normal(size=(200, m, m)) * s for s in (0.1, 1.0, 10.0)])
    mats = np.concatenate([mats, np.stack(special)])
    expected = np.linalg.norm(mats, ord=2, axis=(-2, -1))
    with float64():
        got = spectral_norms(jnp.asarray(mats, jnp.float64))
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    got32 = spectral_norms(jnp.asarray(mats, jnp.float32))
    np.testing.assert_allclose(got32, expected, rtol=2e-6, atol=1e-6)
