"""Affine recurrences ``h_t = A_t h_{t-1} + b_t``, evaluated in parallel over time.

The affine maps ``h -> A h + b`` form a monoid under composition,

    (A_l, b_l) o (A_e, b_e) = (A_l A_e, A_l b_e + b_l),        (apply e first, then l)

so every prefix of the sequence of maps is an associative scan (Blelloch 1990), which
``jax.lax.associative_scan`` evaluates with ``O(log T)`` sequential depth (the method for
accelerators). On a CPU, with no parallel hardware to fill, the strided recursion costs more than
it saves; :func:`chunked_scan` (sequential within ``sqrt(T)`` chunks, vectorised across them) is
the CPU default. The recurrence starts from ``h_{-1} = 0``, so ``h_0 = b_0`` and ``A_0`` is never
used; a known initial state ``h`` enters as ``b_0 = A_0 h + b_0``. With ``reverse=True`` the
recurrence runs backwards in time, ``h_t = A_t h_{t+1} + b_t`` from ``h_T = b_T`` (the adjoint of
the Newton solver).

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

#: The scan ``affine_scan(method="auto")`` uses on a CPU. A linear recurrence costs two flops per
#: element and step, so on a CPU (no idle parallel hardware) the plain loop beats both parallel
#: forms: diagonal, T = 4096, batch 16, 64 units, 2-core CPU under load ~7, interleaved medians:
#: sequential 45 ms, chunked 218 ms, associative 283 ms (``benchmarks/parallel_scan.py``,
#: BENCHMARKS.md). The Newton solver still evaluates the nonlinear step and its Jacobian for all
#: time steps at once; only its linear solves run in order.
CPU_SCAN = "sequential"
SCAN_METHODS = ("auto", "associative", "chunked", "sequential")


def affine_scan(
    a: Any,
    b: jax.Array,
    *,
    structure: Structure = _DENSE,
    reverse: bool = False,
    method: str = "auto",
) -> jax.Array:
    """All ``h_t`` ``(T, ..., M)`` of ``h_t = A_t h_{t-1} + b_t`` (time on axis 0).

    Args:
        a: the matrices ``A_t`` stored as ``structure`` says, time on axis 0.
        b: the offsets ``b_t`` ``(T, ..., M)``.
        structure: how ``a`` is stored (:mod:`attractor.parallel.structure`).
        reverse: run backwards, ``h_t = A_t h_{t+1} + b_t``.
        method: ``associative`` (``jax.lax.associative_scan``, depth ``O(log T)``), ``chunked``
            (:func:`chunked_scan`, depth ``O(sqrt T)``), ``sequential``
            (:func:`sequential_affine`, depth ``T``) or ``auto``: associative on accelerators,
            sequential on a CPU, where it was the fastest of the three (:data:`CPU_SCAN`).
    """
    if method == "auto":
        method = CPU_SCAN if jax.default_backend() == "cpu" else "associative"
    if method == "chunked":
        return chunked_scan(a, b, structure=structure, reverse=reverse)
    if method == "sequential":
        return sequential_affine(a, b, structure=structure, reverse=reverse)
    if method != "associative":
        raise ValueError(f"scan method must be one of {SCAN_METHODS}, got {method!r}")

    def combine(early: tuple, late: tuple) -> tuple:
        a_e, b_e = early
        a_l, b_l = late
        return structure.compose(a_l, a_e), structure.apply(a_l, b_e) + b_l

    _, h = jax.lax.associative_scan(combine, (a, b), reverse=reverse, axis=0)
    return h


def chunked_scan(
    a: Any, b: jax.Array, *, structure: Structure = _DENSE, reverse: bool = False,
    chunk: int | None = None,
) -> jax.Array:
    """The recurrence of :func:`affine_scan` in chunks of ``L`` steps (default ``~sqrt(T)``).

    Within every chunk at once (vectorised over the chunks) a sequential pass of ``L`` steps
    computes the chunk's end state from a zero start and the product ``A_{L-1} ... A_0`` of its
    matrices; a pass over the ``T / L`` chunk ends gives each chunk's true incoming state; a second
    pass over the chunks from those states writes every ``h_t``. Sequential depth ``2 L + T/L``
    instead of ``log T``, but each step works on ``T/L`` times more data and nothing but the
    states is written, which on a CPU beats the strided recursion of
    ``jax.lax.associative_scan``.
    """
    if reverse:
        flip = lambda x: jnp.flip(x, axis=0)  # noqa: E731
        return flip(chunked_scan(jax.tree_util.tree_map(flip, a), flip(b), structure=structure,
                                 chunk=chunk))
    length = b.shape[0]
    size = chunk or max(1, int(round(length**0.5)))
    n_chunks = -(-length // size)
    pad = n_chunks * size - length

    def blocks(x: jax.Array) -> jax.Array:  # (T, ...) -> (L, C, ...), padded at the end
        x = jnp.concatenate([x, jnp.zeros((pad,) + x.shape[1:], x.dtype)]) if pad else x
        return jnp.swapaxes(x.reshape((n_chunks, size) + x.shape[1:]), 0, 1)

    a_blocks = jax.tree_util.tree_map(blocks, a)
    b_blocks = blocks(b)

    def ends(carry: tuple, step: tuple) -> tuple[tuple, None]:
        h, product = carry
        a_l, b_l = step
        return (structure.apply(a_l, h) + b_l, structure.compose(a_l, product)), None

    first = (b_blocks[0], jax.tree_util.tree_map(lambda x: x[0], a_blocks))
    rest = (jax.tree_util.tree_map(lambda x: x[1:], a_blocks), b_blocks[1:])
    (h_end, p_end), _ = jax.lax.scan(ends, first, rest)  # each chunk from a zero start

    def across(h_in: jax.Array, chunk_end: tuple) -> tuple[jax.Array, jax.Array]:
        p_c, h_c = chunk_end
        return structure.apply(p_c, h_in) + h_c, h_in

    _, incoming = jax.lax.scan(across, jnp.zeros_like(b[0]), (p_end, h_end))  # (C, ...)

    def states(h: jax.Array, step: tuple) -> tuple[jax.Array, jax.Array]:
        a_l, b_l = step
        h = structure.apply(a_l, h) + b_l
        return h, h

    _, h = jax.lax.scan(states, incoming, (a_blocks, b_blocks))  # again, from the true start
    h = jnp.swapaxes(h, 0, 1).reshape((n_chunks * size,) + b.shape[1:])
    return h[:length]


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
