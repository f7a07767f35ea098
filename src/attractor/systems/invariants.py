"""Invariants of dynamical systems: Lyapunov spectra, Kaplan–Yorke and correlation dimensions.

The public surface of two modules:

- :mod:`attractor.systems.lyapunov`: :func:`lyapunov_spectrum` of a catalogue system and the generic
  :func:`lyapunov_spectrum_from_step` for any JAX step map (QR / Benettin method, tangents from
  autodiff, float64), :func:`kaplan_yorke_dimension`;
- :mod:`attractor.systems.dimensions`: :func:`correlation_dimension` from data
  (Grassberger–Procaccia, with subsampling and a Theiler window).

Example::

    from attractor.systems.invariants import lyapunov_spectrum
    res = lyapunov_spectrum("lorenz63")          # ~1 s on a laptop CPU
    res.exponents                                 # ≈ [0.906, 0.000, -14.572]
"""

from __future__ import annotations

from attractor.systems.dimensions import (
    CorrelationDimensionResult,
    correlation_dimension,
    decorrelation_time,
)
from attractor.systems.lyapunov import (
    LyapunovResult,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    lyapunov_spectrum_from_step,
)

__all__ = [
    "CorrelationDimensionResult",
    "LyapunovResult",
    "correlation_dimension",
    "decorrelation_time",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "lyapunov_spectrum_from_step",
]
