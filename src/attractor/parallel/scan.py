"""Affine recurrences ``h_t = A_t h_{t-1} + b_t`` in ``O(log T)`` depth.

The affine maps ``h -> A h + b`` form a monoid under composition,

    (A_l, b_l) o (A_e, b_e) = (A_l A_e, A_l b_e + b_l),        (apply e first, then l)

so every prefix of the sequence of maps is an associative scan (Blelloch 1990), which
``jax.lax.associative_scan`` evaluates with ``O(log T)`` sequential depth. The recurrence starts
from ``h_{-1} = 0``, so ``h_0 = b_0`` and ``A_0`` is never used; a known initial state ``h`` enters
as ``b_0 = A_0 h + b_0``. With ``reverse=True`` the recurrence runs backwards in time,
``h_t = A_t h_{t+1} + b_t`` from ``h_T = b_T`` (the adjoint of the Newton solver).

:func:`sequential_affine` is the same recurrence as a ``lax.scan`` (the reference the tests
compare with); :func:`log_growth` the finite-time growth rate ``(1/T) ln ||A_T ... A_1||`` of the
products, evaluated by the same scan in log scale so that it neither overflows nor underflows.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from attractor.parallel.structure import Dense, Structure

_DENSE = Dense()


def affine_scan(
    a: Any, b: jax.Array, *, structure: Structure = _DENSE, reverse: bool = False
) -> jax.Array:
    """All ``h_t`` ``(T, ..., M)`` of ``h_t = A_t h_{t-1} + b_t`` (time on axis 0).

    Args:
        a: the matrices ``A_t`` stored as ``structure`` says, time on axis 0.
        b: the offsets ``b_t`` ``(T, ..., M)``.
        structure: how ``a`` is stored (:mod:`attractor.parallel.structure`).
        reverse: run backwards, ``h_t = A_t h_{t+1} + b_t``.
    """

    def combine(early: tuple, late: tuple) -> tuple:
        a_e, b_e = early
        a_l, b_l = late
        return structure.compose(a_l, a_e), structure.apply(a_l, b_e) + b_l

    _, h = jax.lax.associative_scan(combine, (a, b), reverse=reverse, axis=0)
    return h


def sequential_affine(
    a: Any, b: jax.Array, *, structure: Structure = _DENSE, reverse: bool = False
) -> jax.Array:
    """The same recurrence as :func:`affine_scan`, one step at a time (``lax.scan``)."""

    def body(h: jax.Array, inputs: tuple) -> tuple[jax.Array, jax.Array]:
        a_t, b_t = inputs
        h = structure.apply(a_t, h) + b_t
        return h, h

    _, h = jax.lax.scan(body, jnp.zeros_like(b[0]), (a, b), reverse=reverse)
    return h


def log_growth(a: Any, *, structure: Structure = _DENSE) -> jax.Array:
    """``(1/T) ln ||A_{T-1} ... A_0||_max`` for each leading (batch) index, shape ``(...)``.

    For Jacobians along a trajectory this is the finite-time estimate of the largest Lyapunov
    exponent (the max-norm differs from the spectral norm by at most a factor ``M``, i.e.
    ``ln(M) / T`` in the rate). Each partial product is kept as a matrix of max-norm 1 and the log
    of the dropped scale, so long products neither overflow nor underflow.
    """
    length = jax.tree_util.tree_leaves(a)[0].shape[0]
    tiny = jnp.finfo(jax.tree_util.tree_leaves(a)[0].dtype).tiny

    def normalise(m: Any, log_scale: jax.Array) -> tuple[Any, jax.Array]:
        norm = jnp.maximum(structure.max_abs(m), tiny)
        scaled = jax.tree_util.tree_map(lambda x: x / _expand(norm, x), m)
        return scaled, log_scale + jnp.log(norm)

    def combine(early: tuple, late: tuple) -> tuple:
        (m_e, s_e), (m_l, s_l) = early, late
        return normalise(structure.compose(m_l, m_e), s_e + s_l)

    start = normalise(a, jnp.zeros(()))
    _, log_scale = jax.lax.associative_scan(combine, start, axis=0)
    return log_scale[-1] / length


def _expand(norm: jax.Array, x: jax.Array) -> jax.Array:
    """``norm`` ``(...)`` broadcast against matrices ``x`` ``(..., *matrix_axes)``."""
    return norm.reshape(norm.shape + (1,) * (x.ndim - norm.ndim))
