"""One exception hierarchy for the whole library.

Every error that the library raises on purpose derives from :class:`AttractorError`, so callers
(and the CLI, which prints one line and exits with status 2) can catch them in one place.
"""

from __future__ import annotations


class AttractorError(Exception):
    """Base class of every error attractor raises on purpose."""


class InputError(AttractorError, ValueError):
    """Bad user input: the message names the file or argument and what is wrong with it."""


class DivergenceError(AttractorError, FloatingPointError):
    """A rollout or a training run produced NaN or inf values."""


class ConvergenceError(AttractorError, RuntimeError):
    """An iterative solver (integrator, Newton, root finder) did not converge."""


__all__ = ["AttractorError", "ConvergenceError", "DivergenceError", "InputError"]
