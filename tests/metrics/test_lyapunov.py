"""Lyapunov exponents of maps with known exponents; units, divergence, scoped precision."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.metrics import lyapunov_spectrum_of_map, max_lyapunov_exponent


def logistic(z):
    return 4.0 * z * (1.0 - z)


def henon(z):
    return jnp.stack([1.0 - 1.4 * z[0] ** 2 + z[1], 0.3 * z[0]])


def test_linear_diagonal_map():
    a = jnp.array([2.0, 0.5])
    step = lambda z: a * z
    z0 = jnp.zeros(2)  # the fixed point: the orbit stays bounded, the Jacobian is constant
    lam = max_lyapunov_exponent(step, z0, n_steps=1000, transient=100)
    assert lam == pytest.approx(np.log(2.0), abs=1e-10)
    spec = lyapunov_spectrum_of_map(step, z0, n_steps=1000, transient=100)
    np.testing.assert_allclose(spec, [np.log(2.0), np.log(0.5)], atol=1e-10)


def test_non_normal_linear_map_gives_log_moduli_of_eigenvalues():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 3))
    a = p @ np.diag([3.0, -0.5, 0.2]) @ np.linalg.inv(p)
    step = lambda z: jnp.asarray(a) @ z
    spec = lyapunov_spectrum_of_map(step, jnp.zeros(3), n_steps=2000, transient=200, renorm_every=5)
    np.testing.assert_allclose(spec, np.log([3.0, 0.5, 0.2]), atol=1e-3)


def test_logistic_map_r4_is_ln2():
    lam = max_lyapunov_exponent(logistic, jnp.array([0.3]), n_steps=50_000, transient=1000)
    assert lam == pytest.approx(np.log(2.0), abs=0.01)


def test_henon_map_spectrum():
    spec = lyapunov_spectrum_of_map(henon, jnp.array([0.1, 0.1]), n_steps=50_000, transient=1000)
    # the Jacobian determinant is -0.3 at every point: the exponents sum to ln 0.3 exactly
    assert spec.sum() == pytest.approx(np.log(0.3), abs=1e-9)
    assert spec[0] == pytest.approx(0.419, abs=0.01)  # Sprott (2003) 0.41922
    lam = max_lyapunov_exponent(henon, jnp.array([0.1, 0.1]), n_steps=50_000, transient=1000)
    assert lam == pytest.approx(spec[0], abs=1e-3)


def test_lorenz63_per_time_unit():
    def lorenz(x):
        return jnp.stack(
            [10.0 * (x[1] - x[0]), x[0] * (28.0 - x[2]) - x[1], x[0] * x[1] - 8.0 / 3.0 * x[2]]
        )

    def rk4(x, h=0.01):
        k1 = lorenz(x)
        k2 = lorenz(x + 0.5 * h * k1)
        k3 = lorenz(x + 0.5 * h * k2)
        k4 = lorenz(x + h * k3)
        return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    lam = max_lyapunov_exponent(rk4, jnp.ones(3), n_steps=30_000, transient=2000, dt=0.01)
    assert lam == pytest.approx(0.906, abs=0.05)


def test_dt_converts_per_step_to_per_time_unit():
    per_step = max_lyapunov_exponent(henon, jnp.array([0.1, 0.1]), n_steps=2000, transient=100)
    per_time = max_lyapunov_exponent(
        henon, jnp.array([0.1, 0.1]), n_steps=2000, transient=100, dt=0.1
    )
    assert per_time == pytest.approx(per_step / 0.1, rel=1e-12)


def test_diverging_orbit_raises():
    with pytest.raises(DivergenceError):
        max_lyapunov_exponent(lambda z: z**2, jnp.array([2.0]), n_steps=100, transient=0)


def test_runs_in_float64_without_touching_the_global_flag():
    # 1 + 1e-9 rounds to 1 in float32 (exponent 0); float64 resolves log(1 + 1e-9)
    lam = max_lyapunov_exponent(lambda z: (1.0 + 1e-9) * z, jnp.zeros(1), n_steps=100, transient=0)
    assert lam == pytest.approx(np.log1p(1e-9), rel=1e-6)
    assert jnp.zeros(1).dtype == jnp.float32
    # a step that returns float32 is cast back, so the scan carry keeps one dtype
    step32 = lambda z: z.astype(jnp.float32) * 2.0
    assert max_lyapunov_exponent(step32, jnp.zeros(1), n_steps=100, transient=0) == pytest.approx(
        np.log(2.0), abs=1e-6
    )


def test_bad_arguments():
    with pytest.raises(InputError, match="n_exponents"):
        lyapunov_spectrum_of_map(henon, jnp.zeros(2), n_exponents=3, n_steps=10)
    with pytest.raises(InputError, match="renorm_every"):
        max_lyapunov_exponent(henon, jnp.zeros(2), renorm_every=0)
    with pytest.raises(InputError, match="z0"):
        max_lyapunov_exponent(henon, jnp.zeros((2, 2)), n_steps=10)
