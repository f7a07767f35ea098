"""Forecast evaluation: a model forecasting its own trajectories is perfect; a broken one is not."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.data.standardize import Standardizer
from attractor.dsr.data import PreparedData
from attractor.dsr.forecasting import evaluate_forecasts, window_starts
from attractor.errors import InputError
from attractor.models import build_model, make_config


def _self_generated():
    """A linear AL-RNN that rotates the plane, and data it generates itself (identity
    standardisation)."""
    model = build_model(
        make_config("alrnn", obs_dim=2, latent_dim=2, n_pwl=0), key=jax.random.PRNGKey(3)
    )
    c, s = np.cos(0.3), np.sin(0.3)
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (jnp.zeros(2), jnp.array([[c, -s], [s, c]])))
    x = np.asarray(model.simulate(jnp.array([1.0, 0.0]), 3000), np.float64)
    std = Standardizer.from_dict({"mean": [0.0, 0.0], "std": [1.0, 1.0]})
    data = PreparedData(train=[x[:2000]], test=x[2000:], standardizer=std, dt=0.1, source={})
    return model, data


def test_a_model_forecasting_its_own_orbit_is_perfect() -> None:
    model, data = _self_generated()
    scores, plot = evaluate_forecasts(model, data, context=1, horizon=200, lyapunov=0.5)
    assert scores["vpt_steps"] == 200 and scores["vpt_time"] == pytest.approx(20.0)
    assert scores["vpt_lyapunov"] == pytest.approx(10.0)
    assert scores["nrmse"] < 1e-4 and scores["smape"] < 1e-2
    assert scores["smape_vpt_steps"] == 200
    assert scores["n_windows"] == 5 and len(scores["vpt_steps_windows"]) == 5
    assert scores["smape_scale"] == "0-200"
    np.testing.assert_allclose(plot["forecast"], plot["truth"], atol=1e-4)


def test_a_broken_model_scores_badly_and_null_not_nan() -> None:
    model, data = _self_generated()
    broken = jax.tree_util.tree_map(
        lambda v: v * jnp.inf if isinstance(v, jax.Array) else v, model
    )
    scores, _ = evaluate_forecasts(broken, data, context=1, horizon=50)
    assert scores["vpt_steps"] == 0 and scores["smape"] == pytest.approx(200.0)
    assert scores["nrmse"] is None and scores["mase"] is None  # inf -> null in JSON
    assert scores["vpt_lyapunov"] is None and "unknown" in scores["vpt_lyapunov_reason"]


def test_windows_must_fit_in_the_test_series() -> None:
    np.testing.assert_array_equal(window_starts(100, 10, 20, 3), [10, 45, 80])
    with pytest.raises(InputError, match="needs at least 130"):
        window_starts(100, 30, 100, 3)
