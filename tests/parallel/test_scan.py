"""The associative scan of affine maps equals the sequential recurrence, for every structure."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.parallel import (
    BlockDiagonal,
    Dense,
    Diagonal,
    Stacked,
    affine_scan,
    log_growth,
    sequential_affine,
)

T, BATCH = 37, 3  # T not a power of two
scan = jax.jit(affine_scan, static_argnames=("structure", "reverse", "method"))
sequential = jax.jit(sequential_affine, static_argnames=("structure", "reverse"))
growth = jax.jit(log_growth, static_argnames=("structure",))
STRUCTURES = {
    "dense": (Dense(), 5),
    "dense-large": (Dense(), 11),  # above SMALL_MATRIX: jnp.matmul
    "diagonal": (Diagonal(), 6),
    "block": (BlockDiagonal(2), 6),
    "stacked": (Stacked((Diagonal(), BlockDiagonal(2)), (3, 4)), 7),
}


def _random(structure, m: int, key) -> tuple:
    """Random matrices in ``structure``'s storage (spectral radius ~0.9) and offsets."""
    k_a, k_b = jax.random.split(key)
    dense = 0.9 * jax.random.normal(k_a, (T, BATCH, m, m), jnp.float64) / np.sqrt(m)
    a = structure.from_dense(dense)
    b = jax.random.normal(k_b, (T, BATCH, m), jnp.float64)
    return a, b


@pytest.mark.parametrize("name", sorted(STRUCTURES))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("method", ["associative", "chunked"])
def test_parallel_scans_equal_sequential(name: str, reverse: bool, method: str) -> None:
    structure, m = STRUCTURES[name]
    with float64():
        a, b = _random(structure, m, jax.random.PRNGKey(len(name)))
        parallel = np.asarray(scan(a, b, structure=structure, reverse=reverse, method=method))
        reference = sequential(a, b, structure=structure, reverse=reverse)
        np.testing.assert_allclose(parallel, reference, rtol=1e-12, atol=1e-12)
        # ... and the sequential recurrence with dense matrices, written out by hand.
        dense, b = np.asarray(structure.to_dense(a)), np.asarray(b)
        h = np.zeros((BATCH, m))
        order = range(T - 1, -1, -1) if reverse else range(T)
        for t in order:
            h = np.einsum("bij,bj->bi", dense[t], h) + b[t]
            np.testing.assert_allclose(parallel[t], h, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_structure_operations_match_dense_algebra(name: str) -> None:
    structure, m = STRUCTURES[name]
    with float64():
        a, b = _random(structure, m, jax.random.PRNGKey(1))
        a2, _ = _random(structure, m, jax.random.PRNGKey(2))
        da, da2 = structure.to_dense(a), structure.to_dense(a2)
        np.testing.assert_allclose(structure.to_dense(structure.compose(a, a2)), da @ da2,
                                   rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(structure.apply(a, b), np.einsum("...ij,...j", da, b),
                                   rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(structure.to_dense(structure.transpose(a)),
                                   np.swapaxes(da, -1, -2))
        np.testing.assert_allclose(structure.to_dense(structure.scale_rows(a, b)),
                                   b[..., :, None] * da, rtol=1e-12)
        np.testing.assert_allclose(structure.max_abs(a), np.max(np.abs(da), axis=(-2, -1)))
        # from_dense keeps exactly what the structure stores
        np.testing.assert_array_equal(structure.to_dense(structure.from_dense(da)), da)


def test_log_growth_is_the_rate_of_the_product() -> None:
    with float64():
        a, _ = _random(Dense(), 4, jax.random.PRNGKey(3))
        a = np.asarray(a)
        product = np.eye(4)[None].repeat(BATCH, 0)
        for t in range(T):
            product = np.einsum("bij,bjk->bik", a[t], product)
        expected = np.log(np.max(np.abs(product), axis=(-2, -1))) / T
        np.testing.assert_allclose(growth(a), expected, rtol=1e-10)
        # 10^4 steps of a contraction by 1/2 and an expansion by 3: no under- or overflow.
        for factor in (0.5, 3.0):
            diag = jnp.full((10_000, 2), factor)
            np.testing.assert_allclose(growth(diag, structure=Diagonal()), np.log(factor),
                                       rtol=1e-10)
