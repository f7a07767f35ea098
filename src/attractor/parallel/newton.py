"""Parallel-in-time evaluation of a recurrence by Newton's method (DEER / ParaRNN), with a
sequential fallback and an exact adjoint backward pass.

**The equations.** A recurrence ``h_t = f(h_{t-1}, x_t)``, ``t = 1..T``, from a known ``h_0``, is
one nonlinear system ``F(H) = 0`` in all states at once, with residuals
``r_t = h_t - f(h_{t-1}, x_t)`` (Lim et al., ICLR 2024, "Parallelizing non-linear sequential
models over the sequence length" (DEER); Danieli et al. 2025, arXiv 2510.21450 (ParaRNN)). Its
Jacobian is block-bidiagonal (``I`` on the diagonal, ``-J_t`` below it, ``J_t = df/dh`` at
``h_{t-1}``), so a Newton step ``delta`` solves the affine recurrence

    delta_t = J_t delta_{t-1} - r_t,        delta_0 = 0,

one affine scan (:func:`attractor.parallel.scan.affine_scan`: an associative scan of ``O(log T)``
depth on accelerators; on a CPU a loop, which measured faster there), and the iterate moves to
``H + omega delta`` (``omega`` = ``damping``; ParaRNN's ``omega_sor``). The nonlinear step and
its Jacobian are always evaluated for all time steps at once.
Iterations stop when the largest residual falls below ``tol * (1 + max|h|)``, after
``max_iterations``, or when an iterate overflows (``max|h| > max_abs``) or turns NaN.

**Chaos.** On chaotic dynamics (largest Lyapunov exponent ``lambda > 0``) Newton needs about
``T`` iterations or overflows (Gonzalez et al. 2025, arXiv 2508.16817). Generalized teacher
forcing multiplies every Jacobian by ``(1 - alpha)`` on the forced units (Hess et al., ICML 2023),
i.e. shifts the exponent to ``lambda + ln(1 - alpha)``; once that is negative, full Newton
converges in a few iterations, flat in ``T`` (measurements in ``shared/reference/parallel.md``
§5). The solver knows nothing of forcing: the caller folds it into ``f`` (see
:mod:`attractor.train.time_parallel`). When it does not converge it **falls back** to the
sequential ``lax.scan`` and says so: the returned :class:`NewtonInfo` has ``fell_back = True``
and, with ``warn=True``, a warning is logged from inside the compiled code.

**Backward pass (adjoint).** At the solution ``H*`` the gradient of a loss ``L(H*)`` with
cotangents ``g_t = dL/dh_t`` follows from the adjoint states

    lambda_T = g_T,        lambda_t = g_t + J_{t+1}^T lambda_{t+1},

one reverse associative scan with the transposed Jacobians, and one vector-Jacobian product of
``f`` over all ``t`` at ``(h_{t-1}, x_t)`` with cotangents ``lambda_t``: it gives the gradients
with respect to the parameters (summed over ``t``), every input ``x_t`` and ``h_0``. This is
exactly backpropagation through the sequential loop when the forward pass has converged (or fell
back), with ``O(T M)`` saved states and no replay of the iterations. The Jacobians at the solution
are computed once, at the end of the forward iterations, and kept for the backward pass.

**Jacobians.** By default ``jax.jacfwd`` of ``f`` (dense); a caller may pass ``jacobian`` with a
:mod:`structure <attractor.parallel.structure>` (diagonal cells, 2 x 2 blocks, the PLRNN family's
analytic Jacobians). A structure that drops part of the true Jacobian (``Diagonal`` of a dense
one) gives a quasi-Newton method (Gonzalez et al., NeurIPS 2024, quasi-DEER): it converges
linearly, and its backward pass refines the adjoint with exact vector-Jacobian products (the
gradient stays exact).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.parallel.scan import SCAN_METHODS, affine_scan, log_growth
from attractor.parallel.structure import Dense, Structure

_DENSE = Dense()

log = logging.getLogger(__name__)

#: Default residual tolerance, relative to ``1 + max|h|``, by floating-point type.
DEFAULT_TOL = {jnp.dtype(jnp.float32): 1e-5, jnp.dtype(jnp.float64): 1e-10}

#: Matrix products inside the solver (the step, its Jacobians, the scans) in full float32 /
#: float64. On GPUs float32 products default to TF32 (10-bit mantissa, relative error ~1e-3):
#: the residual then stalls above the float32 tolerance and every dense solve fell back to the
#: sequential scan on an H200 (2026-11-29). A no-op on CPUs.
MATMUL_PRECISION = "highest"

#: Evaluate the step and its Jacobians over all ``(t, b)`` as two separate programs on a CPU
#: (an ``optimization_barrier`` between them). XLA's CPU backend otherwise merges the two into one
#: multi-output loop that ran 2x slower than both apart: ParaGRU, 64 units, T = 4096, batch 16,
#: one core: 71 ms together against 15 + 18 ms (``benchmarks/parallel_scan.py --pieces``).
SEPARATE_JACOBIAN_ON_CPU = True

#: ``f(params, h (M,), x) -> h (M,)`` for one state and one input (any pytree).
StepFn = Callable[[Any, jax.Array, Any], jax.Array]
#: ``jacobian(params, h (M,), x)``: ``df/dh`` at ``h``, stored as the solver's structure says.
JacobianFn = Callable[[Any, jax.Array, Any], Any]


@dataclasses.dataclass(frozen=True)
class NewtonConfig:
    """Settings of :func:`newton_solve`.

    Attributes:
        max_iterations: Newton iterations before giving up (then: the fallback). ParaRNN runs
            exactly 3; forced chaotic PLRNNs needed 2-8 (reference §5).
        tol: residual tolerance relative to ``1 + max|h|``; ``None``: 1e-5 in float32, 1e-10 in
            float64.
        damping: step fraction ``omega`` in ``(0, 1]`` (1: plain Newton).
        max_abs: an iterate with ``max|h|`` above this counts as diverged (overflow guard).
        fallback: run the sequential scan when Newton does not converge (else return the last
            iterate, with ``converged = False``).
        scan: how the linear recurrence of each step is solved
            (:func:`attractor.parallel.scan.affine_scan`'s ``method``; ``auto``: associative
            scan on accelerators, a sequential loop on a CPU).
    """

    max_iterations: int = 10
    tol: float | None = None
    damping: float = 1.0
    max_abs: float = 1e8
    fallback: bool = True
    scan: str = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.max_iterations, bool) or not isinstance(self.max_iterations, int) \
                or self.max_iterations < 1:
            raise InputError(f"max_iterations must be a positive integer, got "
                             f"{self.max_iterations!r}")
        if self.tol is not None and not self.tol > 0:
            raise InputError(f"tol must be > 0, got {self.tol!r}")
        if not 0 < self.damping <= 1:
            raise InputError(f"damping must lie in (0, 1], got {self.damping!r}")
        if not self.max_abs > 0:
            raise InputError(f"max_abs must be > 0, got {self.max_abs!r}")
        if self.scan not in SCAN_METHODS:
            raise InputError(f"scan must be one of {', '.join(SCAN_METHODS)}, got {self.scan!r}")


class NewtonInfo(NamedTuple):
    """What a solve did (arrays, so it can leave compiled code).

    Attributes:
        iterations: Newton iterations run.
        converged: the residual met the tolerance.
        fell_back: the states come from the sequential fallback.
        residual: largest residual of the last Newton iterate (before any fallback), relative to
            ``1 + max|h|``.
        growth: ``(1/T) ln ||J_T ... J_1||`` along the first sequence of the batch at the
            returned states: the finite-time largest Lyapunov exponent of the (forced) recurrence.
    """

    iterations: jax.Array
    converged: jax.Array
    fell_back: jax.Array
    residual: jax.Array
    growth: jax.Array


def newton_solve(
    f: StepFn,
    params: Any,
    h0: jax.Array,
    xs: Any,
    *,
    structure: Structure = _DENSE,
    jacobian: JacobianFn | None = None,
    init: jax.Array | None = None,
    config: NewtonConfig = NewtonConfig(),
    warn: bool = True,
) -> tuple[jax.Array, NewtonInfo]:
    """States ``h_1..h_T`` of ``h_t = f(params, h_{t-1}, x_t)``, solved in parallel over time.

    Args:
        f: one step for one state ``(M,)``; batch axes are added by ``vmap``.
        params: pytree of arrays ``f`` depends on (differentiable).
        h0: initial states ``(*batch, M)``.
        xs: inputs, a pytree whose leaves are ``(T, *batch, ...)``.
        structure: how Jacobians are stored; with ``jacobian=None`` the dense ``jacfwd`` of ``f``
            is reduced to it (quasi-Newton unless the Jacobian has the structure).
        jacobian: ``df/dh`` in ``structure``'s storage, for one state.
        init: initial guess ``(T, *batch, M)`` (default: zeros).
        config: iteration settings.
        warn: log a warning when the fallback runs.

    Returns:
        ``(H, info)``: ``H`` ``(T, *batch, M)`` and a :class:`NewtonInfo`. Differentiable (reverse
        mode) with respect to ``params``, ``h0`` and ``xs``, by the adjoint of the module
        docstring.
    """
    n_batch = h0.ndim - 1
    if jacobian is None:
        jacobian = _autodiff_jacobian(f, structure)
    f_all = _over_time_and_batch(f, n_batch)
    jac_all = _over_time_and_batch(jacobian, n_batch)
    length = jax.tree_util.tree_leaves(xs)[0].shape[0]
    if init is None:
        init = jnp.zeros((length,) + h0.shape, h0.dtype)
    tol = config.tol if config.tol is not None else DEFAULT_TOL.get(h0.dtype, 1e-5)

    def forward(params: Any, h0: jax.Array, xs: Any, init: jax.Array):
        with jax.default_matmul_precision(MATMUL_PRECISION):
            return _solve(f, f_all, jac_all, structure, params, h0, xs, init, config, tol, warn)

    @jax.custom_vjp
    def run(params: Any, h0: jax.Array, xs: Any, init: jax.Array):
        hs, _, info = forward(params, h0, xs, init)
        return hs, info

    def run_fwd(params: Any, h0: jax.Array, xs: Any, init: jax.Array):
        hs, jac, info = forward(params, h0, xs, init)
        return (hs, info), (params, h0, xs, hs, jac)

    def run_bwd(residuals: tuple, cotangents: tuple):
        params, h0, xs, hs, jac = residuals
        with jax.default_matmul_precision(MATMUL_PRECISION):
            g_params, g_prev, g_xs = _adjoint(f, f_all, structure, params, h0, xs, hs, jac,
                                              cotangents[0], config, tol, warn)
        return g_params, g_prev[0], g_xs, jnp.zeros_like(init)

    run.defvjp(run_fwd, run_bwd)
    return run(params, h0, xs, jax.lax.stop_gradient(init))


def sequential_solve(f: StepFn, params: Any, h0: jax.Array, xs: Any) -> jax.Array:
    """The same states by a ``lax.scan`` over time (the reference and the fallback)."""
    f_batch = _over_batch(f, h0.ndim - 1)

    def body(h: jax.Array, x: Any) -> tuple[jax.Array, jax.Array]:
        h = f_batch(params, h, x)
        return h, h

    _, hs = jax.lax.scan(body, h0, xs)
    return hs


def _solve(f, f_all, jac_all, structure, params, h0, xs, init, config, tol, warn):
    """Newton iterations, then the fallback; returns states, their Jacobians and the info."""

    def previous(h: jax.Array) -> jax.Array:
        return jnp.concatenate([h0[None], h[:-1]])

    def evaluate(h: jax.Array) -> tuple[jax.Array, Any, jax.Array, jax.Array]:
        """Residual, Jacobians at the previous states, relative residual, health."""
        prev = previous(h)
        r = h - f_all(params, prev, xs)
        scale = 1.0 + jnp.max(jnp.abs(h))
        ok = jnp.all(jnp.isfinite(r)) & (jnp.max(jnp.abs(h)) <= config.max_abs)
        at = (params, prev, xs)
        if SEPARATE_JACOBIAN_ON_CPU and jax.default_backend() == "cpu":
            at = jax.lax.optimization_barrier((at, r))[0]  # after f, not fused with it
        return r, jac_all(*at), jnp.max(jnp.abs(r)) / scale, ok

    def not_done(state: tuple) -> jax.Array:
        _, _, _, rel, ok, k = state
        return (k < config.max_iterations) & ok & (rel > tol)

    def newton_step(state: tuple) -> tuple:
        h, r, jac, _, _, k = state
        delta = affine_scan(jac, -r, structure=structure, method=config.scan)
        h = h + config.damping * delta
        r, jac, rel, ok = evaluate(h)
        return h, r, jac, rel, ok, k + 1

    r, jac, rel, ok = evaluate(init)
    state = (init, r, jac, rel, ok, jnp.asarray(0, jnp.int32))
    h, _, jac, rel, ok, iterations = jax.lax.while_loop(not_done, newton_step, state)
    converged = ok & (rel <= tol)
    fell_back = ~converged if config.fallback else jnp.asarray(False)

    def sequential(_: Any) -> tuple[jax.Array, Any]:
        if warn:
            jax.debug.callback(_warn_fallback, iterations, rel)
        hs = sequential_solve(f, params, h0, xs)
        return hs, jac_all(params, previous(hs), xs)

    if config.fallback:
        h, jac = jax.lax.cond(fell_back, sequential, lambda _: (h, jac), None)
    first = jax.tree_util.tree_map(lambda j: j[(slice(None),) + (0,) * (h0.ndim - 1)], jac)
    growth = log_growth(first, structure=structure)
    info = NewtonInfo(iterations, converged, fell_back, rel, growth)
    return h, jac, info


def _adjoint(f, f_all, structure, params, h0, xs, hs, jac, g, config, tol, warn):
    """Cotangents of ``(params, h_prev, xs)`` from the adjoint states of the module docstring.

    ``lambda`` comes from one reverse scan with the transposed Jacobians of ``jac``. When those
    are exact that is the answer; when the structure dropped part of the Jacobian (quasi-Newton)
    the residual of the adjoint recurrence, evaluated exactly by the vector-Jacobian product that
    the parameter gradient needs anyway, is removed by further scans (iterative refinement), and
    if that does not converge the recurrence runs sequentially. So the gradient is exact in
    every case.
    """
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    _, vjp = jax.vjp(f_all, params, h_prev, xs)
    # lambda_t = g_t + J_{t+1}^T lambda_{t+1}: the step-t element carries J_{t+1}^T (the last
    # one's matrix is never used, see affine_scan).
    shifted = jax.tree_util.tree_map(lambda j: jnp.concatenate([j[1:], j[:1]]),
                                     structure.transpose(jac))

    def reverse(b: jax.Array) -> jax.Array:
        return affine_scan(shifted, b, structure=structure, reverse=True, method=config.scan)

    def pull(lam: jax.Array) -> tuple[jax.Array, jax.Array, tuple]:
        grads = vjp(lam)
        through = jnp.concatenate([grads[1][1:], jnp.zeros_like(grads[1][:1])])
        rho = lam - g - through
        return rho, jnp.max(jnp.abs(rho)) / (jnp.max(jnp.abs(lam)) + jnp.finfo(g.dtype).tiny), grads

    def not_done(state: tuple) -> jax.Array:
        _, _, rel, _, k = state
        return (k < config.max_iterations) & (rel > tol)

    def refine(state: tuple) -> tuple:
        lam, rho, _, _, k = state
        lam = lam + reverse(-rho)
        return (lam, *pull(lam), k + 1)

    lam = reverse(g)
    state = jax.lax.while_loop(not_done, refine, (lam, *pull(lam), jnp.asarray(0, jnp.int32)))
    _, _, rel, grads, _ = state

    def sequential(_: Any) -> tuple:
        if warn:
            jax.debug.callback(_warn_fallback, config.max_iterations, rel)
        f_batch = _over_batch(f, h0.ndim - 1)

        def body(lam_next: jax.Array, inputs: tuple) -> tuple[jax.Array, jax.Array]:
            h_t, x_next, g_t = inputs
            _, pull_back = jax.vjp(lambda h: f_batch(params, h, x_next), h_t)
            lam_t = g_t + pull_back(lam_next)[0]
            return lam_t, lam_t

        x_next = jax.tree_util.tree_map(lambda x: x[1:], xs)
        _, lams = jax.lax.scan(body, g[-1], (hs[:-1], x_next, g[:-1]), reverse=True)
        return vjp(jnp.concatenate([lams, g[-1:]]))

    if config.fallback:
        grads = jax.lax.cond(rel <= tol, lambda _: grads, sequential, None)
    return grads


def _warn_fallback(iterations: Any, residual: Any) -> None:
    log.warning(
        "parallel Newton (or its adjoint) did not converge (%d iterations, relative residual "
        "%.3g): fell back to the sequential scan; more forcing (a larger alpha) makes the "
        "recurrence contracting",
        int(iterations), float(residual),
    )


def _autodiff_jacobian(f: StepFn, structure: Structure) -> JacobianFn:
    def jacobian(params: Any, h: jax.Array, x: Any) -> Any:
        return structure.from_dense(jax.jacfwd(f, argnums=1)(params, h, x))

    return jacobian


def _over_batch(fn: Callable, n_batch: int) -> Callable:
    for _ in range(n_batch):
        fn = jax.vmap(fn, in_axes=(None, 0, 0))
    return fn


def _over_time_and_batch(fn: Callable, n_batch: int) -> Callable:
    """``fn(params, h, x)`` mapped over a leading time axis and ``n_batch`` batch axes."""
    return jax.vmap(_over_batch(fn, n_batch), in_axes=(None, 0, 0))
