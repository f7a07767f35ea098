"""Invariants: Lyapunov spectra (QR method), Kaplan–Yorke and correlation dimensions.

Reference values and where they come from:

- Lorenz-63 (σ=10, ρ=28, β=8/3): λ = (0.9056, 0, −14.5723), J. C. Sprott, *Chaos and Time-Series
  Analysis* (Oxford UP, 2003), Appendix A; the sum is the constant divergence
  −(σ + 1 + β) = −13.6667.
  Correlation dimension D₂ = 2.05 ± 0.01, Grassberger & Procaccia, Physica D 9:189 (1983).
- Rössler (a=b=0.2, c=5.7): λ₁ = 0.0714, Sprott (2003), Appendix A.
- Hénon (a=1.4, b=0.3): λ = (0.4192, −1.6232), Sprott (2003), Appendix A; λ₁ + λ₂ = ln b exactly,
  since det J = −b at every point.
- Logistic map, r = 4: λ = ln 2 (conjugate to the tent map; Ulam & von Neumann 1947).
- Lorenz-96, N=40, F=8: λ₁ = 1.68, Vlachas et al., Neural Networks 126:191 (2020); the divergence
  is −N everywhere, so the full spectrum sums to −N.
- Kuramoto–Sivashinsky, domain length L=22: λ₁ = 0.048 with two zero exponents (time and space
  translation), Cvitanović, Davidchack & Siminos, SIAM J. Appl. Dyn. Syst. 9:1 (2010); Edson et al.,
  ANZIAM J. 61:270 (2019) report λ₁ ≈ 0.043 for this domain — the test accepts both.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import DivergenceError, InputError
from attractor.systems.base import System
from attractor.systems.invariants import (
    correlation_dimension,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    lyapunov_spectrum_from_step,
)


def _get(name: str, **kwargs: object) -> System:
    from attractor.systems.registry import get

    return get(name, **kwargs)


def _steps(system: System, time_units: float) -> int:
    return int(round(time_units / system.dt))


def _trajectory(system: System, n: int, transient: int = 2_000) -> np.ndarray:
    """``(n, dim)`` samples of ``system`` every ``system.dt``, after ``transient`` steps."""
    with float64():
        step = system.make_step(system.dt)

        def body(x: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
            y = step(x)
            return y, y

        x0 = jnp.asarray(system.initial_condition, dtype=jnp.float64)
        x, _ = jax.lax.scan(body, x0, None, length=transient)
        _, ys = jax.lax.scan(body, x, None, length=n)
        return np.asarray(ys)


# --------------------------------------------------------------------------- Kaplan–Yorke


def test_kaplan_yorke_known_values() -> None:
    assert kaplan_yorke_dimension([0.9056, 0.0, -14.5723]) == pytest.approx(2 + 0.9056 / 14.5723)
    assert kaplan_yorke_dimension([-14.5723, 0.9056, 0.0]) == pytest.approx(2.0621, abs=1e-4)
    assert kaplan_yorke_dimension([0.4192, -1.6232]) == pytest.approx(1 + 0.4192 / 1.6232)
    assert kaplan_yorke_dimension([1.0, -2.0]) == pytest.approx(1.5)
    assert kaplan_yorke_dimension([-0.1, -1.0]) == 0.0  # stable fixed point
    assert kaplan_yorke_dimension([1.0, -0.5]) == 2.0  # partial sums never negative: n
    assert kaplan_yorke_dimension([0.0, -1.0]) == 1.0  # limit cycle
    assert kaplan_yorke_dimension([0.5, -math.inf]) == 1.0  # superstable direction
    with pytest.raises(InputError):
        kaplan_yorke_dimension([])
    with pytest.raises(InputError):
        kaplan_yorke_dimension([math.nan, 1.0])


# --------------------------------------------------------------------------- generic core


def test_linear_map_exponents_are_log_eigenvalue_moduli() -> None:
    # a non-normal matrix with eigenvalues 1, 0.5, -0.1 (bounded orbit): λ = log|eig|
    p = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 1.0]])
    a = jnp.asarray(p @ np.diag([1.0, 0.5, -0.1]) @ np.linalg.inv(p))
    expected = np.log([1.0, 0.5, 0.1])
    for qr_every in (1, 5):
        res = lyapunov_spectrum_from_step(
            lambda x: a @ x,
            np.ones(3),
            dt=1.0,
            n_steps=2_000,
            transient_steps=50,
            qr_every=qr_every,
        )
        np.testing.assert_allclose(res.exponents, expected, atol=5e-3)
        assert res.n_steps == 2_000 and res.qr_every == qr_every
    # units: the same map sampled at dt = 0.1 time units has exponents 10x larger per unit time
    res = lyapunov_spectrum_from_step(
        lambda x: a @ x, np.ones(3), dt=0.1, n_steps=2_000, transient_steps=50
    )
    np.testing.assert_allclose(res.exponents, expected / 0.1, atol=5e-2)
    assert res.sum == pytest.approx(np.sum(expected) / 0.1, abs=5e-2)


def test_cat_map_exponents() -> None:
    # Arnold's cat map x -> A x mod 1, A = [[2, 1], [1, 1]]: λ = ±log((3 + √5) / 2), sum 0
    a = jnp.asarray([[2.0, 1.0], [1.0, 1.0]])
    res = lyapunov_spectrum_from_step(
        lambda x: jnp.mod(a @ x, 1.0), np.array([0.1, 0.2]), n_steps=1_000, transient_steps=10
    )
    lam = math.log((3.0 + math.sqrt(5.0)) / 2.0)
    np.testing.assert_allclose(res.exponents, [lam, -lam], atol=1e-3)
    assert res.kaplan_yorke == 2.0


def test_float32_model_step_gives_float64_exponents_and_x64_stays_scoped() -> None:
    # a model-like step with float32 weights: z -> tanh(0.5 z) has the fixed point 0 with J = 0.5 I
    w = jnp.asarray(0.5 * np.eye(4), dtype=jnp.float32)
    res = lyapunov_spectrum_from_step(
        lambda z: jnp.tanh(w @ z), np.full(4, 0.3), n_steps=500, transient_steps=500
    )
    assert res.exponents.dtype == np.float64
    np.testing.assert_allclose(res.exponents, np.log(0.5), atol=1e-6)
    assert res.kaplan_yorke == 0.0
    assert jnp.zeros(1).dtype == jnp.float32  # the x64 switch did not leak


def test_history_converges_to_the_estimate() -> None:
    res = lyapunov_spectrum_from_step(
        lambda x: jnp.stack([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]]),
        np.array([0.1, 0.1]),
        n_steps=20_000,
        transient_steps=100,
        return_history=True,
    )
    assert res.history is not None and res.history_time is not None
    assert res.history.shape[1] == 2 and res.history.shape[0] == res.history_time.shape[0]
    np.testing.assert_allclose(res.history[-1], res.exponents, rtol=1e-12)
    assert res.history_time[-1] == pytest.approx(20_000)


def test_bad_arguments_and_divergence() -> None:
    with pytest.raises(InputError):
        lyapunov_spectrum_from_step(lambda x: x, np.ones(2), n_exponents=3)
    with pytest.raises(InputError):
        lyapunov_spectrum_from_step(lambda x: x, np.ones((2, 2)))
    with pytest.raises(InputError):
        lyapunov_spectrum_from_step(lambda x: x, np.ones(2), dt=0.0)
    with pytest.raises(InputError, match="same shape"):
        lyapunov_spectrum_from_step(lambda x: x[:1], np.ones(2))
    with pytest.raises(DivergenceError):  # logistic map at r = 4.5 escapes to -inf
        lyapunov_spectrum_from_step(
            lambda x: 4.5 * x * (1 - x), np.array([0.3]), n_steps=2_000, transient_steps=0
        )
    delay = System("dde", "delay", 1, lambda x, xd, t, p: -x, {"tau": 1.0}, (1.0,), 0.1)
    with pytest.raises(InputError, match="delay"):
        lyapunov_spectrum(delay)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dt": 0.0}, "dt must be a positive"),
        ({"dt": -0.01}, "dt must be a positive"),
        ({"dt": float("nan")}, "dt must be a positive"),
        ({"x0": [1.0, 1.0]}, r"shape \(3,\)"),
        ({"x0": [np.nan, 1.0, 1.0]}, "NaN"),
        ({"x0": "origin"}, "numeric"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 100.0}, "n_steps"),
        ({"n_steps": 2**40}, "2\\*\\*31"),
        ({"n_exponents": 0}, "n_exponents"),
        ({"params": {"rho": float("inf")}}, "finite"),
    ],
)
def test_lyapunov_spectrum_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        lyapunov_spectrum("lorenz63", **{"n_steps": 100, **kwargs})


def test_chunked_run_equals_one_long_scan(monkeypatch) -> None:
    """The measurement runs in chunks (so that Ctrl-C gets through); that changes nothing."""
    import sys

    module = sys.modules["attractor.systems.lyapunov"]
    kwargs = {"n_steps": 3_000, "transient_steps": 500, "return_history": True}
    whole = lyapunov_spectrum("lorenz63", **kwargs)
    monkeypatch.setattr(module, "CHUNK_BLOCKS", 700)  # 3500 blocks: 5 chunks, the last short
    chunked = lyapunov_spectrum("lorenz63", **kwargs)
    np.testing.assert_allclose(chunked.exponents, whole.exponents, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.history, whole.history, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- catalogue systems


def test_lorenz63_default_settings() -> None:
    res = lyapunov_spectrum("lorenz63")
    assert res.max == pytest.approx(0.9056, rel=0.03)
    assert abs(res.exponents[1]) < 0.01
    assert res.exponents[2] == pytest.approx(-14.5723, rel=0.01)
    assert res.sum == pytest.approx(-(10.0 + 1.0 + 8.0 / 3.0), abs=1e-3)
    assert res.kaplan_yorke == pytest.approx(2.062, abs=0.01)
    assert res.system == "lorenz63" and res.exponents.shape == (3,)


def test_rossler() -> None:
    system = _get("rossler")
    res = lyapunov_spectrum(system, n_steps=_steps(system, 5_000), transient_steps=0)
    assert res.max == pytest.approx(0.0714, rel=0.15)
    assert abs(res.exponents[1]) < 0.01
    assert res.exponents[2] < -5.0


def test_henon() -> None:
    res = lyapunov_spectrum("henon")
    np.testing.assert_allclose(res.exponents, [0.4192, -1.6232], rtol=0.01)
    assert res.sum == pytest.approx(math.log(0.3), abs=1e-10)  # det J = -b at every point
    assert res.dt == 1.0


def test_logistic_r4() -> None:
    res = lyapunov_spectrum("logistic", params={"r": 4.0})
    assert res.max == pytest.approx(math.log(2.0), rel=0.01)


def test_lorenz96_fast() -> None:
    system = _get("lorenz96", N=40, F=8)
    # 100 time units after the system's burn-in; finite-time estimates at T=100 scatter by ~3 %
    res = lyapunov_spectrum(system, n_steps=_steps(system, 100.0))
    assert res.max == pytest.approx(1.68, rel=0.06)
    assert res.sum == pytest.approx(-40.0, abs=0.05)  # divergence is -N everywhere
    assert res.exponents.shape == (40,)


@pytest.mark.slow
def test_lorenz96_slow() -> None:
    system = _get("lorenz96", N=40, F=8)
    res = lyapunov_spectrum(system, n_steps=_steps(system, 1_000.0))
    assert res.max == pytest.approx(1.68, rel=0.05)
    assert res.sum == pytest.approx(-40.0, abs=0.01)


def _ks22() -> System:
    return _get("kuramoto_sivashinsky", L=22.0, N=64)


def test_kuramoto_sivashinsky_fast() -> None:
    system = _ks22()
    res = lyapunov_spectrum(
        system,
        n_exponents=6,
        n_steps=_steps(system, 1_000.0),
        transient_steps=_steps(system, 200.0),
    )
    assert 0.02 < res.max < 0.08
    # two neutral directions (time and space translation) among the next three exponents
    assert np.sum(np.abs(res.exponents[1:4]) < 0.01) >= 2
    assert res.exponents[5] < -0.1


@pytest.mark.slow
def test_kuramoto_sivashinsky_slow() -> None:
    system = _ks22()
    res = lyapunov_spectrum(
        system,
        n_exponents=8,
        n_steps=_steps(system, 10_000.0),
        transient_steps=_steps(system, 500.0),
    )
    assert 0.040 < res.max < 0.056
    assert np.sum(np.abs(res.exponents[1:4]) < 0.004) >= 2
    assert res.kaplan_yorke == pytest.approx(5.2, abs=0.2)


# --------------------------------------------------------------------------- correlation dimension


def test_correlation_dimension_lorenz63() -> None:
    x = _trajectory(_get("lorenz63"), 40_000)
    res = correlation_dimension(x, seed=0)
    assert res.dimension == pytest.approx(2.05, abs=0.15)  # accepted range [1.9, 2.2]
    assert res.theiler > 0  # a flow sampled densely is correlated in time
    again = correlation_dimension(x, seed=0)
    assert again.dimension == res.dimension  # same seed, same subsample


def test_correlation_dimension_of_known_sets() -> None:
    rng = np.random.default_rng(1)
    square = rng.uniform(size=(3_000, 2))
    assert correlation_dimension(square).dimension == pytest.approx(2.0, abs=0.1)
    s = rng.uniform(size=3_000)
    line = np.stack([s, 2.0 * s + 1.0, -s], axis=1)  # a segment embedded in 3-D
    assert correlation_dimension(line).dimension == pytest.approx(1.0, abs=0.05)
    cube = rng.uniform(size=(3_000, 3))
    assert correlation_dimension(cube).dimension == pytest.approx(3.0, abs=0.2)


def test_correlation_dimension_curve_and_errors() -> None:
    rng = np.random.default_rng(2)
    square = rng.uniform(size=(5_000, 2))
    res = correlation_dimension(square, max_points=1_000, r_range=(0.01, 0.05), seed=3)
    assert res.n_points == 1_000 and res.fit_range == (0.01, 0.05)
    assert res.dimension == pytest.approx(2.0, abs=0.15)
    assert np.all(np.diff(res.correlation_sum) >= 0)  # C(r) is a cumulative fraction
    assert res.correlation_sum[-1] <= 1.0 and res.local_slopes.shape == (res.radii.size - 1,)
    with pytest.raises(InputError):
        correlation_dimension(np.ones((2, 2)))
    with pytest.raises(InputError):
        correlation_dimension(np.array([[0.0, 1.0], [np.nan, 1.0], [1.0, 1.0]]))
    with pytest.raises(InputError):  # too few pairs for the default scaling region
        correlation_dimension(rng.uniform(size=(30, 2)))
