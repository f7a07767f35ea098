"""Spectral norms of many Jacobians without an SVD each: batched Lanczos on ``J^T J``.

Adaptive GTF (Hess, Monfared, Brenner & Durstewitz, ICML 2023, Algorithm 1) needs ``||J_t||_2``
for every state of a batch (16 x 200 = 3200 Jacobians, every 5 updates). A batched SVD of all of
them costs ~38 ms at ``M = 20`` on the 2-core CPU and grows like ``M^3``, and forming the dense
Jacobians alone grows like ``M^2 L`` for the shPLRNN. Here the largest eigenvalue of each
``G = J^T J`` is estimated by ``k`` steps of the Lanczos iteration (Lanczos 1950; Golub & Van Loan,
*Matrix Computations*, 4th ed., §10.1), all matrices at once, ``G`` never formed:

    v_1 = v0 / |v0|;   w = G v_j − β_{j−1} v_{j−1};   α_j = <w, v_j>;   w −= α_j v_j;
    β_j = |w|;   v_{j+1} = w / β_j

The largest eigenvalue ``θ_k`` of the tridiagonal ``T_k = tridiag(β, α, β)`` (found by Sturm-count
bisection, exact to float precision and fully vectorised) is a Ritz value of ``G``:
``θ_k ≤ λ_max(G) = ||J||_2²``, converging like ``exp(−4k√γ)`` in the gap ``γ`` (Kaniel–Paige
bound), much faster than the power iteration's ``(λ_2/λ_1)^k``; ``k = M`` spans the whole space.
The estimate is therefore a lower bound; with ``k = 12`` aGTF's kappa (geometric mean over time)
came within 1e-5 relative at ``M = 20`` and 2e-3 at ``M = 100`` on the worst of the models and
Gaussian matrices of ``benchmarks/agtf_estimate.py``. Without re-orthogonalisation, float rounding
only adds copies of converged Ritz values (Paige 1976), not values above ``λ_max`` beyond rounding.

``G v`` is applied either from dense Jacobians (:func:`dense_gram`, cheap for small ``M``) or
matrix-free (:func:`step_gram`): :func:`jax.linearize` of the batched step and its transpose, so
nothing of size ``M x M`` per state is formed; for the shPLRNN a product then costs ``4 M L`` per
state instead of the ``M^2 L`` of a dense Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array
Gram = Callable[[Array], Array]

#: Lanczos steps (capped at ``M``): 12 reach 1e-5 relative on aGTF's kappa at M = 20 and 2e-3 at
#: M = 100 (benchmarks/agtf_estimate.py); each step is one product with J and one with J^T.
LANCZOS_STEPS = 12
_BISECTION_STEPS = 40  # halvings of the Gershgorin bracket: 1e-12 of its width, past float32


def dense_gram(jacobians: Array) -> Gram:
    """``v -> J^T (J v)`` for a stack of dense Jacobians ``(K, M, M)`` and vectors ``(K, M)``."""

    def apply(v: Array) -> Array:
        jv = jnp.einsum("kij,kj->ki", jacobians, v)
        return jnp.einsum("kij,ki->kj", jacobians, jv)

    return apply


def step_gram(step: Callable[[Array], Array], states: Array) -> Gram:
    """``v -> J^T (J v)`` with ``J`` the Jacobian of ``step`` at each row of ``states``
    ``(K, M)``, matrix-free: the linearisation of the batched step and its transpose."""
    _, jvp = jax.linearize(jax.vmap(step), states)
    vjp = jax.linear_transpose(jvp, states)
    return lambda v: vjp(jvp(v))[0]


def lanczos_spectral_norms(gram: Gram, v0: Array, steps: int = LANCZOS_STEPS) -> Array:
    """``||J_k||_2`` estimated for every row ``k`` of the batch, from below (module docstring).

    Args:
        gram: ``v -> J^T J v`` applied row-wise to ``(K, M)`` vectors.
        v0: start vectors ``(K, M)`` (nonzero; a random draw, or a previous estimate's vectors to
            warm-start).
        steps: Lanczos steps ``k``; capped at ``M``.

    Returns:
        ``(K,)`` estimates, each at most the true norm up to rounding.
    """
    k = max(1, min(int(steps), v0.shape[-1]))
    v = v0 / jnp.linalg.norm(v0, axis=-1, keepdims=True)

    def lanczos_step(carry: tuple[Array, Array, Array], _: Any) -> tuple[tuple, tuple]:
        v_prev, v, beta_prev = carry
        w = gram(v) - beta_prev[:, None] * v_prev
        alpha = jnp.sum(w * v, axis=-1)
        w = w - alpha[:, None] * v
        beta = jnp.linalg.norm(w, axis=-1)
        v_next = w / jnp.where(beta > 0, beta, 1.0)[:, None]  # breakdown: G's space exhausted
        return (v, v_next, beta), (alpha, beta)

    zero = jnp.zeros(v.shape[0], v.dtype)
    _, (alphas, betas) = jax.lax.scan(lanczos_step, (jnp.zeros_like(v), v, zero), None, length=k)
    top = largest_tridiagonal_eigenvalue(alphas.T, betas[:-1].T)
    return jnp.sqrt(jnp.maximum(top, 0.0))


def largest_tridiagonal_eigenvalue(diag: Array, off: Array) -> Array:
    """Largest eigenvalue of symmetric tridiagonal matrices: ``diag`` ``(K, k)``, ``off``
    ``(K, k - 1)``, by bisection on the Sturm count inside the Gershgorin bracket.

    The count of eigenvalues below ``x`` is the number of negative pivots of the ``LDL^T``
    factorisation of ``T - x I``: ``q_1 = d_1 - x``, ``q_i = d_i - x - e_{i-1}^2 / q_{i-1}``
    (Golub & Van Loan, §8.4.1); ``λ_max < x`` exactly when all ``k`` pivots are negative.
    """
    k = diag.shape[-1]
    radius = jnp.abs(jnp.pad(off, ((0, 0), (1, 0)))) + jnp.abs(jnp.pad(off, ((0, 0), (0, 1))))
    lo = jnp.max(diag, axis=-1)  # λ_max >= every diagonal entry
    hi = jnp.max(diag + radius, axis=-1)  # Gershgorin
    tiny = jnp.finfo(diag.dtype).tiny
    off_sq = off**2

    def all_below(x: Array) -> Array:
        q = diag[:, 0] - x
        negative = q < 0
        for i in range(1, k):
            q = jnp.where(jnp.abs(q) < tiny, -tiny, q)
            q = diag[:, i] - x - off_sq[:, i - 1] / q
            negative = negative & (q < 0)
        return negative

    def halve(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        below = all_below(mid)
        return jnp.where(below, lo, mid), jnp.where(below, mid, hi)

    _, hi = jax.lax.fori_loop(0, _BISECTION_STEPS, halve, (lo, hi))
    return hi


__all__ = [
    "LANCZOS_STEPS",
    "dense_gram",
    "lanczos_spectral_norms",
    "largest_tridiagonal_eigenvalue",
    "step_gram",
]
