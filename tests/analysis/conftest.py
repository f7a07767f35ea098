"""Fixtures: hand-built models with known fixed points and cycles, for the analysis tests."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.models import build_model, make_config


def with_params(model, **params):
    """``model`` with the named array fields replaced."""
    for name, value in params.items():
        model = eqx.tree_at(lambda m, n=name: getattr(m, n), model, jnp.asarray(value, jnp.float32))
    return model


@pytest.fixture
def two_point_plrnn():
    """PLRNN ``z1' = z1/2 + relu(z2) - 1/2``, ``z2' = z2/2 + relu(z1) - 1/2``.

    By hand (region by region): a stable fixed point at (-1, -1) (all units off, J = I/2) and a
    saddle at (1, 1) (all on, J = [[1/2, 1], [1, 1/2]], eigenvalues 3/2 and -1/2); the mixed
    regions have no fixed point.
    """
    model = build_model(make_config("plrnn", obs_dim=2, latent_dim=2), key=jax.random.PRNGKey(0))
    return with_params(model, A=[0.5, 0.5], W=[[0.0, 1.0], [1.0, 0.0]], h=[-0.5, -0.5])


@pytest.fixture
def planted_two_cycle():
    """AL-RNN (M = 3, P = 1) whose PWL unit z3 follows ``z3' = 0.2 z3 - 2.4 relu(z3) + 1.2``:
    a stable 2-cycle z3 = -1 -> 1 -> -1 (slopes 0.2 and -2.2, product -0.44) and an unstable
    fixed point z3 = 1.2 / 3.2 = 0.375 (slope -2.2); z1, z2 are linear units driven by z3."""
    model = build_model(make_config("alrnn", obs_dim=3, latent_dim=3, n_pwl=1),
                        key=jax.random.PRNGKey(0))
    w = np.zeros((3, 3))
    w[0, 1], w[0, 2] = 0.1, 1.0
    w[1, 2] = 0.5
    w[2, 2] = -2.4
    return with_params(model, A=[0.5, 0.3, 0.2], W=w, h=[0.0, 0.2, 1.2])


@pytest.fixture
def tent_map():
    """AL-RNN (M = P = 1): ``z' = 2 z - 4 relu(z) + 1 = 1 - 2|z|``, the tent map on [-1, 1]."""
    model = build_model(make_config("alrnn", obs_dim=1, latent_dim=1, n_pwl=1),
                        key=jax.random.PRNGKey(0))
    return with_params(model, A=[2.0], W=[[-4.0]], h=[1.0])
