"""Metrics for dynamical-systems reconstruction and forecasting.

Functions take arrays (time-first ``(T, N)``) or plain callables, never model objects:

- geometry: D_stsp, :func:`state_space_divergence` (binned for N < 6, Gaussian mixtures above);
- spectrum: D_H, :func:`power_spectrum_hellinger`;
- forecast: :func:`prediction_error` PE(n), :func:`nrmse`, :func:`valid_prediction_time`;
- scores: :func:`smape` (0–200), :func:`mase`, :func:`smape_valid_time`,
  :func:`power_spectrum_error_db`, :func:`correlation_dimension_error`;
- lyapunov: :func:`max_lyapunov_exponent` of a step map (QR over autodiff Jacobians);
- protocol: :func:`generation_window`, :func:`median_mad`, :func:`evaluate_generated`.

All computations are in float64 (numpy, or JAX under the scoped
:func:`attractor._precision.float64`).
"""

from __future__ import annotations

from attractor.metrics.forecast import (
    nrmse,
    prediction_error,
    prediction_error_curve,
    valid_prediction_time,
)
from attractor.metrics.geometry import (
    state_space_divergence,
    state_space_divergence_binned,
    state_space_divergence_gmm,
)
from attractor.metrics.lyapunov import lyapunov_spectrum_of_map, max_lyapunov_exponent
from attractor.metrics.protocol import (
    evaluate_generated,
    generate_window,
    generation_window,
    median_mad,
)
from attractor.metrics.scores import (
    SMAPE_VALID_THRESHOLD,
    correlation_dimension_error,
    mase,
    power_spectrum_error_db,
    smape,
    smape_curve,
    smape_valid_time,
)
from attractor.metrics.spectrum import (
    hellinger_distance,
    normalized_power_spectrum,
    power_spectrum_hellinger,
)

__all__ = [
    "SMAPE_VALID_THRESHOLD",
    "correlation_dimension_error",
    "mase",
    "power_spectrum_error_db",
    "smape",
    "smape_curve",
    "smape_valid_time",
    "evaluate_generated",
    "generate_window",
    "generation_window",
    "hellinger_distance",
    "lyapunov_spectrum_of_map",
    "max_lyapunov_exponent",
    "median_mad",
    "normalized_power_spectrum",
    "nrmse",
    "power_spectrum_hellinger",
    "prediction_error",
    "prediction_error_curve",
    "state_space_divergence",
    "state_space_divergence_binned",
    "state_space_divergence_gmm",
    "valid_prediction_time",
]
