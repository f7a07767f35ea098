"""Scoped float64: integration, invariants and metrics run in double precision.

attractor never flips JAX's global ``jax_enable_x64`` flag as a side effect of import. Code that
needs float64 runs inside :func:`float64`, a context manager that turns x64 on for the enclosed
block only.
Functions jitted inside the block are traced and cached separately from float32 traces.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import jax

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Enable JAX float64 inside the ``with`` block only."""
    if hasattr(jax, "enable_x64"):
        with jax.enable_x64(True):
            yield
    else:  # pragma: no cover - older JAX
        from jax.experimental import enable_x64  # type: ignore[attr-defined]

        with enable_x64():
            yield


def in_float64(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` with JAX float64 enabled (scoped, not global)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with float64():
            return fn(*args, **kwargs)

    return wrapper
