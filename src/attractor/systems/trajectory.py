"""One function to sample any system: :func:`trajectory`.

Conventions:

- **Sampling**: exactly one of ``dt`` (time units), ``points_per_period`` (``dt = period / p``)
  or ``points_per_lyapunov`` (``dt = 1 / (λ_max · p)``) — default ``system.dt``. Maps sample
  every iteration (``dt = 1``).
- **Transient**: in time units (iterations for maps), rounded to a whole number ``m`` of
  sampling steps; samples are taken at ``t_k = (m + k)·dt``, so **row 0 is the state at the end
  of the transient** (with ``transient=0``, row 0 is the initial condition). Default: the
  system's recommended ``transient`` (0 where the default initial condition is on the attractor),
  and 0 for initial conditions drawn near the attractor (except delay equations, whose drawn
  states start from a constant history).
- **Initial conditions**: ``ics`` of shape ``(D,)`` → output ``(n, D)``; ``(B, D)`` → ``(B, n, D)``;
  ``n_ics`` with ``key`` → ``(n_ics, n, D)`` drawn near the attractor (random points of an orbit of
  1000 samples from the default initial condition after its transient, each perturbed by
  ``1e-3 ×`` the per-dimension standard deviation of that orbit; maps use the orbit points
  unperturbed, since a perturbation can leave the invariant interval); neither → the default
  initial condition, output ``(n, D)``.
- **Noise**: ``dyn_noise`` = σ of additive dynamical noise ``dx = f dt + σ dW`` (absolute units;
  fixed-step RK4 + Euler–Maruyama increments at the system's ``integrator_dt``, default dt/10;
  maps: ``x' = f(x) + σ ξ``). ``obs_noise`` = observation noise of standard deviation
  ``obs_noise ×`` the per-dimension standard deviation of the clean output (pooled over the
  batch). Both need ``key``; it is split into independent streams for ICs, dynamics and
  observation.
- **standardize**: subtract the per-dimension mean and divide by the standard deviation of the
  output (after noise), pooled over the batch.

Flows integrate with an adaptive Runge–Kutta pair (:mod:`attractor.systems.integrate`), maps by
iteration, delay equations by RK4 with a history buffer (:mod:`attractor.systems.delay`), PDEs
with their ``step_factory`` (ETDRK4 for Kuramoto–Sivashinsky). Everything runs in float64 inside
a scoped x64 context; the result is a float64 NumPy array.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jax
import numpy as np

from attractor._precision import float64
from attractor.errors import ConvergenceError, DivergenceError, InputError
from attractor.systems import integrate as integ
from attractor.systems import integrate_shared
from attractor.systems.base import System
from attractor.systems.delay import integrate_delay
from attractor.systems.registry import get, structural_params

_POOL = 1000  # orbit samples from which initial conditions near the attractor are drawn
_PERTURBATION = 1e-3


def _resolve(system: System | str, params: Mapping[str, Any] | None) -> tuple[System, dict]:
    overrides = dict(params or {})
    if isinstance(system, str):
        structural = set(structural_params(system))
        built = get(system, **{k: v for k, v in overrides.items() if k in structural})
        overrides = {k: v for k, v in overrides.items() if k not in structural}
    elif isinstance(system, System):
        built = system
    else:
        raise InputError(f"system must be a System or a name, got {type(system).__name__}")
    return built, built.merged_params(overrides)


def _positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a positive number, got {value!r}") from exc
    if not (np.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return v


def _non_negative(name: str, value: Any, unit: str = "") -> float:
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number >= 0{unit}, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number >= 0{unit}, got {value!r}") from exc
    if not (np.isfinite(v) and v >= 0):
        raise InputError(f"{name} must be a number >= 0{unit}, got {value!r}")
    return v


def sampling_step(
    system: System,
    dt: float | None = None,
    points_per_period: float | None = None,
    points_per_lyapunov: float | None = None,
) -> float:
    """The sampling step implied by one of the three options (default ``system.dt``)."""
    options = {"dt": dt, "points_per_period": points_per_period,
               "points_per_lyapunov": points_per_lyapunov}  # fmt: skip
    given = [k for k, v in options.items() if v is not None]
    if len(given) > 1:
        raise InputError(f"give at most one of {list(options)}; got {given}")
    if dt is not None:
        step = _positive("dt", dt)
    elif points_per_period is not None:
        if system.period is None:
            raise InputError(
                f"system {system.name!r} has no known period: use dt or points_per_lyapunov"
            )
        step = system.period / _positive("points_per_period", points_per_period)
    elif points_per_lyapunov is not None:
        lam = system.reference.lyapunov_max
        if lam is None or not lam > 0:
            raise InputError(
                f"system {system.name!r} has no positive reference Lyapunov exponent "
                f"({system.reference.source or 'none'}): use dt or points_per_period"
            )
        step = 1.0 / (lam * _positive("points_per_lyapunov", points_per_lyapunov))
    else:
        step = float(system.dt)
    if system.kind == "map" and step != 1.0:
        raise InputError(f"map {system.name!r} advances one iteration per step: dt must be 1")
    return step


def _as_ics(system: System, ics: Any) -> tuple[np.ndarray, bool]:
    try:
        arr = np.asarray(ics, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"ics must be a numeric array (D,) or (B, D), got {ics!r}") from exc
    single = arr.ndim == 1
    arr = arr[None] if single else arr
    if arr.ndim != 2 or arr.shape[1] != system.dim or arr.shape[0] < 1:
        raise InputError(
            f"ics must have shape ({system.dim},) or (B, {system.dim}) for {system.name!r}, "
            f"got {np.shape(ics)}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError("ics contain non-finite values")
    return arr, single


#: A flow batch is split across CPU threads when it holds at least this many samples (B * n)
#: and at least two initial conditions per thread: JAX releases the GIL while a compiled program
#: runs, so the chunks integrate on different cores.
PARALLEL_MIN_SAMPLES = 200_000


def _batch_chunks(y0: np.ndarray, n: int) -> list[np.ndarray]:
    """Contiguous chunks of the batch ``y0``, one per CPU thread, or ``[y0]`` when not worth it."""
    workers = min(os.cpu_count() or 1, 8, y0.shape[0] // 2)
    if workers < 2 or y0.shape[0] * n < PARALLEL_MIN_SAMPLES:
        return [y0]
    return [c for c in np.array_split(y0, workers) if len(c)]


def _simulate(
    system: System, y0: np.ndarray, p: Mapping[str, Any], *, n: int, dt: float, n_tr: int,
    method: Any, rtol: float, atol: float, key: jax.Array | None, dyn_noise: float,
) -> np.ndarray:  # fmt: skip
    """Integrate a batch ``y0`` ``(B, D)`` to ``(B, n, D)`` float64 (inside float64 scope)."""
    h_max = system.integrator_dt if system.integrator_dt is not None else dt / 10.0
    common = {"n": n, "dt": dt, "n_transient": n_tr}
    noise = {"key": key, "noise": dyn_noise}
    if system.kind == "flow" and dyn_noise == 0.0:

        def run(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with float64():  # JAX's x64 switch is per thread
                ys, status = integrate_shared.integrate_flow(
                    system.rhs,
                    chunk,
                    p,
                    method=method,
                    rtol=rtol,
                    atol=atol,
                    **common,  # type: ignore[arg-type]
                )
                return np.asarray(ys), np.asarray(status)

        chunks = _batch_chunks(y0, n)
        if len(chunks) == 1:
            ys, status = run(y0)
        else:  # each IC keeps its own step size, so splitting the batch changes no result
            with ThreadPoolExecutor(len(chunks)) as pool:
                parts = list(pool.map(run, chunks))
            ys = np.concatenate([part[0] for part in parts])
            status = np.concatenate([part[1] for part in parts])
        _check_status(system, status)
        return ys
    if system.kind == "flow":
        make, n_sub = integ.rk4_factory(system.rhs), integ.substeps(dt, h_max)  # type: ignore[arg-type]
        return np.asarray(integ.integrate_fixed(make, y0, p, n_sub=n_sub, **common, **noise))
    if system.kind == "map":
        make = integ.map_factory(system.rhs)  # type: ignore[arg-type]
        return np.asarray(integ.integrate_fixed(make, y0, p, **common, **noise))
    if system.kind == "delay":
        n_sub = integ.substeps(dt, h_max)
        try:
            out = integrate_delay(system.rhs, y0, p, n_sub=n_sub, **common, **noise)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(f"system {system.name!r}: {exc}") from exc
        return np.asarray(out)
    if system.step_factory is None:
        raise InputError(f"pde system {system.name!r} has no step_factory")
    make = integ.pde_factory(system.step_factory)
    return np.asarray(integ.integrate_fixed(make, y0, p, static_dt=True, **common, **noise))


def _check_status(system: System, status: np.ndarray) -> None:
    if np.any(status == integ.MAX_STEPS):
        raise ConvergenceError(
            f"system {system.name!r}: the adaptive integrator hit its step limit between two "
            "samples (stiff or blowing up?): loosen rtol/atol, use a smaller dt, or pass a "
            "stiff diffrax solver as method (e.g. diffrax.Kvaerno5())"
        )


def _check_finite(system: System, ys: np.ndarray, dt: float, n_tr: int) -> None:
    bad = ~np.all(np.isfinite(ys), axis=-1)
    if np.any(bad):
        b, row = (int(i[0]) for i in np.nonzero(bad)[:2])
        raise DivergenceError(
            f"system {system.name!r} diverged: non-finite state in trajectory {b} at row {row} "
            f"(t = {(n_tr + row) * dt:g}); try other parameters, initial conditions or a "
            "smaller dt"
        )


def _draw_near_attractor(
    system: System, p: Mapping[str, Any], key: jax.Array, n_ics: int, **kw: Any
) -> np.ndarray:
    dt = float(system.dt)
    y0 = np.asarray(system.initial_condition, dtype=np.float64)[None]
    n_tr = int(round(system.transient / dt))
    orbit = _simulate(system, y0, p, n=_POOL, dt=dt, n_tr=n_tr, key=None, dyn_noise=0.0, **kw)[0]
    _check_finite(system, orbit[None], dt, n_tr)
    k_idx, k_pert = jax.random.split(key)
    idx = np.asarray(jax.random.randint(k_idx, (n_ics,), 0, _POOL))
    points = orbit[idx]
    if system.kind == "map":
        return points
    pert = np.asarray(jax.random.normal(k_pert, points.shape, dtype=np.float64))
    pert = pert * _PERTURBATION * np.std(orbit, axis=0)
    if system.kind == "pde":  # keep the conserved spatial mean of the field
        pert = pert - pert.mean(axis=1, keepdims=True)
    return points + pert


def trajectory(
    system: System | str,
    n: int,
    *,
    dt: float | None = None,
    points_per_period: float | None = None,
    points_per_lyapunov: float | None = None,
    transient: float | None = None,
    ics: Any = None,
    key: jax.Array | None = None,
    n_ics: int | None = None,
    params: Mapping[str, Any] | None = None,
    standardize: bool = False,
    obs_noise: float = 0.0,
    dyn_noise: float = 0.0,
    method: Any = "dopri8",
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> np.ndarray:
    """Sample ``n`` points of a system's trajectory (see the module docstring for conventions).

    Args:
        system: a :class:`System` or a registry name (structural parameters such as Lorenz-96's
            ``N`` may then be given in ``params``).
        n: number of samples returned per trajectory.
        dt, points_per_period, points_per_lyapunov: the sampling, at most one of them.
        transient: time discarded before row 0, rounded to whole sampling steps.
        ics: initial conditions ``(D,)`` or ``(B, D)``; or ``n_ics`` drawn near the attractor
            from ``key``.
        params: parameter overrides for this call (no recompilation).
        standardize, obs_noise, dyn_noise: post-processing and noise (need ``key`` for noise).
        method: flows only: ``"dopri8"`` (default), ``"dopri5"``, ``"tsit5"``, ``"bosh3"``, or a
            diffrax solver instance (integrated with ``diffrax.diffeqsolve``).
        rtol, atol: tolerances of the adaptive flow integrator.

    Returns:
        float64 array ``(n, D)`` or ``(B, n, D)``.

    Raises:
        InputError: bad arguments. DivergenceError: non-finite values (names the system).
        ConvergenceError: the adaptive integrator hit its step limit.
    """
    sys_, p = _resolve(system, params)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    step = sampling_step(sys_, dt, points_per_period, points_per_lyapunov)
    obs_noise = _non_negative("obs_noise", obs_noise)
    dyn_noise = _non_negative("dyn_noise", dyn_noise)
    if (obs_noise > 0 or dyn_noise > 0 or n_ics is not None) and key is None:
        raise InputError("key is required for noise and for drawn initial conditions (n_ics)")
    if key is not None and not hasattr(key, "shape"):
        raise InputError(f"key must be a JAX PRNG key such as jax.random.PRNGKey(0), got {key!r}")
    if ics is not None and n_ics is not None:
        raise InputError("give either ics or n_ics (with key), not both")
    if n_ics is not None:
        if isinstance(n_ics, bool) or not isinstance(n_ics, int | np.integer) or n_ics < 1:
            raise InputError(f"n_ics must be a positive integer, got {n_ics!r}")
        n_ics = int(n_ics)
    if transient is not None:
        transient = _non_negative("transient", transient, unit=" (time units)")
        if not transient / step < 2**31:
            raise InputError(f"transient={transient!r} is more than 2**31 sampling steps")
    rtol, atol = _positive("rtol", rtol), _positive("atol", atol)
    k_ic = k_dyn = k_obs = None
    if key is not None:
        k_ic, k_dyn, k_obs = jax.random.split(key, 3)
    solver = {"method": method, "rtol": rtol, "atol": atol}

    with float64():
        drawn = n_ics is not None
        if drawn:
            y0, single = _draw_near_attractor(sys_, p, k_ic, n_ics, **solver), False
        elif ics is not None:
            y0, single = _as_ics(sys_, ics)
        else:
            y0, single = np.asarray(sys_.initial_condition, dtype=np.float64)[None], True
        if transient is None:
            transient = 0.0 if drawn and sys_.kind != "delay" else sys_.transient
        n_tr = int(round(float(transient) / step))
        ys = _simulate(sys_, y0, p, n=n, dt=step, n_tr=n_tr, key=k_dyn,
                       dyn_noise=float(dyn_noise), **solver)  # fmt: skip
        _check_finite(sys_, ys, step, n_tr)
        if obs_noise > 0:
            scale = ys.reshape(-1, ys.shape[-1]).std(axis=0)
            noise = np.asarray(jax.random.normal(k_obs, ys.shape, dtype=np.float64))
            ys = ys + float(obs_noise) * scale * noise
    ys = np.asarray(ys, dtype=np.float64)
    if standardize:
        flat = ys.reshape(-1, ys.shape[-1])
        std = flat.std(axis=0)
        ys = (ys - flat.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return ys[0] if single else ys


__all__ = ["sampling_step", "trajectory"]
