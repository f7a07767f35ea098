"""Integrators: Butcher tableaus, accuracy against analytic solutions, orders, batching, DDE, KS."""

from __future__ import annotations

import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.systems import get
from attractor.systems import integrate as integ
from attractor.systems.delay import integrate_delay
from attractor.systems.ks import etdrk4_coefficients


def _oscillator(x: jax.Array, t: jax.Array, p: dict) -> jax.Array:
    return jnp.stack([x[1], -(p["w"] ** 2) * x[0]])


def _growth(x: jax.Array, t: jax.Array, p: dict) -> jax.Array:
    return jnp.cos(t) * x  # x(t) = x0 exp(sin t): tests the time argument


@pytest.mark.parametrize("method", integ.METHODS)
def test_tableau_consistency(method: str) -> None:
    tab = integ.tableau(method)
    np.testing.assert_allclose(tab.b.sum(), 1.0, atol=1e-14)
    np.testing.assert_allclose(tab.a.sum(axis=1), tab.c, atol=1e-14)  # row-sum condition
    np.testing.assert_allclose(tab.e.sum(), 0.0, atol=1e-14)  # difference of two solutions
    assert np.all(np.triu(tab.a) == 0.0)  # explicit


@pytest.mark.parametrize("method", ["dopri8", "dopri5", "tsit5"])
def test_harmonic_oscillator_matches_analytic(method: str) -> None:
    w = 2.0
    t = 0.05 * np.arange(400)  # ~6 periods
    with float64():
        ys, status = integ.integrate_flow(
            _oscillator, np.array([[1.0, 0.0]]), {"w": w}, n=400, dt=0.05, method=method,
            rtol=1e-11, atol=1e-11,
        )  # fmt: skip
    exact = np.stack([np.cos(w * t), -w * np.sin(w * t)], axis=1)
    assert int(status[0]) == integ.OK
    np.testing.assert_allclose(np.asarray(ys[0]), exact, atol=1e-8)


def test_error_follows_tolerance() -> None:
    t = 2.0 * np.arange(20)  # long sampling intervals: the controller, not the grid, sets h
    exact = np.stack([np.cos(t), -np.sin(t)], axis=1)
    errors = []
    for tol in (1e-4, 1e-7, 1e-10):
        with float64():
            ys, _ = integ.integrate_flow(
                _oscillator, np.array([[1.0, 0.0]]), {"w": 1.0}, n=20, dt=2.0, method="bosh3",
                rtol=tol, atol=tol,
            )  # fmt: skip
        errors.append(float(np.max(np.abs(np.asarray(ys[0]) - exact))))
    assert errors[0] > 10 * errors[1] > 100 * errors[2]
    assert errors[2] < 1e-7 and errors[0] < 0.1


def test_non_autonomous_time_argument() -> None:
    with float64():
        ys, _ = integ.integrate_flow(
            _growth, np.array([[1.0], [2.0]]), {}, n=50, dt=0.2, n_transient=5
        )
    t = 0.2 * (5 + np.arange(50))
    np.testing.assert_allclose(np.asarray(ys[:, :, 0]), np.outer([1.0, 2.0], np.exp(np.sin(t))),
                               rtol=1e-9)  # fmt: skip


def test_matches_diffrax_diffeqsolve() -> None:
    lorenz = get("lorenz63")
    y0 = np.asarray([lorenz.initial_condition])
    with float64():
        ours, _ = integ.integrate_flow(lorenz.rhs, y0, lorenz.params, n=200, dt=0.01)
        ref, st = integ.integrate_flow(
            lorenz.rhs, y0, lorenz.params, n=200, dt=0.01, method=diffrax.Dopri8(),
            rtol=1e-12, atol=1e-12,
        )  # fmt: skip
    assert int(st[0]) == integ.OK
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), atol=1e-7)


def test_batched_equals_one_at_a_time() -> None:
    lorenz = get("lorenz63")
    rng = np.random.default_rng(0)
    y0 = np.asarray(lorenz.initial_condition) + rng.normal(size=(5, 3))
    with float64():
        batch, _ = integ.integrate_flow(lorenz.rhs, y0, lorenz.params, n=300, dt=0.01)
        singles = [integ.integrate_flow(lorenz.rhs, y0[i : i + 1], lorenz.params, n=300,
                                        dt=0.01)[0][0] for i in (0, 3)]  # fmt: skip
    np.testing.assert_array_equal(np.asarray(batch[0]), np.asarray(singles[0]))
    np.testing.assert_array_equal(np.asarray(batch[3]), np.asarray(singles[1]))


def test_rk4_step_is_fourth_order() -> None:
    with float64():
        x0, p = jnp.array([1.0, 0.0]), {"w": jnp.asarray(1.0)}

        def err(h: float) -> float:
            step = jax.jit(lambda x: integ.rk4_step(_oscillator, x, jnp.asarray(0.0), h, p))
            x = x0
            for _ in range(int(round(1.0 / h))):
                x = step(x)
            return float(jnp.abs(x[0] - math.cos(1.0)))

        ratio = err(0.1) / err(0.05)
    assert 14.0 < ratio < 18.0  # 2^4 = 16


