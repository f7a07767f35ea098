"""Physiological flows: ECGSYN, the dynamical model of the electrocardiogram.

McSharry, P. E., Clifford, G. D., Tarassenko, L. & Smith, L. A. (2003). A dynamical model for
generating synthetic electrocardiogram signals. IEEE Trans. Biomed. Eng. 50(3):289-294.

The state ``(x, y, z)`` moves on the attracting unit circle of the ``(x, y)`` plane at the angular
speed ``ω(t)`` of the heart; ``z`` is the ECG. Each of the five events P, Q, R, S, T of a beat is a
Gaussian bump of ``z`` centred at the beat phase ``θ_i``::

    x' = α x − ω y,     y' = α y + ω x,     α = 1 − √(x² + y²)
    z' = − Σ_i a_i Δθ_i exp(−Δθ_i² / (2 b_i²)) − (z − z₀(t))
    Δθ_i = (θ − θ_i) wrapped to [−π, π),   θ = atan2(y, x)
    z₀(t) = A sin(2π f_resp t)                       (respiratory baseline wander)

Parameters are the paper's Table 1: ``θ_i = (−π/3, −π/12, 0, π/12, π/2)`` rad,
``a_i = (1.2, −5, 30, −7.5, 0.75)``, ``b_i = (0.25, 0.1, 0.1, 0.1, 0.4)`` rad. Time is in seconds.

Choices made here, and why:

- **Heart rate** 60 bpm (RR = 1 s, ``ω = 2π`` rad/s): the paper's mean rate, at which its table
  applies unchanged. For other rates, ``θ_i`` and ``b_i`` are scaled as in the authors' reference
  implementation ``ecgsyn.m`` (PhysioNet): ``b_i ← √h b_i``, ``θ_i ← (h^¼, √h, 1, √h, h^¼) θ_i``
  with ``h = heart_rate / 60`` (factors 1 at 60 bpm).
- **Heart-rate variability**, deterministic: the paper draws the RR tachogram from a bimodal
  spectrum (Mayer waves at 0.1 Hz, respiratory sinus arrhythmia at 0.25 Hz) — a random process.
  Here each band is one sinusoid at its centre frequency, so that the right-hand side stays a
  plain (non-random) ODE: ``RR(t) = 60/HR + c_M sin(2π f_M t) + c_R sin(2π f_resp t)`` and
  ``ω(t) = 2π / RR(t)``. The amplitudes reproduce ``ecgsyn.m``'s defaults, an RR standard
  deviation of 1 bpm (``σ = 60 / 60² = 1/60`` s at 60 bpm) split LF/HF = 0.5:
  ``c_M = √(2/3) σ = 0.0136`` s, ``c_R = √(4/3) σ = 0.0192`` s (a sinusoid of amplitude ``c`` has
  variance ``c²/2``). Set both to 0 for a strictly periodic heart.
- **Baseline wander** ``A``: the paper gives 0.15 mV, an amplitude of the signal after its
  rescaling of ``z`` to [−0.4, 1.2] mV; in the ODE's own units of ``z`` (those of Table 1's
  ``a_i``) the authors' ``ecgsyn.m`` uses ``A = 0.005``, kept here. With Table 1's angles the
  rescaling maps it to ~0.13 mV; ``z`` itself follows ``z₀`` through the unit-rate relaxation
  ``−(z − z₀)``, a low-pass that leaves ``A / √(1 + (2π·0.25)²) ≈ 0.54 A`` at 0.25 Hz. The
  recording of :func:`attractor.data.ecg.ecg_recording` applies the rescaling.

The system is **non-autonomous** (``ω(t)`` and ``z₀(t)`` depend on time) and **not chaotic**:
in polar coordinates ``r' = r(1 − r)``, ``θ' = ω(t)``, ``z' = g(θ) − z + z₀(t)`` the Jacobian is
triangular with diagonal ``(1 − 2r, 0, −1)``, so on the cycle ``r = 1`` the Lyapunov exponents
are exactly ``(0, −1, −1)`` per second, whatever ``ω(t)`` and ``z₀(t)``. With constant ``ω`` and
no wander the orbit is a limit cycle; with the default heart-rate variability and wander it is
quasi-periodic (irregular beat-to-beat intervals, but no sensitive dependence).

Time ``t`` is 0 at the initial condition. Initial conditions drawn near the attractor
(``trajectory(..., n_ics=..., key=...)``) restart the clock at 0, so their first few seconds relax
``z`` (rate 1/s) onto the wander and rhythm of the new time origin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import Invariants, System

Array = jax.Array
Params = Mapping[str, Array]

#: Paper's Table 1 (McSharry et al. 2003), events in the order P, Q, R, S, T.
EVENTS: tuple[str, ...] = ("P", "Q", "R", "S", "T")
THETA: tuple[float, ...] = (-math.pi / 3, -math.pi / 12, 0.0, math.pi / 12, math.pi / 2)
AMPLITUDE: tuple[float, ...] = (1.2, -5.0, 30.0, -7.5, 0.75)
WIDTH: tuple[float, ...] = (0.25, 0.1, 0.1, 0.1, 0.4)

_RR_STD = 60.0 / 60.0**2  # s: 1 bpm of heart-rate standard deviation at 60 bpm (ecgsyn.m default)
RR_MAYER = round(math.sqrt(2.0 / 3.0) * _RR_STD, 4)  # LF share 1/3 of the variance (LF/HF = 0.5)
RR_RSA = round(math.sqrt(4.0 / 3.0) * _RR_STD, 4)  # HF share 2/3


def rr_interval(t: Array, p: Params) -> Array:
    """RR interval ``RR(t)`` in seconds: mean ``60 / heart_rate`` plus the Mayer-wave and
    respiratory-sinus-arrhythmia sinusoids (deterministic heart-rate variability)."""
    mayer = p["rr_mayer"] * jnp.sin(2.0 * jnp.pi * p["f_mayer"] * t)
    rsa = p["rr_rsa"] * jnp.sin(2.0 * jnp.pi * p["f_resp"] * t)
    return 60.0 / p["heart_rate"] + mayer + rsa


def event_geometry(p: Params) -> tuple[Array, Array]:
    """Angles ``θ_i`` and widths ``b_i`` (rad) scaled to the mean heart rate as ``ecgsyn.m``."""
    h = p["heart_rate"] / 60.0
    q = jnp.sqrt(h)
    angle_factor = jnp.stack([jnp.sqrt(q), q, jnp.ones_like(q), q, jnp.sqrt(q)])
    return jnp.asarray(p["theta"]) * angle_factor, jnp.asarray(p["b"]) * q


def ecgsyn_rhs(x: Array, t: Array, p: Params) -> Array:
    """The ECGSYN equations (module docstring); ``x = (x, y, z)``, ``t`` in seconds."""
    X, Y, z = x[0], x[1], x[2]
    omega = 2.0 * jnp.pi / rr_interval(t, p)
    alpha = 1.0 - jnp.sqrt(X**2 + Y**2)
    theta_i, b_i = event_geometry(p)
    d_theta = jnp.mod(jnp.arctan2(Y, X) - theta_i + jnp.pi, 2.0 * jnp.pi) - jnp.pi
    events = jnp.sum(jnp.asarray(p["a"]) * d_theta * jnp.exp(-(d_theta**2) / (2.0 * b_i**2)))
    baseline = p["wander"] * jnp.sin(2.0 * jnp.pi * p["f_resp"] * t)
    return jnp.stack([alpha * X - omega * Y, alpha * Y + omega * X, -events - (z - baseline)])


ECGSYN = System(
    name="ecgsyn",
    kind="flow",
    dim=3,
    rhs=ecgsyn_rhs,
    params={
        "heart_rate": 60.0,  # beats per minute (mean)
        "rr_mayer": RR_MAYER,  # s, amplitude of the Mayer-wave RR modulation
        "f_mayer": 0.1,  # Hz
        "rr_rsa": RR_RSA,  # s, amplitude of the respiratory sinus arrhythmia
        "f_resp": 0.25,  # Hz, respiration: RSA and baseline wander
        "wander": 0.005,  # z units (0.15 mV after the paper's rescaling)
        "theta": THETA,
        "a": AMPLITUDE,
        "b": WIDTH,
    },
    initial_condition=(1.0, 0.0, 0.04),  # ecgsyn.m's start: on the cycle, at the R phase
    dt=0.004,  # 250 Hz (the paper samples at 256 Hz): ~250 samples a beat, ~4 across the R wave
    period=1.0,  # mean RR interval at 60 bpm, s
    transient=10.0,  # s: z relaxes at rate 1/s; e^-10 of the start's offset remains
    autonomous=False,
    reference=Invariants(
        lyapunov_max=0.0,
        lyapunov_spectrum=(0.0, -1.0, -1.0),
        kaplan_yorke_dim=1.0,
        source="analytic: triangular Jacobian in polar coordinates (see "
        "attractor.systems.physiological); not chaotic",
    ),
    citation="McSharry, P. E., Clifford, G. D., Tarassenko, L. & Smith, L. A. (2003). A dynamical "
    "model for generating synthetic electrocardiogram signals. IEEE Trans. Biomed. Eng. "
    "50(3):289-294.",
    description="Synthetic ECG (z) on a limit cycle at 60 bpm with deterministic heart-rate "
    "variability and respiratory baseline wander; time in s, non-autonomous, not chaotic",
)


SYSTEMS: tuple[System, ...] = (ECGSYN,)

__all__ = ["ECGSYN", "EVENTS", "SYSTEMS", "ecgsyn_rhs", "event_geometry", "rr_interval"]
