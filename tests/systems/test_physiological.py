"""ECGSYN (McSharry et al., IEEE TBME 2003): beat period, P-QRS-T morphology, exponents.

Expected values come from the equations (see :mod:`attractor.systems.physiological`): the phase
advances at ``ω = 2π·HR/60`` rad/s, so beats come every ``60/HR`` s; the amplitude of each event's
bump of ``z`` grows with ``a_i b_i²``, so R (a = 30) is the largest positive event, then T and P,
and S (a = −7.5) is deeper than Q (a = −5); on the cycle the Lyapunov exponents are exactly
``(0, −1, −1)`` per second.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.signal import find_peaks

from attractor._precision import float64
from attractor.errors import InputError
from attractor.systems import get, lyapunov_spectrum, names, trajectory
from attractor.systems.integrate import rk4_step
from attractor.systems.invariants import lyapunov_spectrum_from_step
from attractor.systems.physiological import AMPLITUDE, ECGSYN, THETA, ecgsyn_rhs

DT = ECGSYN.dt
STRICT = {"rr_mayer": 0.0, "rr_rsa": 0.0}  # constant heart rate: exactly periodic beats


def _r_peaks(z: np.ndarray) -> np.ndarray:
    peaks, _ = find_peaks(z, height=0.5 * float(np.max(z)), distance=int(0.3 / DT))
    return peaks


def test_registered_with_honest_metadata() -> None:
    assert "ecgsyn" in names(source="native") and "ecgsyn" in names(kind="flow")
    system = get("ecgsyn")
    assert system.dim == 3 and system.dt == 0.004 and system.period == 1.0
    assert not system.autonomous
    assert system.reference.lyapunov_max == 0.0  # not chaotic
    assert system.reference.lyapunov_spectrum == (0.0, -1.0, -1.0)
    assert "McSharry" in system.citation
    np.testing.assert_allclose(system.params["theta"], [-math.pi / 3, -math.pi / 12, 0,
                                                        math.pi / 12, math.pi / 2])  # fmt: skip
    assert system.params["a"] == (1.2, -5.0, 30.0, -7.5, 0.75)
    assert system.params["b"] == (0.25, 0.1, 0.1, 0.1, 0.4)


def test_integrates_on_the_unit_cycle() -> None:
    x = trajectory("ecgsyn", 2_000)
    assert x.shape == (2_000, 3) and np.all(np.isfinite(x))
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), 1.0, atol=1e-8)  # r' = r(1 - r)
    # an orbit started off the cycle is attracted to it at rate 1/s
    off = trajectory("ecgsyn", 3, dt=5.0, ics=[0.5, 0.0, 0.0], transient=0.0)
    radius = np.hypot(off[:, 0], off[:, 1])
    assert abs(radius[-1] - 1.0) < 1e-3 < abs(radius[0] - 1.0)


@pytest.mark.parametrize("heart_rate", [60.0, 75.0])
def test_beat_period_from_peaks_and_spectrum(heart_rate: float) -> None:
    params = {**STRICT, "wander": 0.0, "heart_rate": heart_rate}
    period = 60.0 / heart_rate
    z = trajectory("ecgsyn", round(30 * period / DT), params=params)[:, 2]  # 30 whole beats
    spacing = np.diff(_r_peaks(z)) * DT
    assert len(spacing) >= 25
    np.testing.assert_allclose(spacing, period, atol=1.01 * DT)  # one beat every 60/HR s
    # a line spectrum: every strong line is a harmonic of 1/period, the fundamental among them
    power = np.abs(np.fft.rfft(z - z.mean())) ** 2
    freqs = np.fft.rfftfreq(len(z), DT)
    strong = freqs[power > 1e-3 * power.max()]
    harmonic = strong * period
    np.testing.assert_allclose(harmonic, np.round(harmonic), atol=1e-6)
    assert strong.min() == pytest.approx(1.0 / period)


def test_heart_rate_variability_is_deterministic_and_about_1_bpm() -> None:
    z = trajectory("ecgsyn", 15_000)[:, 2]
    spacing = np.diff(_r_peaks(z)) * DT
    assert np.mean(spacing) == pytest.approx(1.0, abs=0.01)
    assert 0.008 < np.std(spacing) < 0.03  # RR std of 1 bpm at 60 bpm: 1/60 s
    np.testing.assert_array_equal(z, trajectory("ecgsyn", 15_000)[:, 2])


def test_r_peaks_dominate_and_events_are_ordered() -> None:
    x = trajectory("ecgsyn", 5_000, params=STRICT)
    z, phase = x[:, 2], np.arctan2(x[:, 1], x[:, 0])

    def extreme(angle: float, sign: int) -> float:
        near = np.abs(np.angle(np.exp(1j * (phase - angle)))) < 0.15
        return float(sign * np.max(sign * z[near]))

    baseline = float(np.median(z[np.abs(np.angle(np.exp(1j * (phase - math.pi)))) < 0.5]))
    p, q, r, s, t = (extreme(a, 1 if amp > 0 else -1) - baseline
                     for a, amp in zip(THETA, AMPLITUDE, strict=True))  # fmt: skip
    assert r > t > p > 0  # R the tallest positive wave, then T, then P
    assert s < q < 0  # S deeper than Q
    assert r > 2 * t and r > 2 * abs(s)
    peaks = _r_peaks(z)
    assert np.all(np.abs(np.angle(np.exp(1j * phase[peaks]))) < 0.05)  # the R phase, θ_R = 0
    away = np.abs(np.angle(np.exp(1j * phase))) > 0.3  # outside the QRS complex
    assert np.max(z[away]) < 0.5 * np.min(z[peaks])  # every R peak beats every other wave


def test_exponents_are_zero_and_minus_one() -> None:
    """QR method on the clock-augmented system (x, y, z, t): exponents (0, 0, −1, −1), the
    extra 0 being the time direction; the catalogue's step map refuses the non-autonomous flow."""
    with pytest.raises(InputError, match="non-autonomous"):
        ECGSYN.make_step()
    with pytest.raises(InputError, match="non-autonomous"):
        lyapunov_spectrum("ecgsyn", n_steps=10)
    with float64():
        p = ECGSYN.jax_params()
        h, n_sub = 0.004, 5

        def augmented(s: jax.Array, _t: jax.Array, p: dict) -> jax.Array:
            return jnp.concatenate([ecgsyn_rhs(s[:3], s[3], p), jnp.ones(1, s.dtype)])

        def step(s: jax.Array) -> jax.Array:
            return jax.lax.fori_loop(0, n_sub, lambda _, v: rk4_step(augmented, v, 0.0, h, p), s)

        res = lyapunov_spectrum_from_step(step, np.array([1.0, 0.0, 0.04, 0.0]), dt=h * n_sub,
                                          n_steps=4_000, transient_steps=250)  # fmt: skip
    np.testing.assert_allclose(res.exponents, [0.0, 0.0, -1.0, -1.0], atol=0.02)
