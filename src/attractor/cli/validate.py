"""Argument validators for CLI commands: each returns the clean value or raises InputError.

Every message names the CLI flag (``--steps must be a positive integer, got 0``), so commands
validate all their arguments first and fail before any work. There is no "0 means default":
an option with a computed default takes the word ``auto`` (:func:`auto_or_positive_int`) or is
left out.

:func:`check_allocation` is the size guard: it refuses an array that would not fit in memory
(half the memory available now, or ``ATTRACTOR_MAX_MEMORY`` if smaller) with the estimate in
GiB, before anything is allocated.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from attractor.errors import InputError

#: Environment variable capping one allocation, in bytes or with a K/M/G/T suffix (powers of
#: 1024), e.g. ``ATTRACTOR_MAX_MEMORY=4G``.
MAX_MEMORY_ENV = "ATTRACTOR_MAX_MEMORY"
#: Fraction of the currently available memory that one allocation may take.
AVAILABLE_FRACTION = 0.5

_GIB = 1024**3
_SUFFIXES = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _is_int(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_int(value: Any, flag: str, what: str) -> int:
    if _is_int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", text) or "." in text:
            raise InputError(f"{flag} must be {what} (a whole number of digits), got {value!r}")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        raise InputError(f"{flag} must be {what}, got the float {value!r}; write it as digits")
    raise InputError(f"{flag} must be {what}, got {value!r}")


def _as_float(value: Any, flag: str, what: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{flag} must be {what}, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{flag} must be {what}, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{flag} must be {what} (finite), got {value!r}")
    return number


def positive_int(value: Any, flag: str, *, maximum: int | None = None) -> int:
    """An integer ``>= 1`` (and ``<= maximum`` if given)."""
    n = _as_int(value, flag, "a positive integer")
    if n < 1:
        raise InputError(f"{flag} must be a positive integer, got {n}")
    if maximum is not None and n > maximum:
        raise InputError(f"{flag} must be at most {maximum}, got {n}")
    return n


def non_negative_int(value: Any, flag: str, *, maximum: int | None = None) -> int:
    """An integer ``>= 0`` (and ``<= maximum`` if given)."""
    n = _as_int(value, flag, "an integer >= 0")
    if n < 0:
        raise InputError(f"{flag} must be an integer >= 0, got {n}")
    if maximum is not None and n > maximum:
        raise InputError(f"{flag} must be at most {maximum}, got {n}")
    return n


def finite_float(value: Any, flag: str) -> float:
    """Any finite number (NaN and +-inf refused)."""
    return _as_float(value, flag, "a finite number")


def positive_float(value: Any, flag: str) -> float:
    """A finite number ``> 0``."""
    x = _as_float(value, flag, "a positive number")
    if not x > 0:
        raise InputError(f"{flag} must be a positive number, got {value!r}")
    return x


def non_negative_float(value: Any, flag: str) -> float:
    """A finite number ``>= 0``."""
    x = _as_float(value, flag, "a number >= 0")
    if x < 0:
        raise InputError(f"{flag} must be a number >= 0, got {value!r}")
    return x + 0.0  # -0.0 -> 0.0


def probability(value: Any, flag: str) -> float:
    """A number in ``[0, 1]``."""
    x = _as_float(value, flag, "a number in [0, 1]")
    if not 0.0 <= x <= 1.0:
        raise InputError(f"{flag} must be a number in [0, 1], got {value!r}")
    return x + 0.0


#: Seeds are 32-bit: JAX's ``PRNGKey`` maps larger integers onto the same keys.
MAX_SEED = 2**32 - 1


def seed(value: Any, flag: str = "--seed") -> int:
    """A random seed in ``[0, 2**32 - 1]`` (larger ones would silently alias smaller ones)."""
    return non_negative_int(value, flag, maximum=MAX_SEED)


def auto_or_positive_int(value: Any, flag: str, *, maximum: int | None = None) -> int | None:
    """``"auto"`` (or ``None``: option not given) -> ``None``; otherwise :func:`positive_int`.

    ``0`` is refused: a computed default is asked for with ``auto``, never with ``0``.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return positive_int(value, flag, maximum=maximum)
    except InputError:
        raise InputError(f"{flag} must be 'auto' or a positive integer, got {value!r}") from None


def float_vector(text: Any, flag: str, *, length: int | None = None) -> list[float]:
    """Comma-separated finite numbers (``"1.5,-2,3e-1"``), ``length`` of them if given."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{flag} must be comma-separated numbers, got {text!r}")
    parts = [p.strip() for p in text.split(",")]
    values = []
    for i, part in enumerate(parts):
        try:
            number = float(part)
        except ValueError:
            raise InputError(
                f"{flag}: entry {i + 1} ({part!r}) is not a number; expected comma-separated "
                f"numbers, got {text!r}"
            ) from None
        if not math.isfinite(number):
            raise InputError(f"{flag}: entry {i + 1} is {part!r}; every value must be finite")
        values.append(number)
    if length is not None and len(values) != length:
        raise InputError(f"{flag} needs {length} comma-separated numbers, got {len(values)}")
    return values


# ------------------------------------------------------------------------------------- memory
def parse_size(text: str) -> int:
    """Bytes in ``"4G"``, ``"512M"``, ``"1.5g"``, ``"1000000"`` (K/M/G/T are powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([kKmMgGtTbB]?)(?:[iI]?[bB])?\s*", str(text))
    if not match:
        raise InputError(f"{MAX_MEMORY_ENV}: expected a size such as 4G or 512M, got {text!r}")
    return int(float(match.group(1)) * _SUFFIXES[match.group(2).lower()])


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> int | None:
    """The largest allocation :func:`check_allocation` accepts, in bytes (``None``: no limit)."""
    limits = []
    available = available_memory()
    if available is not None:
        limits.append(int(available * AVAILABLE_FRACTION))
    configured = os.environ.get(MAX_MEMORY_ENV)
    if configured:
        limits.append(parse_size(configured))
    return min(limits) if limits else None


def check_allocation(n_values: int, what: str, flag: str, itemsize: int = 8) -> None:
    """Refuse to allocate ``n_values`` items of ``itemsize`` bytes when they would not fit.

    Args:
        n_values: number of array elements the command is about to allocate (an estimate that
            includes working copies).
        what: what they are, for the message (``"the trajectory (8 x 10000000 x 3 float64)"``).
        flag: the option(s) that set the size (``"--steps/--ics"``).
        itemsize: bytes per element.

    Raises:
        InputError: ``n_values * itemsize`` exceeds :func:`memory_limit`, with the estimate.
    """
    n = int(n_values)
    if n < 0:
        raise InputError(f"{flag}: the size of {what} is negative ({n})")
    need = n * int(itemsize)
    limit = memory_limit()
    if limit is not None and need > limit:
        source = (
            f"{MAX_MEMORY_ENV}"
            if os.environ.get(MAX_MEMORY_ENV) and limit == parse_size(os.environ[MAX_MEMORY_ENV])
            else "half the available memory"
        )
        raise InputError(
            f"{flag}: {what} would need {need / _GIB:.3g} GiB, more than the "
            f"{limit / _GIB:.3g} GiB allowed ({source}); ask for less"
        )


__all__ = [
    "MAX_MEMORY_ENV",
    "MAX_SEED",
    "auto_or_positive_int",
    "available_memory",
    "check_allocation",
    "finite_float",
    "float_vector",
    "memory_limit",
    "non_negative_float",
    "non_negative_int",
    "parse_size",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
]
