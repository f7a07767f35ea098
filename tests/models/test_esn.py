"""Echo state network: echo state property, spectral radius, features, washout, closed loop."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, default_trainable, make_config
from attractor.models.esn import DENSE_EIG_MAX_UNITS
from attractor.models.readout import ridge_solve


def _esn(seed: int = 0, **kw):
    kw.setdefault("units", 60)
    return build_model(make_config("esn", obs_dim=2, **kw), key=jax.random.PRNGKey(seed))


def _signal(n: int = 300) -> np.ndarray:
    t = np.arange(n) * 0.1
    return np.stack([np.sin(t), np.cos(1.7 * t)], 1).astype(np.float32)


def test_echo_state_property_forgets_the_initial_reservoir_state() -> None:
    esn = _esn(spectral_radius=0.9, leak_rate=0.5)
    x = jnp.asarray(_signal(400))
    drive = eqx.filter_jit(lambda m, r0: m.drive(x, r0))  # one compilation for both runs
    r_a = drive(esn, jnp.zeros(60))
    r_b = drive(esn, jax.random.uniform(jax.random.PRNGKey(3), (60,), minval=-1, maxval=1))
    gap = np.linalg.norm(np.asarray(r_a - r_b), axis=1)
    assert gap[0] > 0.1
    assert gap[-1] < 1e-5 * gap[0]


@pytest.mark.parametrize(
    ("units", "density", "radius"),
    [(60, 0.1, 0.9), (60, 0.02, 1.3), (DENSE_EIG_MAX_UNITS + 20, 0.01, 0.8)],
)
def test_spectral_radius_is_set(units: int, density: float, radius: float) -> None:
    esn = _esn(units=units, density=density, spectral_radius=radius)
    w = np.asarray(esn.reservoir_matrix(), dtype=np.float64)
    assert (esn.W_indices is not None) == (density < 0.05)  # sparse storage below 5 %
    assert np.count_nonzero(w) == units * esn.config.degree  # exactly `degree` per row
    with threadpool_limits(1, user_api="blas"):  # a threaded eig crawls on a shared 2-core CPU
        eig = np.linalg.eigvals(w)
    np.testing.assert_allclose(np.max(np.abs(eig)), radius, rtol=1e-5)


def test_sparse_and_dense_reservoir_products_agree() -> None:
    esn = _esn(density=0.02)
    r = jax.random.normal(jax.random.PRNGKey(1), (60,))
    np.testing.assert_allclose(esn._recurrent(r), esn.reservoir_matrix() @ r, rtol=1e-5,
                               atol=1e-6)


def test_squared_state_features() -> None:
    esn = _esn(units=6, squared_state=True, readout_input=True)
    r = jnp.array([0.1, -0.2, 0.3, -0.4, 0.5, 0.6])
    x = jnp.array([7.0, 8.0])
    expected = [1.0, 7.0, 8.0, 0.1, 0.04, 0.3, 0.16, 0.5, 0.36]
    np.testing.assert_allclose(esn.features(r, x), expected, rtol=1e-6)
    plain = _esn(units=6, squared_state=False)
    np.testing.assert_allclose(plain.features(r, x), [1.0, *np.asarray(r)], rtol=1e-6)
    assert plain.W_out.shape == (7, 2) and esn.W_out.shape == (9, 2)


def test_fit_readout_respects_the_washout() -> None:
    esn = _esn(washout=40)
    x = _signal(200)
    with float64():  # compare in double precision
        esn64 = _esn(washout=40)
        fitted = esn64.fit_readout([x], 1e-4)
        phi = np.asarray(esn64.harvest(x))
        expected = ridge_solve(phi[40:-1], x[41:], 1e-4)
    np.testing.assert_allclose(np.asarray(fitted.W_out), expected, rtol=1e-6, atol=1e-9)
    # the states before the washout are not used: changing them changes nothing
    with float64():
        other = ridge_solve(phi[39:-1], x[40:], 1e-4)
    assert np.max(np.abs(other - expected)) > 1e-6
    with pytest.raises(InputError, match="washout 40"):
        esn.fit_readout([x[:41]], 1e-4)


def test_only_the_readout_trains_and_the_loop_is_closed() -> None:
    esn = _esn(units=200).fit_readout([_signal(1200)], 1e-6)
    spec = default_trainable(esn)
    assert spec.W_out is True and spec.W is False and spec.W_in is False and spec.b is False
    context = jnp.asarray(_signal(120))
    state = esn.init_state(context)
    np.testing.assert_array_equal(esn.observe(state), context[-1])
    r, x = state
    x_next = esn.features(r, x) @ esn.W_out
    r_next = jnp.tanh(esn.reservoir_matrix() @ r + esn.W_in @ x_next + esn.b)  # leak rate 1
    r1, x1 = esn.step(state)
    np.testing.assert_allclose(x1, x_next, rtol=1e-6)
    np.testing.assert_allclose(r1, r_next, rtol=1e-5, atol=1e-6)
    # a trained ESN continues the signal it was trained on (an untrained one predicts 0)
    forecast = np.asarray(esn.forecast(context, 20))
    np.testing.assert_allclose(forecast, _signal(140)[120:], atol=0.05)
    assert np.max(np.abs(_signal(140)[120:])) > 0.5


def test_bad_hyperparameters_are_input_errors() -> None:
    for bad in ({"leak_rate": 0.0}, {"density": 1.5}, {"spectral_radius": -1.0},
                {"input_dim": 2}):
        with pytest.raises(InputError):
            make_config("esn", obs_dim=2, **bad)
