"""attractor: learn dynamical systems from time series with recurrent models, forecast them,
and open the learned models up for analysis."""

from __future__ import annotations

__version__ = "0.1.0"

from attractor.errors import AttractorError, ConvergenceError, DivergenceError, InputError

__all__ = [
    "AttractorError",
    "ConvergenceError",
    "DivergenceError",
    "InputError",
    "__version__",
]
