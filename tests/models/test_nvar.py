"""NG-RC / NVAR: Gauthier's feature vector by hand, exact recovery of a quadratic map, windows."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config


def _nvar(obs_dim: int = 3, **kw):
    return build_model(make_config("nvar", obs_dim=obs_dim, **kw), key=jax.random.PRNGKey(0))


def test_gauthier_feature_count_and_vector_by_hand() -> None:
    model = _nvar()  # N = 3, k = 2, s = 1, order 2, constant: 1 + 6 + 21
    assert model.config.n_features == 28 and model.W.shape == (28, 3)
    window = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # x_{t-1}, x_t
    lin = [4.0, 5.0, 6.0, 1.0, 2.0, 3.0]  # newest first
    quad = [lin[i] * lin[j] for i in range(6) for j in range(i, 6)]
    expected = [1.0, *lin, *quad]
    np.testing.assert_array_equal(model.features(window, np), expected)
    np.testing.assert_allclose(model.features(jnp.asarray(window)), expected, rtol=1e-6)
    assert _nvar(constant=False, order=3).config.n_features == 6 + 21 + 56


def test_stride_and_window() -> None:
    model = _nvar(obs_dim=1, delays=3, stride=2, order=1, constant=False)
    assert model.context_length == 5
    window = np.arange(5.0)[:, None]  # x_{t-4} … x_t
    np.testing.assert_array_equal(model.features(window, np), [4.0, 2.0, 0.0])
    # a short context is front-padded with its first row
    np.testing.assert_array_equal(model.init_state(jnp.array([[7.0], [8.0]]))[:, 0],
                                  [7, 7, 7, 7, 8])


def _henon(n: int) -> np.ndarray:
    """x' = 1 - 1.4 x² + y, y' = 0.3 x: exactly quadratic."""
    out = np.empty((n, 2))
    out[0] = (0.1, 0.1)
    for t in range(n - 1):
        x, y = out[t]
        out[t + 1] = (1.0 - 1.4 * x * x + y, 0.3 * x)
    return out


@pytest.mark.parametrize("increment", [True, False])
def test_recovers_an_exactly_quadratic_map(increment: bool) -> None:
    data = _henon(400)[100:]
    with float64():
        model = _nvar(obs_dim=2, delays=1, increment=increment).fit_readout([data], 0.0)
        # features [1, x, y, x², xy, y²] -> (x', y')
        w = np.asarray(model.W)
        if increment:
            w = w + np.vstack([np.zeros((1, 2)), np.eye(2), np.zeros((3, 2))])
        expected = np.array([[1, 0], [0, 0.3], [1, 0], [-1.4, 0], [0, 0], [0, 0]])
        np.testing.assert_allclose(w, expected, atol=1e-8)
        # and its free run is the map's orbit (for as long as chaos allows at 1e-8 accuracy)
        forecast = np.asarray(model.forecast(jnp.asarray(data[:50]), 10))
    np.testing.assert_allclose(forecast, data[50:60], atol=1e-6)


def test_fit_uses_every_pair_of_every_series_and_refuses_short_ones() -> None:
    model = _nvar(obs_dim=2, delays=3, stride=2)
    data = _henon(300)
    feats, targets = model.training_pairs([data[:100], data[100:]])
    assert feats.shape == ((100 - 5) + (200 - 5), model.config.n_features)
    np.testing.assert_array_equal(targets[0], data[5] - data[4])
    with pytest.raises(InputError, match="at least 6"):
        model.fit_readout([data[:5]], 1e-6)


def test_untrained_increment_model_is_persistence() -> None:
    context = jnp.asarray(_henon(20), jnp.float32)
    forecast = _nvar(obs_dim=2).forecast(context, 4)
    np.testing.assert_array_equal(forecast, np.repeat(np.asarray(context[-1:]), 4, axis=0))
