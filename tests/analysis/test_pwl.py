"""Exact enumeration and the SCYFI search on piecewise-linear models."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor._precision import float64
from attractor.analysis import (
    CycleSettings,
    FixedPointSettings,
    enumerate_cycles,
    enumerate_fixed_points,
    find_cycles,
    find_fixed_points,
)
from attractor.analysis.flat import to_float64
from attractor.errors import InputError
from attractor.models import build_model, make_config

FROM_BOX = FixedPointSettings(n_starts=384, max_iters=600)


@pytest.mark.parametrize(
    "name, extra",
    [("plrnn", {}), ("plrnn", {"mean_centered": True}), ("shplrnn", {"hidden_dim": 5}),
     ("shplrnn", {"hidden_dim": 5, "clipped": False}), ("alrnn", {"n_pwl": 2}),
     ("dendplrnn", {"n_bases": 3}), ("dendplrnn", {"n_bases": 3, "clipped": False})],
)
def test_code_system_is_the_region_system(name: str, extra: dict) -> None:
    """``code_system(region_code(z))`` is the affine map the step equals around ``z``."""
    model = build_model(make_config(name, obs_dim=3, latent_dim=4, **extra),
                        key=jax.random.PRNGKey(3))
    leaves, treedef = jax.tree_util.tree_flatten(model)
    keys = jax.random.split(jax.random.PRNGKey(4), len(leaves))
    model = jax.tree_util.tree_unflatten(treedef, [
        leaf + 0.3 * jax.random.normal(k, leaf.shape) if isinstance(leaf, jax.Array) else leaf
        for leaf, k in zip(leaves, keys, strict=True)])
    def both(m, z):
        return m.code_system(m.region_code(z)), m.region_system(z)

    with float64():
        z = jnp.asarray(np.random.default_rng(0).normal(size=(5, 4)) * 2)
        (jac, off), (ref_jac, ref_off) = jax.jit(jax.vmap(both, (None, 0)))(to_float64(model), z)
    np.testing.assert_allclose(jac, ref_jac, atol=1e-12)
    np.testing.assert_allclose(off, ref_off, atol=1e-12)


def _random_model(kind: str, seed: int):
    key = jax.random.PRNGKey(seed)
    if kind == "alrnn":
        model = build_model(make_config("alrnn", obs_dim=3, latent_dim=3, n_pwl=2), key=key)
        k1, k2, k3 = jax.random.split(key, 3)
        return eqx_replace(model, A=jax.random.uniform(k1, (3,), minval=0.1, maxval=0.9),
                           W=jax.random.normal(k2, (3, 3)) * 0.6, h=jax.random.normal(k3, (3,)))
    model = build_model(make_config("shplrnn", obs_dim=2, latent_dim=2, hidden_dim=3), key=key)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    return eqx_replace(model, A=jax.random.uniform(k1, (2,), minval=0.1, maxval=0.9),
                       W1=jax.random.normal(k2, (2, 3)), W2=jax.random.normal(k3, (3, 2)),
                       h1=jax.random.normal(k4, (2,)) * 0.5, h2=jax.random.normal(k5, (3,)))


def eqx_replace(model, **fields):
    import equinox as eqx

    for name, value in fields.items():
        model = eqx.tree_at(lambda m, n=name: getattr(m, n), model, value)
    return model


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["alrnn", "shplrnn"]), seed=st.integers(0, 10_000))
def test_enumeration_and_gradient_finder_agree(kind: str, seed: int) -> None:
    """Property: on random AL-RNNs and shPLRNNs, every fixed point exact enumeration finds is
    found by the speed minimisation (started in a box around them), and vice versa."""
    model = _random_model(kind, seed)
    exact = enumerate_fixed_points(model)
    dim = exact.latent.shape[1]
    radius = 1.0 + 1.5 * (np.max(np.abs(exact.latent)) if len(exact) else 1.0)
    box = np.random.default_rng(seed).uniform(-radius, radius, (1024, dim))
    found = find_fixed_points(model, jnp.asarray(box, jnp.float32), settings=FROM_BOX)
    for a, b in ((exact, found), (found, exact)):
        for z in a.latent:
            assert len(b) and np.min(np.linalg.norm(b.latent - z, axis=1)) < 1e-6, (
                f"{kind} seed {seed}: {z} not in {b.latent}")
    for i in range(len(exact)):
        j = int(np.argmin(np.linalg.norm(found.latent - exact.latent[i], axis=1)))
        assert exact.n_unstable[i] == found.n_unstable[j]
        assert exact.region[i] == found.region[j]


def test_planted_two_cycle_is_found(planted_two_cycle) -> None:
    model = planted_two_cycle
    z0 = jnp.array([0.3, -0.2, 0.1], jnp.float32)
    states = np.asarray(model.rollout(z0, 200))
    search = find_cycles(model, 2, states, settings=CycleSettings(n_chains=32, n_inner=20))
    exact = enumerate_cycles(model, 2)
    for table in (search, exact):
        assert table.n_cycles == 1 and len(table) == 2
        np.testing.assert_allclose(np.sort(table.latent[:, 2]), [-1.0, 1.0], atol=1e-9)
        assert np.all(table.stable) and np.all(table.period == 2)
        np.testing.assert_allclose(np.abs(table.eigenvalues[0]).max(), 0.44, atol=1e-9)
        with float64():
            m = to_float64(model)
            z = jnp.asarray(table.latent[0])
            np.testing.assert_allclose(m.step(m.step(z)), z, atol=1e-9)
    # the unstable fixed point z3 = 0.375 (up to the float32 parameters) is not a 2-cycle
    fixed = enumerate_fixed_points(model)
    assert len(fixed) == 1 and abs(fixed.latent[0, 2] - 0.375) < 1e-6
    assert fixed.n_unstable[0] == 1
    assert len(find_cycles(model, 1, states, settings=CycleSettings(n_chains=32))) == 1


def test_tent_map_three_cycles(tent_map) -> None:
    """z -> 1 - 2|z| has 2^3 - 2 = 6 points of least period 3: two 3-cycles, both unstable
    (|slope|^3 = 8)."""
    states = np.random.default_rng(0).uniform(-1, 1, (500, 1))  # float32 orbits collapse to -1
    exact = enumerate_cycles(tent_map, 3)
    search = find_cycles(tent_map, 3, states, settings=CycleSettings(n_chains=64, n_inner=30))
    for table in (exact, search):
        assert table.n_cycles == 2 and len(table) == 6
        assert np.all(table.n_unstable == 1)
        np.testing.assert_allclose(np.abs(table.eigenvalues[:, 0]), 8.0)
        x = table.latent[:, 0]
        for _ in range(3):
            x = 1 - 2 * np.abs(x)
        np.testing.assert_allclose(x, table.latent[:, 0], atol=1e-12)
    np.testing.assert_allclose(np.sort(exact.latent[:, 0]), np.sort(search.latent[:, 0]),
                               atol=1e-12)


def test_enumeration_refuses_too_many_regions_and_smooth_models() -> None:
    model = build_model(make_config("shplrnn", obs_dim=2, hidden_dim=3), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="cycle search"):
        enumerate_fixed_points(model, max_sequences=2**5)  # 2^6 codes
    gru = build_model(make_config("gru", obs_dim=2, hidden_dim=4), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="piecewise_linear"):
        enumerate_fixed_points(gru)
