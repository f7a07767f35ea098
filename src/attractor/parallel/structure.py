"""How the matrices ``A_t`` of an affine recurrence ``h_t = A_t h_{t-1} + b_t`` are stored.

A parallel scan of affine maps composes the matrices pairwise, so their cost decides the speed of
parallel-in-time evaluation (Lim et al., ICLR 2024, DEER; Danieli et al. 2025, ParaRNN): a dense
``M x M`` matrix costs ``O(M^3)`` per composition and ``T M^2`` memory, a diagonal one ``O(M)``.
A structure is a small stateless object that knows how to compose, apply and transpose its
matrices; the scan (:mod:`attractor.parallel.scan`) and the Newton solver
(:mod:`attractor.parallel.newton`) are written once against it.

- :class:`Dense` — ``(..., M, M)``: any Jacobian (the PLRNN family, autodiff of any step);
- :class:`Diagonal` — ``(..., M)``: cells whose units interact only through their inputs
  (ParaGRU-style cells; quasi-Newton "quasi-DEER" of Gonzalez et al., NeurIPS 2024, when the
  true Jacobian is not diagonal);
- :class:`BlockDiagonal` — ``(..., K, b, b)`` on a state of ``K * b`` units stored block by block
  (e.g. the ``(h_k, c_k)`` pairs of a ParaLSTM-style cell: 2 x 2 blocks of diagonals);
- :class:`Stacked` — consecutive parts of the state, each with its own structure (cross terms
  between the parts are dropped).

Leading axes (time, batch) broadcast through every method. ``compose(late, early)`` is the
matrix product ``late @ early``: the map that applies ``early`` first.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

#: Matrices up to this size are multiplied as unrolled multiply-adds (fused by XLA on CPU; the
#: same threshold as the models' ``row_matmul``).
SMALL_MATRIX = 8


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """Batched ``a @ b`` for ``(..., M, K) @ (..., K, N)``; unrolled for ``K <= SMALL_MATRIX``."""
    k = a.shape[-1]
    if k > SMALL_MATRIX:
        return jnp.matmul(a, b)
    out = a[..., :, 0:1] * b[..., 0:1, :]
    for i in range(1, k):
        out = out + a[..., :, i : i + 1] * b[..., i : i + 1, :]
    return out


def matvec(a: jax.Array, v: jax.Array) -> jax.Array:
    """Batched ``a @ v`` for ``(..., M, K)`` and ``(..., K)``."""
    if a.shape[-1] > SMALL_MATRIX:
        return jnp.einsum("...ij,...j->...i", a, v)
    return jnp.sum(a * v[..., None, :], axis=-1)


class Structure(abc.ABC):
    """Storage of the matrices of an affine recurrence; see the module docstring."""

    @abc.abstractmethod
    def compose(self, late: Any, early: Any) -> Any:
        """``late @ early``."""

    @abc.abstractmethod
    def apply(self, a: Any, v: jax.Array) -> jax.Array:
        """``a @ v`` for states ``v (..., M)``."""

    @abc.abstractmethod
    def transpose(self, a: Any) -> Any:
        """``a^T``."""

    @abc.abstractmethod
    def from_dense(self, j: jax.Array) -> Any:
        """The part of dense matrices ``(..., M, M)`` this structure keeps (exact if ``j`` has
        the structure, a quasi-Newton approximation otherwise)."""

    @abc.abstractmethod
    def to_dense(self, a: Any) -> jax.Array:
        """Dense ``(..., M, M)`` matrices (for tests and reference checks)."""

    @abc.abstractmethod
    def scale_rows(self, a: Any, d: jax.Array) -> Any:
        """``diag(d) @ a`` for ``d (..., M)``."""

    @abc.abstractmethod
    def max_abs(self, a: Any) -> jax.Array:
        """Largest absolute entry of each matrix, shape ``(...)`` (the leading axes)."""


@dataclasses.dataclass(frozen=True)
class Dense(Structure):
    """Full ``(..., M, M)`` matrices."""

    def compose(self, late: jax.Array, early: jax.Array) -> jax.Array:
        return matmul(late, early)

    def apply(self, a: jax.Array, v: jax.Array) -> jax.Array:
        return matvec(a, v)

    def transpose(self, a: jax.Array) -> jax.Array:
        return jnp.swapaxes(a, -1, -2)

    def from_dense(self, j: jax.Array) -> jax.Array:
        return j

    def to_dense(self, a: jax.Array) -> jax.Array:
        return a

    def scale_rows(self, a: jax.Array, d: jax.Array) -> jax.Array:
        return d[..., :, None] * a

    def max_abs(self, a: jax.Array) -> jax.Array:
        return jnp.max(jnp.abs(a), axis=(-2, -1))


@dataclasses.dataclass(frozen=True)
class Diagonal(Structure):
    """Diagonal matrices stored as their diagonals ``(..., M)``."""

    def compose(self, late: jax.Array, early: jax.Array) -> jax.Array:
        return late * early

    def apply(self, a: jax.Array, v: jax.Array) -> jax.Array:
        return a * v

    def transpose(self, a: jax.Array) -> jax.Array:
        return a

    def from_dense(self, j: jax.Array) -> jax.Array:
        return jnp.diagonal(j, axis1=-2, axis2=-1)

    def to_dense(self, a: jax.Array) -> jax.Array:
        return a[..., :, None] * jnp.eye(a.shape[-1], dtype=a.dtype)

    def scale_rows(self, a: jax.Array, d: jax.Array) -> jax.Array:
        return d * a

    def max_abs(self, a: jax.Array) -> jax.Array:
        return jnp.max(jnp.abs(a), axis=-1)


@dataclasses.dataclass(frozen=True)
class BlockDiagonal(Structure):
    """``K`` blocks of ``size x size`` on the diagonal, ``(..., K, size, size)``; the state
    ``(..., K * size)`` holds block ``k`` in entries ``k * size .. (k + 1) * size - 1``."""

    size: int

    def _blocks(self, v: jax.Array) -> jax.Array:
        return v.reshape(v.shape[:-1] + (v.shape[-1] // self.size, self.size))

    def compose(self, late: jax.Array, early: jax.Array) -> jax.Array:
        return matmul(late, early)

    def apply(self, a: jax.Array, v: jax.Array) -> jax.Array:
        return matvec(a, self._blocks(v)).reshape(v.shape)

    def transpose(self, a: jax.Array) -> jax.Array:
        return jnp.swapaxes(a, -1, -2)

    def from_dense(self, j: jax.Array) -> jax.Array:
        m, b = j.shape[-1], self.size
        k = m // b
        blocks = j.reshape(j.shape[:-2] + (k, b, k, b))
        idx = jnp.arange(k)
        return jnp.moveaxis(blocks[..., idx, :, idx, :], 0, -3)

    def to_dense(self, a: jax.Array) -> jax.Array:
        k, b = a.shape[-3], a.shape[-1]
        eye = jnp.eye(k, dtype=a.dtype)
        dense = a[..., :, :, None, :] * eye[:, None, :, None]  # (..., K, b, K, b)
        return dense.reshape(a.shape[:-3] + (k * b, k * b))

    def scale_rows(self, a: jax.Array, d: jax.Array) -> jax.Array:
        return self._blocks(d)[..., :, :, None] * a

    def max_abs(self, a: jax.Array) -> jax.Array:
        return jnp.max(jnp.abs(a), axis=(-3, -2, -1))


@dataclasses.dataclass(frozen=True)
class Stacked(Structure):
    """Consecutive parts of the state with their own structures: ``parts[i]`` covers
    ``sizes[i]`` units; the matrices are tuples, one entry per part."""

    parts: tuple[Structure, ...]
    sizes: tuple[int, ...]

    def _split(self, v: jax.Array) -> list[jax.Array]:
        bounds = [sum(self.sizes[:i]) for i in range(1, len(self.sizes))]
        return jnp.split(v, bounds, axis=-1)

    def compose(self, late: tuple, early: tuple) -> tuple:
        return tuple(p.compose(l, e) for p, l, e in zip(self.parts, late, early, strict=True))

    def apply(self, a: tuple, v: jax.Array) -> jax.Array:
        pieces = self._split(v)
        return jnp.concatenate(
            [p.apply(ai, vi) for p, ai, vi in zip(self.parts, a, pieces, strict=True)], axis=-1
        )

    def transpose(self, a: tuple) -> tuple:
        return tuple(p.transpose(ai) for p, ai in zip(self.parts, a, strict=True))

    def from_dense(self, j: jax.Array) -> tuple:
        out, start = [], 0
        for part, size in zip(self.parts, self.sizes, strict=True):
            out.append(part.from_dense(j[..., start : start + size, start : start + size]))
            start += size
        return tuple(out)

    def to_dense(self, a: tuple) -> jax.Array:
        blocks = [p.to_dense(ai) for p, ai in zip(self.parts, a, strict=True)]
        m = sum(self.sizes)
        lead = blocks[0].shape[:-2]
        out = jnp.zeros(lead + (m, m), blocks[0].dtype)
        start = 0
        for block, size in zip(blocks, self.sizes, strict=True):
            out = out.at[..., start : start + size, start : start + size].set(block)
            start += size
        return out

    def scale_rows(self, a: tuple, d: jax.Array) -> tuple:
        pieces = self._split(d)
        return tuple(p.scale_rows(ai, di) for p, ai, di in zip(self.parts, a, pieces, strict=True))

    def max_abs(self, a: tuple) -> jax.Array:
        return jnp.max(
            jnp.stack([p.max_abs(ai) for p, ai in zip(self.parts, a, strict=True)]), axis=0
        )
