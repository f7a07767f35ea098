"""The dysts catalogue of chaotic flows, served through attractor's :class:`System` API.

dysts (William Gilpin, Apache-2.0; https://github.com/williamgilpin/dysts) ships 135 chaotic flows
with curated metadata (Gilpin 2021, "Chaos as an interpretable benchmark for forecasting and
data-driven modelling", NeurIPS Datasets and Benchmarks, arXiv:2110.05266). Its right-hand sides are
numba-jitted functions of unpacked NumPy scalars, ``_rhs(*X, t, *params)`` with the parameters in
sorted-name order (``dysts/base.py``), or for a few systems an instance method ``rhs(self, X, t)``.
They cannot be traced by JAX as they are.

This module translates them: it takes each function's original Python code (numba's ``py_func``)
and re-creates it with the module global ``np`` bound to a namespace that resolves names in
``jax.numpy`` first (builtin two-argument ``max``/``min`` become ``jnp.maximum``/``jnp.minimum``).
The translated function is then wrapped into attractor's ``rhs(x, t, p)`` convention, so every dysts
flow integrates with our own integrator, vectorises with ``vmap`` and differentiates with autodiff.

A flow whose code still does not trace (in dysts 0.96 only ``Lorenz96``, which assigns into a NumPy
array in place) falls back to calling dysts's own NumPy right-hand side through
:func:`jax.pure_callback`; its derivative with respect to the state is a central finite difference.
The six delay equations (``DynSysDelay``) become ``kind="delay"`` systems with a scalar state and
``rhs(x, x_delayed, t, p)``; their delay is the parameter ``p["tau"]``, as in dysts.

dysts is an optional extra: it is imported lazily, inside functions, never when attractor is
imported. Without it, every public function here raises :class:`InputError` with the install hint.
"""

from __future__ import annotations

import builtins
import copy
import difflib
import functools
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.errors import InputError
from attractor.systems.base import Invariants, System

PREFIX = "dysts"
INVARIANTS_SOURCE = "dysts metadata (Gilpin 2021)"
MISSING_MESSAGE = "dysts is not installed: pip install 'attractor[dysts]'"
RhsMode = Literal["jax", "callback"]
DEFAULT_POINTS_PER_PERIOD = 100  # dysts's make_trajectory default

_FD_STEP = 6e-6  # relative central-difference step for the callback fallback (~ eps ** (1/3))


# ---------------------------------------------------------------------------------- dysts access
def _dysts_flows() -> types.ModuleType:
    """Import ``dysts.flows`` lazily; raise :class:`InputError` if the extra is missing."""
    try:
        import warnings

        with warnings.catch_warnings():  # "Numba not installed" and similar import-time noise
            warnings.simplefilter("ignore")
            import dysts.flows as flows
    except ImportError as exc:
        raise InputError(MISSING_MESSAGE) from exc
    return flows


def _class_names() -> dict[str, str]:
    """Lower-case name -> dysts class name, for every flow (ODEs and delay equations)."""
    _dysts_flows()  # raises InputError without the extra, even once the names are cached
    return _cached_class_names()


@functools.cache
def _cached_class_names() -> dict[str, str]:
    from dysts.systems import get_attractor_list

    return {name.lower(): name for name in get_attractor_list("continuous")}


def _class_name(name: str) -> str:
    """Resolve ``"Lorenz"``, ``"lorenz"`` or ``"dysts:Lorenz"`` to the dysts class name."""
    bare = name.split(":", 1)[1] if name.lower().startswith(PREFIX + ":") else name
    known = _class_names()
    if bare.lower() not in known:
        close = difflib.get_close_matches(bare, list(known.values()), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"system: dysts has no flow named {bare!r}{hint}")
    return known[bare.lower()]


