"""Delay differential equations: the Mackey–Glass system and a fixed-step RK4 DDE integrator.

Convention (:mod:`attractor.systems.base`): ``rhs(x, x_delayed, t, p) -> dx/dt`` with the delay
``p["tau"]``; the state ``x`` is what is observed (dimension ``dim``), the history is constant,
``x(t) = x0`` for ``t ≤ 0``.

Integration (method of steps with classical RK4; Bellen & Zennaro 2003, *Numerical Methods for
Delay Differential Equations*, ch. 3–4): steps of length ``h = dt / n_sub`` with a ring buffer of
the last ``ceil(τ/h) + 2`` grid values inside ``lax.scan``; the delayed value at a stage time
``t + c·h`` is linearly interpolated between grid values (exact at grid points when ``τ/h`` is an
integer, as for the defaults: τ = 17, h = 0.1). Overall accuracy is second order in ``h``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import System

Array = jax.Array
Params = Mapping[str, Array]
DelayRhs = Callable[[Array, Array, Array, Params], Array]


def mackey_glass_rhs(x: Array, x_delayed: Array, t: Array, p: Params) -> Array:
    """dx/dt = β x_τ / (1 + x_τ^n) − γ x (Mackey & Glass 1977)."""
    return p["beta"] * x_delayed / (1.0 + x_delayed ** p["n"]) - p["gamma"] * x


MACKEY_GLASS = System(
    name="mackey_glass",
    kind="delay",
    dim=1,
    rhs=mackey_glass_rhs,
    params={"beta": 0.2, "gamma": 0.1, "n": 10.0, "tau": 17.0},
    initial_condition=(1.2,),
    dt=1.0,
    citation="Mackey, M. C. & Glass, L. (1977). Oscillation and chaos in physiological control "
    "systems. Science 197:287-289; tau=17 as in Farmer, J. D. (1982). Physica D 4:366-393.",
    description="Blood-cell production with delayed feedback; constant history x0. tau=17 is "
    "the field's standard chaotic case (dysts uses 16)",
    integrator_dt=0.1,
    transient=500.0,
)


def _delayed(buf: Array, head: Array, back: float) -> Array:
    """Linear interpolation of the buffered solution ``back`` steps (≥ 0, fractional) ago."""
    size = buf.shape[0]
    q = math.floor(back)
    frac = back - q
    newer = buf[(head - q) % size]
    if frac == 0.0:
        return newer
    older = buf[(head - q - 1) % size]
    return (1.0 - frac) * newer + frac * older


@functools.lru_cache(maxsize=64)
def _compiled_delay(
    rhs: DelayRhs, n: int, n_sub: int, lag: float, noisy: bool
) -> Callable[..., Array]:
    """Compiled integrator for a delay of ``lag = τ/h`` steps (static: it sizes the buffer)."""
    size = math.ceil(lag) + 2
    f = jax.vmap(rhs, in_axes=(0, 0, None, None))

    @jax.jit
    def run(
        y0: Array, n_tr: Array, dt: Array, p: Params, key: Array, sigma: Array
    ) -> Array:
        h = dt / n_sub

        def substep(state: tuple[Array, Array, Array], i: Array) -> tuple[Array, Array, Array]:
            x, buf, head = state
            t = i * h
            d0, d_half, d1 = (_delayed(buf, head, lag - c) for c in (0.0, 0.5, 1.0))
            k1 = f(x, d0, t, p)
            k2 = f(x + 0.5 * h * k1, d_half, t + 0.5 * h, p)
            k3 = f(x + 0.5 * h * k2, d_half, t + 0.5 * h, p)
            k4 = f(x + h * k3, d1, t + h, p)
            x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            if noisy:
                noise = jax.random.normal(jax.random.fold_in(key, i), x.shape, x.dtype)
                x = x + sigma * jnp.sqrt(h) * noise
            head = (head + 1) % size
            return x, buf.at[head].set(x), head

        def sample(k: Array, state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
            return jax.lax.fori_loop(0, n_sub, lambda i, s: substep(s, k * n_sub + i), state)

        state = (y0, jnp.broadcast_to(y0, (size, *y0.shape)), jnp.asarray(0))
        state = jax.lax.fori_loop(0, n_tr, sample, state)

        def body(s: tuple[Array, Array, Array], k: Array) -> tuple[tuple, Array]:
            return sample(n_tr + k, s), s[0]

        _, ys = jax.lax.scan(body, state, jnp.arange(n))
        return jnp.swapaxes(ys, 0, 1)

    return run


def integrate_delay(
    rhs: DelayRhs,
    y0: Array,
    params: Mapping[str, float],
    *,
    n: int,
    dt: float,
    n_sub: int,
    n_transient: int = 0,
    key: Array | None = None,
    noise: float = 0.0,
) -> Array:
    """Integrate a DDE from constant history ``y0`` ``(B, D)``; samples ``(B, n, D)``.

    Row 0 is the state at ``t = n_transient·dt``. ``params["tau"]`` must be at least one step
    ``dt/n_sub``. With ``noise > 0``, additive noise ``noise·sqrt(h)·ξ`` per step (``key``).
    Call inside :func:`attractor._precision.float64`.
    """
    h = dt / n_sub
    lag = float(params["tau"]) / h
    if lag < 1.0:
        raise ValueError(f"delay tau={params['tau']} is shorter than the step {h}")
    lag = round(lag, 9)  # τ/h that is an integer up to rounding takes the exact-grid path
    if key is None:
        key = jax.random.PRNGKey(0)
    run = _compiled_delay(rhs, int(n), int(n_sub), lag, noise > 0.0)
    p = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
    return run(
        jnp.asarray(y0, jnp.float64), jnp.asarray(n_transient, jnp.int32),
        jnp.asarray(dt, jnp.float64), p, key, jnp.asarray(noise, jnp.float64),
    )  # fmt: skip


SYSTEMS: tuple[System, ...] = (MACKEY_GLASS,)

__all__ = ["MACKEY_GLASS", "SYSTEMS", "integrate_delay", "mackey_glass_rhs"]
