"""The system registry: list, get by name, register your own.

Three kinds of entries:

- fixed systems (:func:`register`): a :class:`System` instance;
- factories (:func:`register_factory`) for systems whose shape depends on parameters: ``get``
  passes the *structural* parameters (``N`` of Lorenz-96, ``L``/``N`` of Kuramoto–Sivashinsky)
  to the factory and applies the others as parameter overrides;
- resolvers (:func:`register_resolver`) serving a prefix lazily, e.g. ``"dysts:Lorenz"`` from the
  dysts adapter, so that the core never imports optional packages.

Names are case-insensitive and stored in lower case. The native catalogue is loaded on first use.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError
from attractor.systems.base import KINDS, Invariants, System

Factory = Callable[..., System]
Resolver = Callable[[str], System]
Lister = Callable[[], list[str]]


@dataclasses.dataclass(frozen=True)
class _FactoryEntry:
    factory: Factory
    structural: tuple[str, ...]
    default: System


_SYSTEMS: dict[str, System] = {}
_FACTORIES: dict[str, _FactoryEntry] = {}
_RESOLVERS: dict[str, tuple[Resolver, Lister]] = {}
_LOCK = threading.RLock()
_loaded = False


def _ensure_builtins() -> None:
    """Register the native catalogue once (lazy: avoids import cycles and import-time cost)."""
    global _loaded
    with _LOCK:
        if _loaded:
            return
        _loaded = True
        from attractor.systems import (
            delay,
            flows_lorenz,
            flows_oscillators,
            flows_sprott,
            ks,
            maps,
            physiological,
        )
        from attractor.systems import lorenz96 as l96

        for module in (flows_lorenz, flows_oscillators, flows_sprott, physiological, maps, delay):
            for system in module.SYSTEMS:
                register(system)
        for name, factory, structural in (*l96.FACTORIES, *ks.FACTORIES):
            register_factory(name, factory, structural=structural)
        _share_native_compilation()
        # "dysts:<Name>" resolver: imports dysts only when such a name is looked up; without the
        # extra it lists no names and a lookup raises InputError with the install hint.
        from attractor.systems.dysts_adapter import register_dysts

        register_dysts()


def _share_native_compilation() -> None:
    """Let native fixed-size flows of one dimension share a compiled integrator.

    Flows with array-valued parameters (ECGSYN's event tables) always run their own program (the
    shared one packs scalars), so they stay out of the group rather than add a dead branch to it.
    """
    from attractor.systems.integrate_shared import share_compilation

    by_dim: dict[int, list[tuple[Any, tuple[str, ...]]]] = {}
    for s in _SYSTEMS.values():
        scalar = all(np.ndim(v) == 0 for v in s.params.values())
        if s.kind == "flow" and s.source == "native" and s.rhs is not None and scalar:
            by_dim.setdefault(s.dim, []).append((s.rhs, tuple(s.params)))
    for members in by_dim.values():
        share_compilation(members)


def _key(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"system name must be a non-empty string, got {name!r}")
    return name.strip().lower()


def _taken(key: str) -> bool:
    return key in _SYSTEMS or key in _FACTORIES


def register(system: System, *, overwrite: bool = False) -> System:
    """Add ``system`` under ``system.name`` (lower case); :class:`InputError` if taken."""
    if not isinstance(system, System):
        raise InputError(f"register expects a System, got {type(system).__name__}")
    key = _key(system.name)
    if ":" in key:
        raise InputError(f"system name {system.name!r}: ':' is reserved for resolver prefixes")
    with _LOCK:
        if _taken(key) and not overwrite:
            raise InputError(f"a system named {key!r} is already registered (overwrite=True)")
        _FACTORIES.pop(key, None)
        if key != system.name:
            system = dataclasses.replace(system, name=key)
        _SYSTEMS[key] = system
    return system


_register = register  # from_rhs has a keyword argument called ``register``


def register_factory(
    name: str, factory: Factory, *, structural: tuple[str, ...], overwrite: bool = False
) -> None:
    """Register ``factory(**structural_params) -> System`` under ``name``.

    ``factory()`` with no arguments must give the default instance. ``get(name, **params)`` calls
    the factory with the structural parameters given and applies the rest as overrides.
    """
    key = _key(name)
    default = factory()
    if not isinstance(default, System):
        raise InputError(f"factory for {key!r} must return a System")
    with _LOCK:
        if _taken(key) and not overwrite:
            raise InputError(f"a system named {key!r} is already registered (overwrite=True)")
        _SYSTEMS.pop(key, None)
        _FACTORIES[key] = _FactoryEntry(factory, tuple(structural), default)


def register_resolver(prefix: str, resolve: Resolver, list_names: Lister) -> None:
    """Serve names ``"<prefix>:<name>"`` lazily.

    ``resolve(name)`` receives the part after ``"<prefix>:"`` as typed and returns a
    :class:`System`; ``list_names()`` returns the names it serves (with or without the prefix).
    Registering a prefix again replaces it.
    """
    key = _key(prefix)
    if ":" in key:
        raise InputError(f"resolver prefix {prefix!r} must not contain ':'")
    with _LOCK:
        _RESOLVERS[key] = (resolve, list_names)


def _resolver_names(prefix: str) -> list[str]:
    _, list_names = _RESOLVERS[prefix]
    out = []
    for raw in list_names():
        out.append(raw if raw.lower().startswith(prefix + ":") else f"{prefix}:{raw}")
    return out


def structural_params(name: str) -> tuple[str, ...]:
    """The structural parameters of a factory-made system (empty for others)."""
    _ensure_builtins()
    entry = _FACTORIES.get(_key(name))
    return entry.structural if entry is not None else ()


def _with_params(system: System, overrides: Mapping[str, Any]) -> System:
    """``system`` with updated default parameters; reference invariants are dropped if changed."""
    if not overrides:
        return system
    for k, v in overrides.items():
        try:
            np.asarray(v, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(f"system {system.name!r}: parameter {k}={v!r} is not numeric") from exc
    merged = system.merged_params(overrides)
    changed = any(
        not np.array_equal(np.asarray(merged[k]), np.asarray(system.params[k])) for k in overrides
    )
    if not changed:
        return system
    return dataclasses.replace(
        system,
        params=merged,
        reference=Invariants(source="none: parameters differ from the reference values"),
    )


def get(name: str, **params: Any) -> System:
    """The system called ``name`` (case-insensitive), with parameter overrides.

    Structural parameters of a factory system build a new instance; other numeric overrides give a
    copy with updated default parameters (its reference invariants are cleared, since they were
    measured at the default values; ``period`` is kept as a guide). Unknown names raise
    :class:`InputError` suggesting close matches; unknown parameters raise :class:`InputError`.
    """
    _ensure_builtins()
    key = _key(name)
    if ":" in key:
        prefix, _, rest = name.strip().partition(":")
        if prefix.lower() not in _RESOLVERS:
            raise InputError(
                f"unknown system prefix {prefix!r} in {name!r}; known prefixes: "
                f"{sorted(_RESOLVERS) or 'none (e.g. register the dysts adapter)'}"
            )
        return _with_params(_RESOLVERS[prefix.lower()][0](rest), params)
    if key in _SYSTEMS:
        return _with_params(_SYSTEMS[key], params)
    if key in _FACTORIES:
        entry = _FACTORIES[key]
        structural = {k: v for k, v in params.items() if k in entry.structural}
        rest = {k: v for k, v in params.items() if k not in entry.structural}
        system = entry.factory(**structural) if structural else entry.default
        unknown = sorted(set(rest) - set(system.params))
        if unknown:
            raise InputError(
                f"system {key!r} has no parameter {unknown[0]!r}; known: "
                f"{sorted(set(system.params) | set(entry.structural))}"
            )
        return _with_params(system, rest)
    close = difflib.get_close_matches(key, names(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"unknown system {name!r}{hint} (see attractor.systems.names())")


def names(*, source: str | None = None, kind: str | None = None) -> list[str]:
    """Registered names, sorted; filtered by ``source`` (``"native"``, ``"user"``, or a resolver
    prefix such as ``"dysts"``) and ``kind`` (``"flow"``, ``"map"``, ``"delay"``, ``"pde"``).

    Resolver names are included when ``source`` is ``None`` or the prefix; filtering them by
    ``kind`` resolves each (slow for large catalogues).
    """
    _ensure_builtins()
    if kind is not None and kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    if source is not None:
        known = {"native", "user"} | {s.source for s in all_systems()} | set(_RESOLVERS)
        if source not in known and source.lower() not in _RESOLVERS:
            raise InputError(
                f"source must be one of {sorted(known)}, got {source!r} (resolvers such as "
                "'dysts' are known once registered, e.g. by register_dysts())"
            )
    out = [
        s.name
        for s in all_systems()
        if (source is None or s.source == source) and (kind is None or s.kind == kind)
    ]
    for prefix in sorted(_RESOLVERS):
        if source is not None and source.lower() != prefix:
            continue
        listed = _resolver_names(prefix)
        if kind is not None:
            listed = [n for n in listed if get(n).kind == kind]
        out.extend(listed)
    return sorted(out)


def all_systems() -> list[System]:
    """The default instance of every registered (non-resolver) system, sorted by name."""
    _ensure_builtins()
    found = list(_SYSTEMS.values()) + [e.default for e in _FACTORIES.values()]
    return sorted(found, key=lambda s: s.name)


def from_rhs(
    name: str,
    rhs: Callable[..., Any],
    dim: int,
    *,
    kind: str = "flow",
    params: Mapping[str, Any] | None = None,
    initial_condition: tuple[float, ...] | list[float] | None = None,
    dt: float = 0.01,
    period: float | None = None,
    register: bool = True,
    overwrite: bool = False,
    **metadata: Any,
) -> System:
    """Make (and by default register) a :class:`System` from your own right-hand side.

    ``rhs`` follows :mod:`attractor.systems.base`: flows ``rhs(x, t, p)``, maps ``rhs(x, p)``,
    delay equations ``rhs(x, x_delayed, t, p)`` with ``p["tau"]``; ``x`` has shape ``(dim,)`` and
    ``p`` is a dict of JAX scalars. The default initial condition is ``0.1`` in every component;
    maps get ``dt = 1``. ``metadata`` sets further :class:`System` fields (``citation``,
    ``description``, ``reference``, ``integrator_dt``, ``transient``, ``jacobian``,
    ``step_factory``, ``autonomous``). ``source`` is ``"user"``.
    """
    key = _key(name)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise InputError(f"dim must be a positive integer, got {dim!r}")
    if not callable(rhs) and kind != "pde":
        raise InputError(f"rhs of {key!r} must be callable")
    allowed = {f.name for f in dataclasses.fields(System)} - {
        "name", "kind", "dim", "rhs", "params", "initial_condition", "dt", "period", "source"
    }  # fmt: skip
    unknown = sorted(set(metadata) - allowed)
    if unknown:
        raise InputError(f"from_rhs: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    ic = tuple(float(v) for v in (initial_condition if initial_condition is not None
                                  else (0.1,) * dim))  # fmt: skip
    system = System(
        name=key, kind=kind, dim=dim, rhs=_as_array_rhs(rhs) if callable(rhs) else None,
        params=dict(params or {}),  # type: ignore[arg-type]
        initial_condition=ic, dt=1.0 if kind == "map" else float(dt), period=period,
        source="user", **metadata,
    )  # fmt: skip
    if register:
        _register(system, overwrite=overwrite)
    return system


def _as_array_rhs(rhs: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a user right-hand side so that lists/tuples of components become one array."""

    @functools.wraps(rhs)
    def wrapped(*args: Any) -> Any:
        return jnp.asarray(rhs(*args))

    return wrapped


__all__ = [
    "all_systems",
    "from_rhs",
    "get",
    "names",
    "register",
    "register_factory",
    "register_resolver",
    "structural_params",
]
