"""Integrators: adaptive explicit Runge–Kutta for flows, iteration for maps, fixed-step schemes.

Every public function here takes a batch of initial conditions ``y0`` of shape ``(B, D)`` and
returns samples of shape ``(B, n, D)`` at the times ``t_k = t0 + k * dt`` (``k = 0 … n-1``), where
``t0 = n_transient * dt``: row 0 is the state after the transient. All of it runs in float64
inside :func:`attractor._precision.float64` (the global x64 flag is never touched).

Flows (:func:`integrate_flow`) use an embedded explicit Runge–Kutta pair with the classical
step-size controller (Hairer, Nørsett & Wanner, *Solving ODEs I*, 2nd ed., 1993, §II.4): the error
of a step is ``‖err / (atol + rtol·max(|y|, |y_new|))‖_RMS`` and the next step is
``h · clip(0.9 · err^(-1/(q+1)), 0.2, 10)`` with ``q`` the order of the embedded estimate. The
Butcher tableaus are diffrax's (``Dopri8``: Prince & Dormand 1981, order 8(7); ``Dopri5``:
Dormand & Prince 1980; ``Tsit5``: Tsitouras 2011; ``Bosh3``: Bogacki & Shampine 1989). Steps are
clipped to land exactly on the sample times, so no dense-output interpolation is needed; each
initial condition keeps its own step size (batched arrays, not a shared step), so one initial
condition gives the same numbers alone or in a batch.

Why not ``diffrax.diffeqsolve`` by default: its general machinery takes ~1–1.5 s to trace and
compile per right-hand side on a 2-core CPU, against ~0.3 s for this loop, and the first call is
what a catalogue-wide benchmark pays. ``diffeqsolve`` remains available: pass a diffrax solver
instance as ``method`` (e.g. ``diffrax.Kvaerno5()`` for stiff systems).

Compiled functions are cached per (right-hand side, n, method); ``dt``, ``t0``, the tolerances,
the initial conditions and the parameters are runtime arguments, so changing them never
recompiles (a new batch size does).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError

Params = Mapping[str, Any]

#: status codes returned next to the samples, one per initial condition
OK, NONFINITE, MAX_STEPS = 0, 1, 2

_SAFETY, _FAC_MIN, _FAC_MAX = 0.9, 0.2, 10.0
_STRETCH = 1.01  # a step may grow by 1 % to land exactly on the next sample time


@dataclasses.dataclass(frozen=True)
class Tableau:
    """An explicit embedded Runge–Kutta pair: nodes ``c``, matrix ``a``, weights ``b``, ``e``.

    ``e`` gives the local error estimate ``h Σ e_i k_i``; ``error_order`` is the order ``q`` of
    that estimate (the controller exponent is ``-1/(q+1)``).
    """

    c: np.ndarray
    a: np.ndarray
    b: np.ndarray
    e: np.ndarray
    error_order: int

    @property
    def stages(self) -> int:
        return len(self.c)


#: name -> (diffrax solver class, error order). diffrax is imported when a tableau is first
#: needed, not with the package: it costs ~1.2 s, which every CLI command (and every error
#: message about a system) would otherwise pay.
_DIFFRAX_SOLVERS: dict[str, tuple[str, int]] = {
    "dopri8": ("Dopri8", 7),
    "dopri5": ("Dopri5", 4),
    "tsit5": ("Tsit5", 4),
    "bosh3": ("Bosh3", 2),
}
METHODS: tuple[str, ...] = tuple(_DIFFRAX_SOLVERS)


@functools.cache
def tableau(method: str) -> Tableau:
    """The Butcher tableau of ``method`` (one of :data:`METHODS`), read from diffrax."""
    if method not in _DIFFRAX_SOLVERS:
        raise InputError(f"method must be one of {METHODS} or a diffrax solver, got {method!r}")
    import diffrax

    solver_name, error_order = _DIFFRAX_SOLVERS[method]
    tab = getattr(diffrax, solver_name).tableau
    b, e = np.asarray(tab.b_sol, dtype=np.float64), np.asarray(tab.b_error, dtype=np.float64)
    c = np.concatenate([[float(tab.c1)], np.asarray(tab.c, dtype=np.float64)])
    stages = len(c)
    if b[-1] == 0.0 and e[-1] == 0.0:  # FSAL stage that neither solution nor error uses
        stages -= 1
    a = np.zeros((stages, stages))
    for i, row in enumerate(tab.a_lower[: stages - 1]):
        a[i + 1, : len(row)] = np.asarray(row, dtype=np.float64)
    return Tableau(c[:stages], a, b[:stages], e[:stages], error_order)


# ----------------------------------------------------------------------------- adaptive flows
def _rk_step(
    f: Callable[..., jax.Array], tab: Tableau, t: jax.Array, y: jax.Array, h: jax.Array, p: Params
) -> tuple[jax.Array, jax.Array]:
    """One step of the pair for a batch: ``t, h`` ``(B,)``, ``y`` ``(B, D)`` -> (y_new, error).

    The stages run in a ``fori_loop`` (the right-hand side appears once in the compiled program:
    ~2x faster to compile than unrolled stages) and combine by a sum over the stage axis, so
    every initial condition sees the same arithmetic whatever the batch size.
    """
    hh = h[:, None]
    a, c = jnp.asarray(tab.a), jnp.asarray(tab.c)

    def stage(i: jax.Array, k: jax.Array) -> jax.Array:
        yi = y + hh * jnp.sum(a[i][:, None, None] * k, axis=0)
        return k.at[i].set(f(yi, t + c[i] * h, p))

    k = jax.lax.fori_loop(0, tab.stages, stage, jnp.zeros((tab.stages, *y.shape), y.dtype))
    y_new = y + hh * jnp.sum(jnp.asarray(tab.b)[:, None, None] * k, axis=0)
    return y_new, hh * jnp.sum(jnp.asarray(tab.e)[:, None, None] * k, axis=0)


def _adaptive_advance(
    f: Callable[..., jax.Array], tab: Tableau, max_steps: int
) -> Callable[..., tuple[tuple[jax.Array, ...], jax.Array]]:
    """``advance(carry, target, p)``: step every initial condition up to the time ``target``."""
    exponent = -1.0 / (tab.error_order + 1)

    def advance(
        carry: tuple[jax.Array, ...], target: jax.Array, p: Params, rtol: jax.Array,
        atol: jax.Array,
    ) -> tuple[tuple[jax.Array, ...], tuple[jax.Array, jax.Array]]:  # fmt: skip
        def active_of(t: jax.Array, status: jax.Array) -> jax.Array:
            return (t < target) & (status == OK)

        def cond(state: tuple[jax.Array, ...]) -> jax.Array:
            t, _, _, status, it = state
            return jnp.any(active_of(t, status)) & (it < max_steps)

        def body(state: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
            t, y, h, status, it = state
            active = active_of(t, status)
            remaining = target - t
            clipped = h * _STRETCH >= remaining
            h_eff = jnp.where(active, jnp.where(clipped, remaining, h), 0.0)
            y_new, err = _rk_step(f, tab, t, y, h_eff, p)
            scale = atol + rtol * jnp.maximum(jnp.abs(y), jnp.abs(y_new))
            norm = jnp.sqrt(jnp.mean(jnp.square(err / scale), axis=1))
            finite = jnp.isfinite(norm) & jnp.all(jnp.isfinite(y_new), axis=1)
            norm = jnp.where(finite, norm, jnp.inf)
            accept = active & (norm <= 1.0)
            factor = _SAFETY * jnp.where(norm > 0.0, norm, 1e-30) ** exponent
            h_next = h_eff * jnp.clip(factor, _FAC_MIN, _FAC_MAX)
            h_next = jnp.where(accept & clipped, jnp.maximum(h_next, h), h_next)
            h_next = jnp.where(active, h_next, h)
            # a step that underflows (h below 1e-14 t) cannot make progress: the solution blew up
            tiny = active & ~accept & (h_next <= 1e-14 * jnp.maximum(jnp.abs(t), 1.0))
            status = jnp.where(tiny, NONFINITE, status)
            t_new = jnp.where(accept, jnp.where(clipped, target, t + h_eff), t)
            y_out = jnp.where(accept[:, None], y_new, y)
            return t_new, y_out, h_next, status, it + 1

        t, y, h, status = carry
        t, y, h, status, _ = jax.lax.while_loop(cond, body, (t, y, h, status, jnp.asarray(0)))
        status = jnp.where(active_of(t, status), MAX_STEPS, status)
        y = jnp.where((status == OK)[:, None], y, jnp.nan)
        return (t, y, h, status), (y, status)

    return advance


@functools.lru_cache(maxsize=256)
def _compiled_flow(
    rhs: Callable[..., jax.Array], n: int, method: str, max_steps: int
) -> Callable[..., tuple[jax.Array, jax.Array]]:
    tab = tableau(method)
    f = jax.vmap(rhs, in_axes=(0, 0, None))
    advance = _adaptive_advance(f, tab, max_steps)

    @jax.jit
    def run(
        y0: jax.Array, t0: jax.Array, dt: jax.Array, p: Params, rtol: jax.Array, atol: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        batch = y0.shape[0]
        targets = t0 + dt * jnp.arange(n, dtype=y0.dtype)
        carry = (
            jnp.zeros((batch,), y0.dtype),
            y0,
            jnp.full((batch,), 1.0, y0.dtype) * dt,
            jnp.zeros((batch,), jnp.int32),
        )
        (_, _, _, status), (ys, _) = jax.lax.scan(
            lambda c, tt: advance(c, tt, p, rtol, atol), carry, targets
        )
        return jnp.swapaxes(ys, 0, 1), status

    return run


@functools.lru_cache(maxsize=64)
def _compiled_diffrax(
    rhs: Callable[..., jax.Array], n: int, solver: Any, rtol: float, atol: float, max_steps: int
) -> Callable[..., tuple[jax.Array, jax.Array]]:
    import diffrax

    term = diffrax.ODETerm(lambda t, y, p: rhs(y, t, p))
    controller = diffrax.PIDController(rtol=rtol, atol=atol)

    def one(y0: jax.Array, t0: jax.Array, dt: jax.Array, p: Params) -> tuple[jax.Array, jax.Array]:
        ts = t0 + dt * jnp.arange(n, dtype=y0.dtype)
        sol = diffrax.diffeqsolve(
            term, solver, t0=0.0, t1=ts[-1], dt0=None, y0=y0, args=p,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
            max_steps=max_steps, throw=False,
        )  # fmt: skip
        ok = sol.result == diffrax.RESULTS.successful
        return sol.ys, jnp.where(ok, OK, MAX_STEPS).astype(jnp.int32)

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None)))


def integrate_flow(
    rhs: Callable[..., jax.Array],
    y0: jax.Array,
    params: Params,
    *,
    n: int,
    dt: float,
    n_transient: int = 0,
    method: str | Any = "dopri8",
    rtol: float = 1e-10,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
) -> tuple[jax.Array, jax.Array]:
    """Integrate ``dx/dt = rhs(x, t, p)`` from ``t = 0`` for a batch ``y0`` ``(B, D)``.

    Returns the samples ``(B, n, D)`` at ``t_k = (n_transient + k)·dt`` and a status per initial
    condition (:data:`OK`, :data:`NONFINITE`, :data:`MAX_STEPS`; failed rows are NaN).
    ``max_steps`` bounds the steps between two samples (the first interval includes the
    transient). Call inside :func:`attractor._precision.float64`.
    """
    dtype = jnp.float64
    args = (jnp.asarray(y0, dtype), jnp.asarray(n_transient * dt, dtype), jnp.asarray(dt, dtype))
    p = {k: _param(v) for k, v in params.items()}
    if isinstance(method, str):
        run = _compiled_flow(rhs, int(n), method, int(max_steps))
        return run(*args, p, jnp.asarray(rtol, dtype), jnp.asarray(atol, dtype))
    run = _compiled_diffrax(rhs, int(n), method, float(rtol), float(atol), int(max_steps))
    return run(*args, p)


def _param(value: Any) -> jax.Array:
    """A parameter as a float64 array (integer arrays, e.g. a dispatch index, keep their type)."""
    arr = jnp.asarray(value)
    return arr if jnp.issubdtype(arr.dtype, jnp.integer) else arr.astype(jnp.float64)


# ----------------------------------------------------------------------------- fixed steps
def rk4_step(
    rhs: Callable[..., jax.Array], x: jax.Array, t: jax.Array, h: jax.Array, p: Params
) -> jax.Array:
    """One classical fourth-order Runge–Kutta step of ``dx/dt = rhs(x, t, p)``."""
    k1 = rhs(x, t, p)
    k2 = rhs(x + 0.5 * h * k1, t + 0.5 * h, p)
    k3 = rhs(x + 0.5 * h * k2, t + 0.5 * h, p)
    k4 = rhs(x + h * k3, t + h, p)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


StepFactory = Callable[[jax.Array, Params], Callable[[jax.Array, jax.Array], jax.Array]]


@functools.lru_cache(maxsize=256)
def _compiled_fixed(
    make: StepFactory, n: int, n_sub: int, noisy: bool, static_dt: float | None
) -> Callable[..., jax.Array]:
    """Scan of a fixed-step one-step map ``make(h, p)(x, t)``, optionally with additive noise.

    With ``static_dt`` the step is a Python float at trace time (schemes whose coefficients or
    internal substeps need a concrete step, e.g. ETDRK4) and the runtime ``dt`` is ignored.
    """

    @jax.jit
    def run(
        y0: jax.Array, n_tr: jax.Array, dt: jax.Array, p: Params, key: jax.Array, sigma: jax.Array
    ) -> jax.Array:
        h = dt / n_sub if static_dt is None else static_dt / n_sub
        step = jax.vmap(make(h, p), in_axes=(0, None))

        def sample(k: jax.Array, x: jax.Array) -> jax.Array:
            def sub(i: jax.Array, xi: jax.Array) -> jax.Array:
                t = (k * n_sub + i) * h
                x_next = step(xi, t)
                if noisy:
                    noise = jax.random.normal(jax.random.fold_in(key, k * n_sub + i), xi.shape)
                    x_next = x_next + sigma * jnp.sqrt(h) * noise.astype(xi.dtype)
                return x_next

            return jax.lax.fori_loop(0, n_sub, sub, x)

        x = jax.lax.fori_loop(0, n_tr, sample, y0)

        def body(x: jax.Array, k: jax.Array) -> tuple[jax.Array, jax.Array]:
            return sample(n_tr + k, x), x

        _, ys = jax.lax.scan(body, x, jnp.arange(n))
        return jnp.swapaxes(ys, 0, 1)

    return run


def integrate_fixed(
    make_step: StepFactory,
    y0: jax.Array,
    params: Params,
    *,
    n: int,
    dt: float,
    n_sub: int = 1,
    n_transient: int = 0,
    key: jax.Array | None = None,
    noise: float = 0.0,
    static_dt: bool = False,
) -> jax.Array:
    """Iterate a fixed-step scheme: ``n_sub`` steps of ``make_step(dt/n_sub, p)`` per sample.

    ``make_step(h, p)`` returns ``step(x, t) -> x(t + h)`` for one state ``(D,)``; a map is the
    case ``n_sub = 1``, ``dt = 1``. With ``noise > 0`` each step adds ``noise · sqrt(h) · ξ``,
    ``ξ ~ N(0, I)`` drawn from ``key``: additive (Itô) noise of diffusion ``noise``, i.e. the
    Euler–Maruyama increment on top of the deterministic step (strong order 1 for additive noise
    with an RK4 drift; Kloeden & Platen 1992, §10.2). Returns ``(B, n, D)``, row 0 after
    ``n_transient`` samples. ``static_dt=True`` compiles the step size in (one compilation per
    ``dt``; needed by ``step_factory`` schemes such as KS's ETDRK4).
    """
    dtype = jnp.float64
    noisy = noise > 0.0
    if key is None:
        key = jax.random.PRNGKey(0)
    run = _compiled_fixed(
        make_step, int(n), int(n_sub), noisy, float(dt) if static_dt else None
    )
    p = {k: jnp.asarray(v, dtype) for k, v in params.items()}
    return run(
        jnp.asarray(y0, dtype), jnp.asarray(n_transient, jnp.int32), jnp.asarray(dt, dtype), p,
        key, jnp.asarray(noise, dtype),
    )  # fmt: skip


@functools.cache
def rk4_factory(rhs: Callable[..., jax.Array]) -> StepFactory:
    """``make(h, p)`` for classical RK4 on a flow (cached per right-hand side: compiles once)."""

    def make(h: jax.Array, p: Params) -> Callable[[jax.Array, jax.Array], jax.Array]:
        return lambda x, t: rk4_step(rhs, x, t, h, p)

    return make


@functools.cache
def map_factory(rhs: Callable[..., jax.Array]) -> StepFactory:
    """``make(h, p)`` for a map ``x -> rhs(x, p)`` (``h`` is ignored)."""

    def make(h: jax.Array, p: Params) -> Callable[[jax.Array, jax.Array], jax.Array]:
        return lambda x, t: rhs(x, p)

    return make


@functools.cache
def pde_factory(step_factory: Callable[[Any, Params], Callable[..., jax.Array]]) -> StepFactory:
    """``make(h, p)`` from a :class:`System` ``step_factory(dt, p) -> step(x)`` (autonomous)."""

    def make(h: jax.Array, p: Params) -> Callable[[jax.Array, jax.Array], jax.Array]:
        step = step_factory(h, p)
        return lambda x, t: step(x)

    return make


def substeps(dt: float, h_max: float) -> int:
    """Number of equal substeps of length at most ``h_max`` that make up one sampling step."""
    return max(1, int(np.ceil(dt / h_max - 1e-9)))


__all__ = [
    "MAX_STEPS",
    "METHODS",
    "NONFINITE",
    "OK",
    "Tableau",
    "integrate_fixed",
    "integrate_flow",
    "map_factory",
    "pde_factory",
    "rk4_factory",
    "rk4_step",
    "substeps",
    "tableau",
]
