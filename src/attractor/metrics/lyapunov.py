"""Lyapunov exponents of a discrete map (a trained model's step, or a flow's sampling step).

The tangent-space method of Benettin et al. (1980, Meccanica 15:9) and Shimada & Nagashima
(1979, Prog. Theor. Phys. 61:1605): k orthonormal tangent vectors are carried along the orbit by
the map's Jacobian and re-orthonormalised by a QR decomposition every ``renorm_every`` steps; the
time-averaged ``log|R_ii|`` converge to the k largest exponents. Jacobian–vector products come
from autodiff (``jax.jvp``), so only the step function is needed — for a PLRNN it is
``z ↦ F_θ(z)``. Everything runs in float64 (scoped, see :mod:`attractor._precision`) in one
jitted ``lax.scan``.

The computation is :func:`attractor.systems.invariants.lyapunov_spectrum_from_step` (the systems
layer sits below metrics); this module fixes the DSR conventions and argument names on top of
it: the defaults of Mikhaeil et al. 2022 / the CNS-2023 tutorial (10 000 transient steps,
100 000 steps, QR every 10; dsr.md §3) and a plain float result for λ_max.

Exponents are per iteration; pass ``dt`` (the sampling step of the data) to get them per unit
of time: Lorenz-63 sampled at Δt = 0.01 has λ_max ≈ 0.906 per time unit (≈ 0.00906 per step).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from numpy.typing import ArrayLike

from attractor.errors import InputError
from attractor.systems.invariants import lyapunov_spectrum_from_step

StepFn = Callable[[jax.Array], jax.Array]


def _check(z0: ArrayLike, n_steps: int, transient: int, renorm_every: int, dt: float) -> None:
    if np.ndim(z0) != 1:
        raise InputError(f"z0: expected a state vector of shape (M,), got {np.shape(z0)}")
    if renorm_every < 1:
        raise InputError(f"renorm_every: must be >= 1, got {renorm_every}")
    if n_steps < renorm_every:
        raise InputError(f"n_steps: must be >= renorm_every = {renorm_every}, got {n_steps}")
    if transient < 0:
        raise InputError(f"transient: must be >= 0, got {transient}")
    if not dt > 0:
        raise InputError(f"dt: must be > 0, got {dt}")


def lyapunov_spectrum_of_map(
    step: StepFn,
    z0: ArrayLike,
    *,
    n_exponents: int | None = None,
    n_steps: int = 100_000,
    transient: int = 10_000,
    renorm_every: int = 10,
    dt: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """The ``n_exponents`` largest Lyapunov exponents of ``z ↦ step(z)``, per unit of time.

    Conventions:

    - the initial tangent frame is an orthonormalised Gaussian matrix drawn with
      ``jax.random.PRNGKey(seed)`` (generic, so it has a component along every direction);
    - the first ``transient`` steps (rounded down to whole blocks) move the orbit onto the
      attractor *and* align the frame; their growth factors are discarded;
    - then ``n_steps // renorm_every`` blocks of ``renorm_every`` steps (any remainder of
      ``n_steps`` is not run); after each block ``Q, R = qr(Q)`` and ``log|R_ii|`` is summed;
    - λ_i = Σ log|R_ii| / (steps · dt), sorted in descending order; ``step`` must be traceable
      by JAX and map an ``(M,)`` array to ``(M,)``; its output is cast to float64;
    - an exponent is ``-inf`` when the map contracts a tangent direction to exactly zero.

    ``renorm_every`` must keep ``‖J‖^renorm_every`` within float64 range: lower it for strongly
    expanding maps.

    Raises:
        InputError: bad arguments.
        DivergenceError: the orbit or the tangent frame became NaN/inf.
    """
    _check(z0, n_steps, transient, renorm_every, dt)
    m = int(np.shape(z0)[0])
    if n_exponents is not None and not 1 <= n_exponents <= m:
        raise InputError(f"n_exponents: must be in 1..{m}, got {n_exponents}")
    result = lyapunov_spectrum_from_step(
        step,
        z0,
        n_exponents=n_exponents,
        dt=float(dt),
        n_steps=int(n_steps),
        transient_steps=int(transient),
        qr_every=int(renorm_every),
        key=jax.random.PRNGKey(seed),
    )
    return np.asarray(result.exponents, dtype=np.float64)


def max_lyapunov_exponent(
    step: StepFn,
    z0: ArrayLike,
    *,
    n_steps: int = 100_000,
    transient: int = 10_000,
    renorm_every: int = 10,
    dt: float = 1.0,
    seed: int = 0,
) -> float:
    """Largest Lyapunov exponent λ_max of ``z ↦ step(z)``, per unit of time (divided by ``dt``).

    ``λ_max = lim (1/T) log‖∏_t J_t v‖`` (dsr.md §3), estimated with one tangent vector
    renormalised every ``renorm_every`` steps after ``transient`` steps (CNS-2023 defaults:
    10 000 transient, 100 000 steps, every 10). See :func:`lyapunov_spectrum_of_map` for the
    conventions.

    Example: Lorenz-63 sampled with Δt = 0.01 (step = one RK4 step of 0.01) gives ≈ 0.906 with
    ``dt=0.01``; a trained model's step with the data's Δt gives the same units.
    """
    lam = lyapunov_spectrum_of_map(
        step,
        z0,
        n_exponents=1,
        n_steps=n_steps,
        transient=transient,
        renorm_every=renorm_every,
        dt=dt,
        seed=seed,
    )
    return float(lam[0])


__all__ = ["lyapunov_spectrum_of_map", "max_lyapunov_exponent"]
