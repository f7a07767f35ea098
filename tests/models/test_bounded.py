"""Bounded clipped PLRNNs: ``max|a_i| < 1`` kept in training, and the orbit bound it gives."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.models import build_model, make_config
from attractor.models.capabilities import Constrained
from attractor.models.plrnn_family import A_LIMIT
from attractor.train import TrainConfig, make_objective, train


def _shplrnn(bounded: bool, a: float, *, scale: float = 1.0, seed: int = 0):
    cfg = make_config("shplrnn", obs_dim=2, latent_dim=4, hidden_dim=16, bounded=bounded)
    model = build_model(cfg, key=jax.random.PRNGKey(seed))
    model = eqx.tree_at(lambda m: m.A, model, jnp.full(4, a))
    return eqx.tree_at(lambda m: (m.W1, m.h2), model, (scale * model.W1, scale * model.h2))


@pytest.mark.parametrize("name", ["shplrnn", "dendplrnn"])
def test_project_clamps_A_only_when_bounded(name: str) -> None:
    for bounded in (True, False):
        cfg = make_config(name, obs_dim=2, latent_dim=3, bounded=bounded)
        model = build_model(cfg, key=jax.random.PRNGKey(0))
        assert isinstance(model, Constrained)
        model = eqx.tree_at(lambda m: m.A, model, jnp.array([1.5, -1.2, 0.3]))
        projected = np.asarray(model.project().A)
        expected = [A_LIMIT, -A_LIMIT, 0.3] if bounded else [1.5, -1.2, 0.3]
        np.testing.assert_allclose(projected, expected, rtol=1e-6)


def test_training_keeps_A_inside_the_bound() -> None:
    """A model started outside the bound is inside it after the first update, and stays."""
    t = np.arange(600) * 0.1
    data = np.stack([np.sin(t), np.cos(t)], axis=1).astype(np.float32)
    config = TrainConfig(epochs=3, batches_per_epoch=5, batch_size=8, lr_start=1e-3, lr_end=1e-3)
    gtf = make_objective("gtf", alpha=0.2, seq_len=20)
    for bounded in (True, False):
        result = train(_shplrnn(bounded, 1.3), data, gtf, config=config, key=jax.random.PRNGKey(1))
        a_max = float(np.max(np.abs(np.asarray(result.model.A))))
        if bounded:
            assert a_max <= A_LIMIT + 1e-7
        else:  # a small learning rate cannot bring 1.3 below 1 in 15 updates
            assert a_max > 1.2


def test_clipped_orbits_obey_the_analytic_bound() -> None:
    """|z_i| <= max(|z0_i|, b_i / (1 - |a_i|)) with b_i = |h1_i| + Σ_l |W1_il| |h2_l|: the clipped
    nonlinearity relu(x + h2) - relu(x) never exceeds |h2| in size (Hess et al., ICML 2023)."""
    model = _shplrnn(True, 0.99, scale=30.0).project()
    a = np.abs(np.asarray(model.A, np.float64))
    b = np.abs(np.asarray(model.h1)) + np.abs(np.asarray(model.W1)) @ np.abs(np.asarray(model.h2))
    z0 = jnp.full(4, 5.0)

    def step(z, _):
        z = model.latent_step(z)
        return z, z

    _, orbit = jax.lax.scan(step, z0, None, length=20_000)
    orbit = np.asarray(orbit, np.float64)
    assert np.all(np.isfinite(orbit))
    bound = np.maximum(np.abs(np.asarray(z0)), b / (1.0 - a))
    assert np.all(np.abs(orbit).max(axis=0) <= bound * (1 + 1e-4))
    # the same weights with a_i above 1 escape every bound
    unbounded = eqx.tree_at(lambda m: m.A, model, jnp.full(4, 1.05))
    z = unbounded.latent_step(z0)
    for _ in range(400):
        z = unbounded.latent_step(z)
    assert float(jnp.max(jnp.abs(z))) > 1e3 * float(np.max(bound))
