"""Naive baselines by hand: persistence (with and without drift), mean, seasonal naive."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config

TRAIN = [
    np.array([[0.0, 10.0], [1.0, 10.0], [3.0, 7.0], [6.0, 4.0]]),
    np.array([[2.0, 0.0], [4.0, 1.0]]),
]
CONTEXT = jnp.array([[5.0, 1.0], [6.0, 2.0], [7.0, 3.0]])


def _fit(name: str, train: list[np.ndarray] = TRAIN, **kw):
    with float64():
        model = build_model(make_config(name, obs_dim=2, **kw), key=jax.random.PRNGKey(0))
        fitted = model.fit_readout(train, 0.0)
        return fitted, np.asarray(fitted.simulate(CONTEXT, 4))


def test_persistence() -> None:
    model, run = _fit("persistence", drift=False)
    np.testing.assert_array_equal(run, [[7, 3]] * 4)
    # increments (1, 0), (2, -3), (3, -3), (2, 1): mean (2, -1.25)
    model, run = _fit("persistence")
    np.testing.assert_allclose(model.drift, [2.0, -1.25])
    np.testing.assert_allclose(run, [[7, 3], [9, 1.75], [11, 0.5], [13, -0.75]])


def test_persistence_drift_is_ridge_shrunk() -> None:
    with float64():
        model = build_model(make_config("persistence", obs_dim=2), key=jax.random.PRNGKey(0))
        np.testing.assert_allclose(model.fit_readout(TRAIN, 4.0).drift, [1.0, -0.625])


def test_mean() -> None:
    model, run = _fit("mean")
    mean = np.concatenate(TRAIN).mean(0)  # (16/6, 32/6)
    np.testing.assert_allclose(model.mean, mean)
    np.testing.assert_allclose(run, [[7, 3], mean, mean, mean])  # row 0 is the context


def test_seasonal_naive() -> None:
    _, run = _fit("seasonal_naive", period=2, drift=False)
    # window (6, 2), (7, 3): repeats every 2 steps
    np.testing.assert_array_equal(run, [[7, 3], [6, 2], [7, 3], [6, 2]])
    # seasonal differences of series 0: (3, -3), (5, -6) -> mean (4, -4.5)
    model, run = _fit("seasonal_naive", TRAIN[:1], period=2)
    np.testing.assert_allclose(model.drift, [4.0, -4.5])
    np.testing.assert_allclose(run, [[7, 3], [10, -2.5], [11, -1.5], [14, -7]])
    assert model.context_length == 2
    with pytest.raises(InputError, match="at least 3"):  # series 1 has no seasonal difference
        _fit("seasonal_naive", period=2)


def test_seasonal_period_one_is_persistence() -> None:
    _, seasonal = _fit("seasonal_naive", period=1)
    _, persistence = _fit("persistence")
    np.testing.assert_allclose(seasonal, persistence)
