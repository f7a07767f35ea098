"""trajectory(): shapes, sampling, transients, initial conditions, noise, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.systems import from_rhs, get, trajectory

KEY = jax.random.PRNGKey(0)


def test_shapes_dtype_and_scoped_precision() -> None:
    lorenz = get("lorenz63")
    x = trajectory(lorenz, 50)
    assert x.shape == (50, 3) and x.dtype == np.float64 and isinstance(x, np.ndarray)
    np.testing.assert_array_equal(x[0], lorenz.initial_condition)  # transient 0: row 0 is the IC
    assert trajectory(lorenz, 50, ics=np.ones(3)).shape == (50, 3)
    assert trajectory(lorenz, 50, ics=np.ones((1, 3))).shape == (1, 50, 3)
    assert trajectory(lorenz, 50, ics=np.ones((4, 3)) + np.arange(4)[:, None]).shape == (4, 50, 3)
    assert trajectory(lorenz, 50, n_ics=4, key=KEY).shape == (4, 50, 3)
    assert jnp.zeros(1).dtype == jnp.float32 and not jax.config.jax_enable_x64


def test_float64_resolution() -> None:
    """Float32 could not resolve a 1e-12 change of the initial condition."""
    a = trajectory("lorenz63", 50, ics=[1.0, 1.0, 1.0])
    b = trajectory("lorenz63", 50, ics=[1.0 + 1e-12, 1.0, 1.0])
    assert 0 < abs(a[1, 0] - b[1, 0]) < 1e-10


def test_transient_shifts_the_samples() -> None:
    full = trajectory("rossler", 50, transient=0.0)
    dt = get("rossler").dt
    late = trajectory("rossler", 50, transient=20 * dt)
    np.testing.assert_allclose(late[:30], full[20:], rtol=1e-7, atol=1e-7)
    # time units are rounded to whole sampling steps
    np.testing.assert_allclose(trajectory("rossler", 50, transient=20.2 * dt), late, atol=1e-7)


def test_sampling_options_agree() -> None:
    lorenz = get("lorenz63")
    a = trajectory(lorenz, 50, points_per_period=50)
    b = trajectory(lorenz, 50, dt=lorenz.period / 50)
    np.testing.assert_array_equal(a, b)
    c = trajectory(lorenz, 50, points_per_lyapunov=20)
    d = trajectory(lorenz, 50, dt=1.0 / (0.9056 * 20))
    np.testing.assert_array_equal(c, d)
    with pytest.raises(InputError, match="at most one"):
        trajectory(lorenz, 30, dt=0.01, points_per_period=50)
    with pytest.raises(InputError, match="no known period"):
        trajectory("lorenz96", 10, points_per_period=100)
    with pytest.raises(InputError, match="Lyapunov"):
        trajectory("lorenz96", 10, params={"N": 12}, points_per_lyapunov=10)
    with pytest.raises(InputError, match="dt must be 1"):
        trajectory("henon", 10, dt=0.5)


def test_same_key_same_initial_conditions() -> None:
    a = trajectory("lorenz63", 50, n_ics=4, key=jax.random.PRNGKey(3))
    b = trajectory("lorenz63", 50, n_ics=4, key=jax.random.PRNGKey(3))
    c = trajectory("lorenz63", 50, n_ics=4, key=jax.random.PRNGKey(4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, 0], c[:, 0])
    assert len({tuple(row) for row in a[:, 0]}) == 4  # distinct initial conditions


def test_drawn_initial_conditions_lie_near_the_attractor() -> None:
    orbit = trajectory("lorenz63", 1000)  # the orbit the initial conditions are drawn from
    drawn = np.concatenate([trajectory("lorenz63", 50, n_ics=4, key=jax.random.PRNGKey(i))[:, 0]
                            for i in range(4)])  # fmt: skip
    dist = np.min(np.linalg.norm(drawn[:, None] - orbit[None], axis=-1), axis=1)
    assert np.max(dist) < 0.1  # perturbations of 1e-3 std (~0.008); the attractor spans ~40
    assert np.min(dist) > 0  # perturbed, not copies
    maps = trajectory("logistic", 50, n_ics=4, key=KEY)[:, 0, 0]
    assert np.all((maps >= 0) & (maps <= 1))


def test_parameters_and_structural_parameters() -> None:
    base = trajectory("lorenz63", 50)
    other = trajectory("lorenz63", 50, params={"rho": 35.0})
    assert not np.allclose(base[-1], other[-1])
    np.testing.assert_array_equal(trajectory(get("lorenz63", rho=35.0), 50), other)
    assert trajectory("lorenz96", 50, params={"N": 8, "F": 6.0}).shape == (50, 8)
    assert trajectory("kuramoto_sivashinsky", 50, params={"L": 22.0, "N": 32}).shape == (50, 32)
    with pytest.raises(InputError, match="no parameter"):
        trajectory(get("lorenz96"), 10, params={"N": 8})
    with pytest.raises(InputError, match="no parameter"):
        trajectory("lorenz63", 10, params={"gamma": 1.0})


def test_map_and_pde_and_delay() -> None:
    henon = trajectory("henon", 50, transient=0)
    x, y = get("henon").initial_condition
    for row in henon[:20]:  # chaos amplifies rounding by e^(0.42 n)
        np.testing.assert_allclose(row, [x, y], atol=1e-10)
        x, y = 1 - 1.4 * x * x + y, 0.3 * x
    ks = trajectory("kuramoto_sivashinsky", 1000)
    np.testing.assert_allclose(ks.mean(axis=1), ks[0].mean(), atol=1e-12)  # conserved mean
    mg = trajectory("mackey_glass", 1000)
    assert 0.2 < mg.min() and mg.max() < 1.5 and mg.std() > 0.1  # chaotic band of tau=17


def test_observation_noise_scale_and_standardize() -> None:
    clean = trajectory("lorenz63", 1000)
    noisy = trajectory("lorenz63", 1000, obs_noise=0.1, key=KEY)
    ratio = (noisy - clean).std(axis=0) / clean.std(axis=0)
    np.testing.assert_allclose(ratio, 0.1, rtol=0.1)
    z = trajectory("lorenz63", 1000, standardize=True)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-12)


def test_dynamical_noise_ornstein_uhlenbeck_variance() -> None:
    """dx = −θx dt + σ dW has stationary variance σ²/(2θ)."""
    ou = from_rhs("test_ou", lambda x, t, p: -p["theta"] * x, 1, params={"theta": 1.0},
                  initial_condition=(0.0,), dt=0.1, register=False)  # fmt: skip
    x = trajectory(ou, 20000, dyn_noise=0.5, key=KEY, transient=10.0)
    assert x.var() == pytest.approx(0.25 / 2.0, rel=0.1)
    np.testing.assert_array_equal(x, trajectory(ou, 20000, dyn_noise=0.5, key=KEY, transient=10.0))


def test_divergence_names_the_system() -> None:
    blow = from_rhs("test_blowup", lambda x, t, p: x * x, 1, initial_condition=(1.0,),
                    dt=0.1, register=False)  # fmt: skip
    with pytest.raises(DivergenceError, match="test_blowup"):
        trajectory(blow, 50)  # x = 1/(1 - t) blows up at t = 1
    with pytest.raises(DivergenceError, match="logistic"):
        trajectory("logistic", 50, ics=[1.5])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must"),
        ({"n": 10, "ics": np.ones(4)}, "shape"),
        ({"n": 10, "ics": [np.nan, 1.0, 1.0]}, "non-finite"),
        ({"n": 10, "obs_noise": 0.1}, "key"),
        ({"n": 10, "n_ics": 3}, "key"),
        ({"n": 10, "n_ics": 3, "key": KEY, "ics": np.ones(3)}, "not both"),
        ({"n": 10, "transient": -1.0}, "transient"),
        ({"n": 10, "dt": -0.1}, "dt"),
        ({"n": 10, "method": "euler"}, "method"),
        ({"n": 5.9}, "n must"),
        ({"n": -5}, "n must"),
        ({"n": 10, "rtol": -1.0}, "rtol"),
        ({"n": 10, "atol": 0.0}, "atol"),
        ({"n": 10, "rtol": float("nan")}, "rtol"),
        ({"n": 10, "dt": 0.0}, "dt"),
        ({"n": 10, "dt": float("inf")}, "dt"),
        ({"n": 10, "obs_noise": "x", "key": KEY}, "obs_noise"),
        ({"n": 10, "dyn_noise": -1.0, "key": KEY}, "dyn_noise"),
        ({"n": 10, "transient": "soon"}, "transient"),
        ({"n": 10, "transient": 1e300}, "transient"),
        ({"n": 10, "n_ics": 0, "key": KEY}, "n_ics"),
        ({"n": 10, "n_ics": 2, "key": 3}, "PRNG key"),
        ({"n": 10, "params": {"rho": float("nan")}}, "finite"),
        ({"n": 10, "params": {"rho": "big"}}, "numeric"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs: dict, match: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(InputError, match=match):
        trajectory("lorenz63", n, **kwargs)
    with pytest.raises(InputError, match="unknown system"):
        trajectory("lorenz_63x", 10)


def test_numpy_integers_are_integers() -> None:
    assert trajectory("lorenz63", np.int64(5), n_ics=np.int32(2), key=KEY).shape == (2, 5, 3)


def test_batch_split_across_threads_equals_one_at_a_time(monkeypatch) -> None:
    import sys

    module = sys.modules["attractor.systems.trajectory"]
    monkeypatch.setattr(module, "PARALLEL_MIN_SAMPLES", 1)
    monkeypatch.setattr(module.os, "cpu_count", lambda: 2)
    ics = np.array([[1.0, 1.0, 1.0], [-5.0, 3.0, 20.0], [2.0, -1.0, 15.0], [0.5, 0.5, 30.0]])
    assert len(module._batch_chunks(ics, 200)) == 2
    batch = trajectory("lorenz63", 200, ics=ics, transient=0)
    for i in range(len(ics)):
        alone = trajectory("lorenz63", 200, ics=ics[i : i + 1], transient=0)
        np.testing.assert_array_equal(batch[i], alone[0])
