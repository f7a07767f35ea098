"""Feature maps shared by the readout models: delay windows and polynomial monomials.

Used by NG-RC / NVAR (:mod:`attractor.models.nvar`) and EDMD (:mod:`attractor.models.edmd`). Every
function works on NumPy arrays (float64 fitting on the host) and on JAX arrays (the compiled step)
alike: pass the array module as ``xp``.

- Delay vector of a window ``(..., L, N)`` (newest row last), ``k`` delays with stride ``s``:
  ``[x_t, x_{t-s}, …, x_{t-(k-1)s}]`` (newest first, Gauthier et al. 2021, Eq. 4), ``(..., k N)``.
- Polynomial features of a vector ``v`` ``(..., D)``: ``[1] ⊕ v ⊕`` the unique monomials of degree
  2 … ``order`` of ``v`` (each multiset of indices once, in lexicographic order of
  ``itertools.combinations_with_replacement``): ``C(D + p - 1, p)`` monomials of degree ``p``.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError


@functools.cache
def monomial_indices(dim: int, degree: int) -> np.ndarray:
    """Index tuples ``(M, degree)`` of the unique monomials of ``degree`` in ``dim`` variables."""
    combos = list(itertools.combinations_with_replacement(range(dim), degree))
    return np.asarray(combos, dtype=np.int32).reshape(len(combos), degree)


def polynomial_size(dim: int, order: int, constant: bool) -> int:
    """Number of polynomial features of a ``dim``-vector up to ``order`` (see the module doc)."""
    return int(constant) + sum(len(monomial_indices(dim, p)) for p in range(1, order + 1))


def polynomial_features(v: Any, order: int, constant: bool, xp: Any = jnp) -> Any:
    """``[1] ⊕ v ⊕ monomials of degree 2..order`` of ``v`` ``(..., D)`` → ``(..., F)``."""
    parts = []
    if constant:
        parts.append(xp.ones(v.shape[:-1] + (1,), dtype=v.dtype))
    parts.append(v)
    for degree in range(2, order + 1):
        idx = monomial_indices(v.shape[-1], degree)
        parts.append(xp.prod(v[..., idx], axis=-1))
    return xp.concatenate(parts, axis=-1)


def delay_vector(window: Any, delays: int, stride: int, xp: Any = jnp) -> Any:
    """``[x_t, x_{t-s}, …]`` of a window ``(..., L, N)``, ``L >= (delays - 1) stride + 1``."""
    rows = [window[..., window.shape[-2] - 1 - j * stride, :] for j in range(delays)]
    return xp.concatenate(rows, axis=-1)


def window_from_context(context: jax.Array, length: int) -> jax.Array:
    """The last ``length`` rows of ``context`` ``(T, N)``; a shorter context is front-padded with
    its first row (as :func:`attractor.dsr.evaluate.contexts_at` pads)."""
    t = context.shape[0]
    if t >= length:
        return context[t - length :]
    pad = jnp.broadcast_to(context[:1], (length - t, context.shape[1]))
    return jnp.concatenate([pad, context], axis=0)


def sliding_windows(x: np.ndarray, length: int) -> np.ndarray:
    """All windows ``(T - length + 1, length, N)`` of a series ``(T, N)`` (a view, no copy)."""
    return np.moveaxis(np.lib.stride_tricks.sliding_window_view(x, length, axis=0), -1, -2)


def no_external_input(name: str, u: Any) -> None:
    """Refuse an external input for an autonomous model (``input_dim == 0``)."""
    if u is not None:
        raise InputError(f"{name}: this model takes no external input u (input_dim must be 0)")


def check_autonomous(name: str, input_dim: int) -> None:
    """Refuse ``input_dim > 0`` in the config of a model without input terms."""
    if input_dim != 0:
        raise InputError(f"{name}: external inputs are not supported (input_dim must be 0)")
