"""Fixed points by speed minimisation: analytic answers, pytree states, the table's exports."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.analysis import (
    FixedPointSettings,
    enumerate_fixed_points,
    find_equilibria,
    find_fixed_points,
    trajectory_states,
)
from attractor.analysis.fixed_points import select_points
from attractor.analysis.table import concatenate
from attractor.data.standardize import Standardizer
from attractor.errors import InputError
from attractor.models import build_model, make_config

FAST = FixedPointSettings(n_starts=128, max_iters=500)


def _box(dim: int, n: int, radius: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-radius, radius, (n, dim)).astype(np.float32)


def test_hand_built_plrnn_fixed_points_by_both_methods(two_point_plrnn) -> None:
    expected = np.array([[-1.0, -1.0], [1.0, 1.0]])
    for table in (
        enumerate_fixed_points(two_point_plrnn),
        find_fixed_points(two_point_plrnn, jnp.asarray(_box(2, 256, 3.0)), settings=FAST),
    ):
        order = np.argsort(table.latent[:, 0])
        np.testing.assert_allclose(table.latent[order], expected, atol=1e-9)
        stable, saddle = order
        assert table.stable[stable] and table.n_unstable[stable] == 0
        np.testing.assert_allclose(table.eigenvalues[stable], [0.5, 0.5], atol=1e-9)
        assert not table.stable[saddle] and table.n_unstable[saddle] == 1
        np.testing.assert_allclose(np.sort(table.eigenvalues[saddle].real), [-0.5, 1.5],
                                   atol=1e-9)
        assert table.region[stable] == "00" and table.region[saddle] == "11"
        assert np.all(table.speed < 1e-20)


def test_observations_in_original_units(two_point_plrnn) -> None:
    std = Standardizer().fit(np.array([[0.0, 10.0], [2.0, 14.0]]))  # mean (1, 12), std (1, 2)
    table = enumerate_fixed_points(two_point_plrnn, standardizer=std)
    np.testing.assert_allclose(table.observation, table.observation_standardized * [1, 2] + [1, 12])


@pytest.mark.parametrize("name", [pytest.param("lstm", marks=pytest.mark.slow), "gru"])
def test_gated_rnn_fixed_points_have_zero_speed(name: str) -> None:
    """Pytree states (the carried observation, an LSTM's [h, c]) are flattened; the untrained
    networks have the origin as a fixed point (zero biases but the forget gate's), and every
    point reported is a fixed point of the model's own step."""
    model = build_model(make_config(name, obs_dim=2, hidden_dim=6, context_length=4),
                        key=jax.random.PRNGKey(1))
    context = jnp.asarray(np.random.default_rng(0).normal(size=(4, 4, 2)) * 0.3, jnp.float32)
    states = trajectory_states(model, context, 30)
    settings = FixedPointSettings(n_starts=64, max_iters=800, noise_scale=0.3)
    table = find_fixed_points(model, states, settings=settings)
    assert len(table) >= 1
    assert np.min(np.linalg.norm(table.latent, axis=1)) < 1e-6
    example = jax.tree_util.tree_map(lambda s: s[0], states)
    flat, unravel = jax.flatten_util.ravel_pytree(example)
    assert table.latent.shape[1] == flat.size
    for z in table.latent:
        nxt = jax.flatten_util.ravel_pytree(model.step(unravel(jnp.asarray(z, jnp.float32))))[0]
        np.testing.assert_allclose(np.asarray(nxt), z, atol=1e-5)
    assert np.all(table.speed <= settings.tol_fixed)
    assert table.region is None  # not piecewise linear


def test_lorenz_equilibria_of_the_flow() -> None:
    """The finder on a vector field: Lorenz-63's three equilibria, origin with one unstable
    direction, C± with a complex unstable pair (rho = 28 is past the Hopf point)."""
    s, r, b = 10.0, 28.0, 8.0 / 3.0

    def field(x):
        return jnp.stack([s * (x[1] - x[0]), x[0] * (r - x[2]) - x[1], x[0] * x[1] - b * x[2]])

    starts = np.random.default_rng(0).uniform([-20, -25, 0], [20, 25, 45], (200, 3))
    table = find_equilibria(field, starts, settings=FAST)
    c = np.sqrt(b * (r - 1))
    expected = np.array([[-c, -c, r - 1], [0, 0, 0], [c, c, r - 1]])
    order = np.argsort(table.latent[:, 0])
    np.testing.assert_allclose(table.latent[order], expected, atol=1e-8)
    assert list(table.n_unstable[order]) == [2, 1, 2]
    for i in order[[0, 2]]:
        assert abs(table.eigenvalues[i][0].imag) > 1 and table.eigenvalues[i][0].real > 0


def test_outliers_and_slow_points_follow_the_settings() -> None:
    starts = np.random.default_rng(0).normal(size=(100, 2)) * 0.1  # mean distance ~0.125
    z = np.array([[0.0, 0.0], [0.5, 0.0], [5.0, 0.0], [0.0, 1e-9]])
    q = np.array([0.0, 1e-6, 0.0, 0.0])
    idx, fixed = select_points(z, q, starts, FixedPointSettings())
    assert list(idx) == [0]  # (5, 0) is an outlier, (0, 1e-9) a duplicate, (0.5, 0) too slow
    idx, fixed = select_points(z, q, starts, FixedPointSettings(outlier_scale=None,
                                                                keep_slow=True))
    assert sorted(idx) == [0, 1, 2] and list(fixed[np.argsort(idx)]) == [True, False, True]


def test_settings_are_validated() -> None:
    with pytest.raises(InputError, match="normalization"):
        FixedPointSettings(normalization="max")
    with pytest.raises(InputError, match="n_starts"):
        FixedPointSettings(n_starts=0)


def test_table_exports(two_point_plrnn, tmp_path) -> None:
    table = enumerate_fixed_points(two_point_plrnn)
    doc = json.loads(json.dumps(table.to_dict()))
    point = doc["points"][0]
    assert {"latent", "observation", "observation_standardized", "eigenvalues", "n_unstable",
            "stable", "speed", "region"} <= set(point)
    assert len(point["eigenvalues"]) == 2 and len(point["eigenvalues"][0]) == 2
    text = table.to_csv(tmp_path / "fp.csv")
    rows = text.strip().splitlines()
    assert len(rows) == 1 + len(table) and rows[0].startswith("cycle,period,fixed,speed")
    assert (tmp_path / "fp.csv").read_text() == text
    both = concatenate([table, table])
    assert len(both) == 2 * len(table) and both.n_cycles == 2 * table.n_cycles
    assert "fixed point" in table.summary()
