"""A synthetic ECG recording: the ECGSYN model's ``z`` as a one-channel measurement.

The model is :mod:`attractor.systems.physiological` (McSharry, Clifford, Tarassenko & Smith, IEEE
Trans. Biomed. Eng. 50(3):289-294, 2003). The recording is its scalar output ``z`` — the ECG,
which already carries the model's slow respiratory baseline wander ``z₀(t)`` (0.25 Hz) and its
deterministic heart-rate variability — observed as follows:

1. sampled every ``dt`` (default the system's 0.004 s, 250 Hz) after the system's transient;
2. rescaled to millivolts as the authors' reference code ``ecgsyn.m`` does: the record's minimum
   maps to −0.4 mV and its maximum to 1.2 mV (``millivolts=False`` keeps the model's units);
3. plus independent Gaussian measurement noise of standard deviation ``noise ×`` the standard
   deviation of the clean (rescaled) signal — 5 % by default — drawn from ``seed``.

Same arguments, same array: the integration is deterministic and the noise comes from ``seed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from attractor.errors import InputError

#: ``ecgsyn.m`` rescales the synthetic ECG to this range, in mV.
MV_RANGE: tuple[float, float] = (-0.4, 1.2)


def to_millivolts(z: np.ndarray, mv_range: tuple[float, float] = MV_RANGE) -> np.ndarray:
    """``z`` mapped affinely so that its minimum is ``mv_range[0]`` and its maximum
    ``mv_range[1]`` (``ecgsyn.m``'s output convention)."""
    lo, hi = float(np.min(z)), float(np.max(z))
    if not hi > lo:
        raise InputError("to_millivolts: the signal is constant, it has no range to rescale")
    return (z - lo) * (mv_range[1] - mv_range[0]) / (hi - lo) + mv_range[0]


def ecg_recording(
    n: int,
    *,
    seed: int = 0,
    noise: float = 0.05,
    dt: float | None = None,
    params: Mapping[str, Any] | None = None,
    millivolts: bool = True,
) -> np.ndarray:
    """``n`` samples of a noisy synthetic ECG, shape ``(n, 1)`` float64 (see the module docstring).

    Args:
        n: number of samples.
        seed: seed of the measurement noise.
        noise: noise standard deviation relative to the clean signal's (0.05 = 5 %); 0 for none.
        dt: sampling step in seconds (default ``0.004``).
        params: ECGSYN parameter overrides (``heart_rate``, ``rr_mayer``, ``rr_rsa``, ``wander``,
            ...; see :mod:`attractor.systems.physiological`).
        millivolts: rescale to [−0.4, 1.2] mV as ``ecgsyn.m``; otherwise the model's units.

    Raises:
        InputError: ``n`` or ``noise`` out of range, or bad parameters.
    """
    from attractor.systems.trajectory import trajectory  # JAX only when a recording is made

    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0.0 <= noise < np.inf:
        raise InputError(f"noise must be a finite number >= 0 (fraction of the std), got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError(f"seed must be an integer, got {seed!r}")
    z = trajectory("ecgsyn", n, dt=dt, params=params)[:, 2]
    if millivolts:
        z = to_millivolts(z)
    if noise > 0:
        rng = np.random.default_rng(int(seed))
        z = z + float(noise) * float(np.std(z)) * rng.standard_normal(z.shape)
    return z[:, None]


__all__ = ["MV_RANGE", "ecg_recording", "to_millivolts"]