def test_fixed_step_map_iterates() -> None:
    rhs = lambda x, p: p["r"] * x * (1.0 - x)  # noqa: E731
    with float64():
        ys = integ.integrate_fixed(integ.map_factory(rhs), np.array([[0.2]]), {"r": 3.7}, n=20,
                                   dt=1.0, n_transient=3)  # fmt: skip
    x, expected = 0.2, []
    for i in range(23):
        if i >= 3:
            expected.append(x)
        x = 3.7 * x * (1 - x)
    np.testing.assert_allclose(np.asarray(ys[0, :, 0]), expected, rtol=1e-12)


def test_delay_method_of_steps_is_exact_for_polynomial_pieces() -> None:
    """x' = −x(t − τ), x = 1 for t ≤ 0: x = 1 − t on [0, τ], 1 − t + (t − τ)²/2 on [τ, 2τ]."""
    rhs = lambda x, xd, t, p: -xd  # noqa: E731
    tau = 1.0
    with float64():
        ys = integrate_delay(rhs, np.array([[1.0]]), {"tau": tau}, n=21, dt=0.1, n_sub=4)
    t = 0.1 * np.arange(21)
    exact = np.where(t <= tau, 1.0 - t, 1.0 - t + (t - tau) ** 2 / 2.0)
    np.testing.assert_allclose(np.asarray(ys[0, :, 0]), exact, atol=1e-12)


def test_ks_linear_regime_and_mean() -> None:
    """A tiny single Fourier mode grows like exp((k² − k⁴)t); the spatial mean is conserved."""
    length, n, m = 22.0, 64, 2
    k = 2 * np.pi * m / length
    x = np.arange(n) * length / n
    u0 = 1e-8 * np.cos(k * x) + 0.3  # mean 0.3: Galilean drift, amplitude unchanged
    system = get("kuramoto_sivashinsky")
    with float64():
        step = jax.jit(system.step_factory(0.25, {"L": jnp.asarray(length)}))
        u = jnp.asarray(u0)
        for _ in range(40):
            u = step(u)
    u = np.asarray(u)
    assert abs(u.mean() - 0.3) < 1e-14
    amplitude = np.abs(np.fft.rfft(u)[m]) * 2 / n
    np.testing.assert_allclose(amplitude, 1e-8 * np.exp((k**2 - k**4) * 10.0), rtol=1e-6)


def test_ks_etdrk4_converges() -> None:
    system = get("kuramoto_sivashinsky")
    x = np.arange(64) * 22.0 / 64
    u0 = np.cos(2 * np.pi * x / 22.0) * (1 + np.sin(2 * np.pi * x / 22.0))
    with float64():

        def run(h: float, t_end: float = 2.0) -> np.ndarray:
            step = jax.jit(system.step_factory(h, {"L": jnp.asarray(22.0)}))
            u = jnp.asarray(u0)
            for _ in range(int(round(t_end / h))):
                u = step(u)
            return np.asarray(u)

        ref = run(1 / 256)
        errors = [np.max(np.abs(run(h) - ref)) for h in (0.25, 0.125, 0.0625)]
    assert errors[0] < 1e-3
    # ratios 7.0 and 6.3 here; K&T's Cox-Matthews ETDRK4 tends to 16 only as h -> 0
    assert errors[0] / errors[1] > 5 and errors[1] / errors[2] > 5


def test_etdrk4_coefficients_limit() -> None:
    """At L(k) = 0 (mode 0) the coefficients reduce to RK4's weights: Q = h/2, f1 = f3 = h/6."""
    with float64():
        e, e2, q, f1, f2, f3, g = map(np.asarray, etdrk4_coefficients(0.25, 22.0, 16))
    np.testing.assert_allclose([e[0], e2[0]], [1.0, 1.0], atol=1e-14)
    np.testing.assert_allclose([q[0], f1[0], f2[0], f3[0]], [0.125, 0.25 / 6, 0.25 / 6,
                                                            0.25 / 6], atol=1e-13)  # fmt: skip
    assert g[0] == 0 and g[-1] == 0  # mean and Nyquist modes have no derivative


def test_shared_compilation_gives_identical_results() -> None:
    from attractor.systems import integrate_shared as shared

    members = [get(name) for name in ("lorenz63", "rossler", "sprott_b")]
    group = shared.FlowGroup(tuple((s.rhs, tuple(s.params)) for s in members))
    dispatch = group.rhs()
    with float64():
        for index, system in enumerate(members):
            y0 = np.asarray([system.initial_condition])
            own, _ = integ.integrate_flow(system.rhs, y0, system.params, n=100, dt=system.dt)
            packed = shared._packed(group, index, system.params)
            via, _ = integ.integrate_flow(dispatch, y0, packed, n=100, dt=system.dt)
            np.testing.assert_array_equal(np.asarray(own), np.asarray(via))
