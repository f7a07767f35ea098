"""Checked, compiled free runs and forecasts of any model, for callers outside ``jit``.

:meth:`DynamicsModel.simulate` / :meth:`~DynamicsModel.forecast` are pure and traceable, so a run
that blows up returns NaN. These wrappers validate their arguments with messages written for
Python users, compile the run once per model structure and length, and raise
:class:`~attractor.errors.DivergenceError` instead of returning non-finite values.
"""

from __future__ import annotations

import numbers
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import DivergenceError, InputError

#: Largest number of values one generated trajectory may hold (rows x dimensions).
MAX_GENERATED_VALUES = 500_000_000


def check_length(n: Any, name: str, *, minimum: int = 1) -> int:
    """``n`` as an int ``>= minimum``; refuses floats, bools, NaN and the like."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise InputError(f"{name} must be an integer, got {n!r}")
    if int(n) < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def check_context(model: Any, context: Any, name: str = "context") -> jax.Array:
    """``context`` as a finite float32 ``(T, N)`` array (a single row ``(N,)`` is accepted)."""
    arr = np.asarray(context, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != model.obs_dim or arr.shape[0] < 1:
        raise InputError(
            f"{name} must have shape (T, {model.obs_dim}) or ({model.obs_dim},), "
            f"got {np.shape(context)}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf values")
    return jnp.asarray(arr, jnp.float32)


@eqx.filter_jit
def _simulate(model: Any, context: jax.Array, n: int) -> jax.Array:
    return model.simulate(context, n)


def checked_simulate(model: Any, context: Any, n: Any) -> np.ndarray:
    """``model.simulate(context, n)`` as float64 numpy; raises on bad input or divergence."""
    n = check_length(n, "n")
    if n * model.obs_dim > MAX_GENERATED_VALUES:
        raise InputError(
            f"n = {n} rows of {model.obs_dim} values would need "
            f"{n * model.obs_dim * 8 / 2**30:.1f} GiB; generate it in pieces"
        )
    ctx = check_context(model, context)
    out = np.asarray(_simulate(model, ctx, n), dtype=np.float64)
    _check_finite(out, "the free run")
    return out


def checked_forecast(model: Any, context: Any, horizon: Any) -> np.ndarray:
    """The ``horizon`` rows after ``context``; raises on bad input or divergence."""
    horizon = check_length(horizon, "horizon")
    return checked_simulate(model, context, horizon + 1)[1:]


def _check_finite(values: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(values)):
        bad = int(np.argmax(~np.all(np.isfinite(values), axis=-1)))
        raise DivergenceError(f"{what} diverged: NaN/inf from row {bad} on")