def dysts_model(name: str) -> Any:
    """A fresh dysts object for ``name`` (with its default metadata), for reference checks."""
    import warnings

    cls = getattr(_dysts_flows(), _class_name(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls()


def _is_delay(model: Any) -> bool:
    from dysts.base import DynSysDelay

    return isinstance(model, DynSysDelay)


# ---------------------------------------------------------------------------------- translation
class _JaxNumpy(types.ModuleType):
    """``np`` as dysts code sees it after translation: ``jax.numpy`` first, NumPy for the rest."""

    def __getattr__(self, name: str) -> Any:
        return getattr(jnp, name) if hasattr(jnp, name) else getattr(np, name)


_JNP_SHIM = _JaxNumpy("attractor_dysts_np")


def _max(*args: Any, **kwargs: Any) -> Any:
    """Builtin ``max`` that also takes traced scalars: ``max(a, b) -> jnp.maximum(a, b)``."""
    if len(args) == 2 and not kwargs:
        return jnp.maximum(*args)
    return builtins.max(*args, **kwargs)


def _min(*args: Any, **kwargs: Any) -> Any:
    """Builtin ``min`` that also takes traced scalars: ``min(a, b) -> jnp.minimum(a, b)``."""
    if len(args) == 2 and not kwargs:
        return jnp.minimum(*args)
    return builtins.min(*args, **kwargs)


_translated_globals: dict[int, dict[str, Any]] = {}


def _jax_globals(original: dict[str, Any]) -> dict[str, Any]:
    """A copy of a module's globals with NumPy replaced by the JAX namespace (cached per module)."""
    key = id(original)
    if key not in _translated_globals:
        new = {k: (_JNP_SHIM if v is np else v) for k, v in original.items()}
        new.update(max=_max, min=_min)
        _translated_globals[key] = new
    return _translated_globals[key]


def _python_function(obj: Any) -> types.FunctionType | None:
    """The plain Python function behind a (static) method or numba dispatcher, if any."""
    while True:
        if isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
        elif hasattr(obj, "py_func"):  # numba CPUDispatcher
            obj = obj.py_func
        else:
            return obj if isinstance(obj, types.FunctionType) else None


def _translate(fn: types.FunctionType) -> types.FunctionType:
    """Re-create ``fn`` from its code object with ``np`` bound to the JAX namespace."""
    new = types.FunctionType(
        fn.__code__, _jax_globals(fn.__globals__), fn.__name__, fn.__defaults__, fn.__closure__
    )
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def _jax_class(cls: type) -> type:
    """A plain class holding JAX translations of every method that ``cls`` defines in dysts.flows.

    Static methods stay static (``_rhs``, helpers such as ``_protocol``); instance methods such as
    ``rhs(self, X, t)`` read the parameters from attributes of the instance they are called on.
    """
    attrs: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ != cls.__module__:  # BaseDyn, DynSys, DynSysDelay, object
            continue
        for name, value in vars(klass).items():
            fn = _python_function(value)
            if fn is None:
                continue
            is_static = isinstance(value, staticmethod) or hasattr(value, "py_func")
            attrs[name] = staticmethod(_translate(fn)) if is_static else _translate(fn)
    return type(f"Jax{cls.__name__}", (), attrs)


def _as_vector(out: Any, like: jax.Array) -> jax.Array:
    """dysts returns a tuple of components (some may be Python numbers) or an array."""
    if isinstance(out, tuple | list):
        return jnp.concatenate([jnp.ravel(jnp.asarray(o, dtype=like.dtype)) for o in out])
    return jnp.asarray(out, dtype=like.dtype).reshape(like.shape)


def _translated_rhs(model: Any) -> Callable[..., jax.Array]:
    """The JAX right-hand side of a dysts model, in attractor's convention for its kind."""
    from dysts.base import DynSys

    cls = type(model)
    jax_cls = _jax_class(cls)
    keys = sorted(model.params)  # dysts passes parameters in sorted-name order (base.py)
    if _is_delay(model):

        def delay_rhs(x: jax.Array, x_delayed: jax.Array, t: jax.Array, p: Mapping) -> jax.Array:
            out = jax_cls._rhs(x[0], x_delayed[0], t, *[p[k] for k in keys])
            return _as_vector(out, x)

        return delay_rhs

    if cls.rhs is DynSys.rhs:  # the common case: a static ``_rhs`` on scalars

        def rhs(x: jax.Array, t: jax.Array, p: Mapping) -> jax.Array:
            return _as_vector(jax_cls._rhs(*x, t, *[p[k] for k in keys]), x)

        return rhs

    state = dict(vars(model))  # metadata attributes that an instance ``rhs`` may read

    def method_rhs(x: jax.Array, t: jax.Array, p: Mapping) -> jax.Array:
        this = object.__new__(jax_cls)
        this.__dict__.update(state)
        this.__dict__.update(p)
        return _as_vector(this.rhs(x, t), x)

    return method_rhs


def _traces(rhs: Callable[..., jax.Array], model: Any, dim: int) -> bool:
    """Whether ``rhs`` traces under JAX with abstract state, time and parameters."""
    with float64():
        x = jax.ShapeDtypeStruct((dim,), jnp.float64)
        t = jax.ShapeDtypeStruct((), jnp.float64)
        p = {k: jax.ShapeDtypeStruct(np.shape(v), jnp.float64) for k, v in model.params.items()}
        args = (x, x, t, p) if _is_delay(model) else (x, t, p)
        try:
            out = jax.eval_shape(rhs, *args)
        except Exception:  # any tracing failure: value-dependent control flow, in-place writes…
            return False
    return out.shape == (dim,)


# ---------------------------------------------------------------------------------- fallback
def _callback_rhs(model: Any) -> Callable[..., jax.Array]:
    """dysts's own NumPy right-hand side, called from JAX through :func:`jax.pure_callback`.

    Differentiable in the state by central finite differences (not in time or parameters).
    """
    keys = sorted(model.params)

    def host(x: np.ndarray, t: np.ndarray, *values: np.ndarray) -> np.ndarray:
        params = {k: np.asarray(v, dtype=np.float64) for k, v in zip(keys, values, strict=True)}
        this = copy.copy(model)
        this.params = params
        this.__dict__.update(params)
        this.param_list = [params[k] for k in keys]
        out = np.asarray(this.rhs(np.asarray(x, dtype=np.float64), float(t)), dtype=np.float64)
        return out.reshape(x.shape).astype(x.dtype)

    @jax.custom_jvp
    def core(x: jax.Array, t: jax.Array, values: tuple[jax.Array, ...]) -> jax.Array:
        shape = jax.ShapeDtypeStruct(x.shape, x.dtype)
        return jax.pure_callback(host, shape, x, t, *values, vmap_method="sequential")

    @core.defjvp
    def core_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
        x, t, values = primals
        dx = tangents[0]
        y = core(x, t, values)
        size = jnp.linalg.norm(dx)
        h = _FD_STEP * (1.0 + jnp.linalg.norm(x)) / jnp.where(size > 0, size, 1.0)
        jv = (core(x + h * dx, t, values) - core(x - h * dx, t, values)) / (2.0 * h)
        return y, jnp.where(size > 0, jv, jnp.zeros_like(jv))

    def rhs(x: jax.Array, t: jax.Array, p: Mapping) -> jax.Array:
        t = jnp.asarray(t, dtype=x.dtype)
        return core(x, t, tuple(jnp.asarray(p[k], dtype=x.dtype) for k in keys))

    return rhs


# ---------------------------------------------------------------------------------- System
def _param_value(value: Any) -> Any:
    """Scalars as float, arrays as read-only float64 NumPy arrays."""
    arr = np.array(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _invariants(model: Any) -> Invariants:
    spectrum = getattr(model, "lyapunov_spectrum_estimated", None)
    return Invariants(
        lyapunov_max=_optional_float(getattr(model, "maximum_lyapunov_estimated", None)),
        lyapunov_spectrum=None if spectrum is None else tuple(float(v) for v in spectrum),
        kaplan_yorke_dim=_optional_float(getattr(model, "kaplan_yorke_dimension", None)),
        correlation_dim=_optional_float(getattr(model, "correlation_dimension", None)),
        source=INVARIANTS_SOURCE,
    )


def _sampling_dt(model: Any) -> float:
    """``period / 100``: the spacing of dysts's default ``make_trajectory`` (100 points/period).

    dysts's own ``dt`` field (about ``period / 5000``) is only the first step it hands to
    ``solve_ivp``, not a sampling step, so it is not used.
    """
    period = getattr(model, "period", None)
    if period is None:
        return 50.0 * float(model.dt)
    return float(period) / DEFAULT_POINTS_PER_PERIOD


@functools.cache
def _build(class_name: str) -> tuple[System, RhsMode]:
    model = dysts_model(class_name)
    delay = _is_delay(model)
    ic = np.atleast_1d(np.asarray(model.ic, dtype=np.float64))
    # dysts integrates a delay equation from the constant history ic[0]; the rest of its
    # "initial condition" is a delay embedding of a sample trajectory.
    initial = (float(ic[0]),) if delay else tuple(float(v) for v in ic)
    rhs = _translated_rhs(model)
    mode: RhsMode = "jax"
    if not _traces(rhs, model, len(initial)):
        if delay:
            raise InputError(f"system: dysts delay equation {class_name!r} does not trace in JAX")
        rhs, mode = _callback_rhs(model), "callback"
    system = System(
        name=f"{PREFIX}:{class_name}",
        kind="delay" if delay else "flow",
        dim=len(initial),
        rhs=rhs,
        params={k: _param_value(v) for k, v in sorted(model.params.items())},
        initial_condition=initial,
        dt=_sampling_dt(model),
        period=_optional_float(getattr(model, "period", None)),
        reference=_invariants(model),
        citation=str(getattr(model, "citation", "") or ""),
        description=str(getattr(model, "description", "") or ""),
        source=PREFIX,
        # dysts's delay trajectories start one delay after the constant history; so do ours
        transient=float(model.params["tau"]) if delay else 0.0,
    )
    return system, mode


# ---------------------------------------------------------------------------------- public API
def dysts_names() -> list[str]:
    """Registry names of every dysts flow, sorted: ``["dysts:Aizawa", …, "dysts:YuWang2"]``."""
    return [f"{PREFIX}:{name}" for name in sorted(_class_names().values())]


def dysts_system(name: str) -> System:
    """The :class:`System` for a dysts flow (``"Lorenz"``, ``"dysts:Lorenz"``; case-insensitive).

    Parameters, initial condition, ``period``, citation, description and the reference
    invariants come from dysts's metadata (``dysts/data/chaotic_attractors.json``); the sampling
    step ``dt`` is ``period / 100``, as in dysts's default ``make_trajectory``.
    """
    return _build(_class_name(name))[0]


def dysts_rhs_mode(name: str) -> RhsMode:
    """``"jax"`` if the flow's equations were translated to JAX, ``"callback"`` otherwise."""
    return _build(_class_name(name))[1]


def dysts_postprocess(name: str, x: np.ndarray) -> np.ndarray:
    """Apply dysts's ``_postprocessing`` (e.g. angle -> sine) to a trajectory ``(..., D)``.

    dysts's ``make_trajectory`` maps unbounded or periodic coordinates this way by default; our
    trajectories are the raw integrated state. Systems without postprocessing are returned as is.
    """
    model = dysts_model(name)
    post = getattr(model, "_postprocessing", None)
    if post is None or _is_delay(model):
        return np.asarray(x)
    columns = np.moveaxis(np.asarray(x, dtype=np.float64), -1, 0)
    return np.stack([np.broadcast_to(c, columns.shape[1:]) for c in post(*columns)], axis=-1)


def share_dysts_compilation() -> int:
    """Let dysts flows of one dimension share a compiled integrator; returns the flows grouped.

    For catalogue-wide sweeps: compiling the integrator per right-hand side costs ~0.4 s, while
    one program per dimension (a ``lax.switch`` over the members, see
    :mod:`attractor.systems.integrate_shared`) compiles once. Sampling all 135 flows once drops
    from ~100 s to ~20 s on 2 CPU cores. Flows with array-valued parameters and the NumPy
    fallback keep their own programs. Builds every dysts :class:`System` (~2 s) the first time.
    """
    from attractor.systems.integrate_shared import share_compilation

    by_dim: dict[int, list[tuple[Callable[..., jax.Array], tuple[str, ...]]]] = {}
    for name in dysts_names():
        system, mode = _build(_class_name(name))
        scalar = all(np.ndim(v) == 0 for v in system.params.values())
        if system.kind == "flow" and mode == "jax" and scalar and system.rhs is not None:
            by_dim.setdefault(system.dim, []).append((system.rhs, tuple(system.params)))
    grouped = 0
    for members in by_dim.values():
        if share_compilation(members) is not None:
            grouped += len(members)
    return grouped


def _names_if_installed() -> list[str]:
    try:
        return dysts_names()
    except InputError:
        return []


def register_dysts() -> None:
    """Serve ``"dysts:<ClassName>"`` from the system registry (lazily; dysts imported on use).

    Listing returns no names when the extra is not installed; resolving a name then raises
    :class:`InputError` with the install hint.
    """
    from attractor.systems.registry import register_resolver

    register_resolver(PREFIX, dysts_system, _names_if_installed)


__all__ = [
    "INVARIANTS_SOURCE",
    "PREFIX",
    "dysts_model",
    "dysts_names",
    "dysts_postprocess",
    "dysts_rhs_mode",
    "dysts_system",
    "register_dysts",
    "share_dysts_compilation",
]
