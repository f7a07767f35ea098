"""Each model's step against its published equation, written out by hand."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.models import build_model, make_config


def _relu(v):
    return np.maximum(v, 0.0)


def test_shplrnn_clipped_equation() -> None:
    m = build_model(
        make_config("shplrnn", obs_dim=2, latent_dim=3, hidden_dim=4), key=jax.random.PRNGKey(0)
    )
    z = np.array([0.3, -1.2, 0.8], dtype=np.float32)
    a, w1, w2, h1, h2 = (np.asarray(v) for v in (m.A, m.W1, m.W2, m.h1, m.h2))
    expected = a * z + w1 @ (_relu(w2 @ z + h2) - _relu(w2 @ z)) + h1
    np.testing.assert_allclose(m.step(jnp.asarray(z)), expected, rtol=1e-5)


def test_shplrnn_clipped_is_bounded_when_a_is_contracting() -> None:
    m = build_model(
        make_config("shplrnn", obs_dim=2, latent_dim=3, hidden_dim=20), key=jax.random.PRNGKey(1)
    )
    m = jax.tree_util.tree_map(lambda v: v * 5.0 if v.ndim == 2 else v, m)  # strong weights
    traj = m.rollout(jnp.array([50.0, -50.0, 10.0]), 2000)
    assert bool(jnp.all(jnp.isfinite(traj)))
    # |z_t| <= max|A|^t |z_0| + sum ||W1|| ||h2|| / (1 - max|A|): stays bounded.
    assert float(jnp.max(jnp.abs(traj[-100:]))) < float(jnp.max(jnp.abs(traj[:10]))) * 10


def test_plrnn_ignores_diagonal_of_w() -> None:
    m = build_model(make_config("plrnn", obs_dim=2, latent_dim=3), key=jax.random.PRNGKey(0))
    z = jnp.array([0.5, 1.5, -0.5])
    m2 = eqx.tree_at(lambda mod: mod.W, m, m.W + 7.0 * jnp.eye(3))
    np.testing.assert_allclose(m.step(z), m2.step(z), rtol=1e-6)
    a, w, h = np.asarray(m.A), np.asarray(m.W), np.asarray(m.h)
    w = w - np.diag(np.diag(w))
    np.testing.assert_allclose(m.step(z), a * z + w @ _relu(np.asarray(z)) + h, rtol=1e-5)


def test_alrnn_only_last_p_units_are_rectified() -> None:
    m = build_model(
        make_config("alrnn", obs_dim=2, latent_dim=5, n_pwl=2), key=jax.random.PRNGKey(0)
    )
    z = jnp.array([-1.0, -2.0, -3.0, -4.0, 5.0])
    np.testing.assert_allclose(m.activation(z), [-1.0, -2.0, -3.0, 0.0, 5.0])
    codes = m.symbolic_code(jnp.array([[1.0, 1, 1, -1, -1], [0, 0, 0, 1, -1], [0, 0, 0, 1, 1]]))
    np.testing.assert_array_equal(codes, [0, 1, 3])


def test_dendplrnn_basis_expansion() -> None:
    m = build_model(
        make_config("dendplrnn", obs_dim=2, latent_dim=3, n_bases=4, clipped=False),
        key=jax.random.PRNGKey(0),
    )
    z = jnp.array([0.2, -0.7, 1.1])
    alpha, H = np.asarray(m.alpha), np.asarray(m.H)
    expected = np.array([np.sum(alpha * _relu(float(z[i]) - H[i])) for i in range(3)])
    np.testing.assert_allclose(m.basis_expansion(z), expected, rtol=1e-5)
