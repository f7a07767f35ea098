"""Input checking shared by the metrics: time-first float64 arrays with readable errors."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError


def as_trajectory(x: ArrayLike, name: str, *, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array of shape ``(T, N)``; a 1-D array becomes ``(T, 1)``.

    Raises :class:`InputError` naming ``name`` if ``x`` is not 1-D/2-D, is empty, or (with
    ``finite=True``) holds NaN or inf values.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError(f"{name}: expected a (T, N) time-first array, got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{name}: empty array of shape {a.shape}")
    if finite and not np.all(np.isfinite(a)):
        raise InputError(f"{name}: contains NaN or inf values")
    return a


def same_dim(x_true: np.ndarray, x_gen: np.ndarray) -> None:
    """Raise :class:`InputError` unless both trajectories have the same number of dimensions."""
    if x_true.shape[1] != x_gen.shape[1]:
        raise InputError(f"x_gen: has {x_gen.shape[1]} dimensions but x_true has {x_true.shape[1]}")
