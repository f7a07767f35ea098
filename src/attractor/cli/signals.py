"""Ctrl-C and SIGTERM for the command line: one exception per signal, and a hint to print.

``attractor`` turns ``KeyboardInterrupt`` (SIGINT, Ctrl-C) into the one line ``interrupted`` and
exit status 130, and :class:`Terminated` (SIGTERM, raised by the handler that :func:`installed`
sets up) into ``terminated`` and exit status 143. A command that leaves something worth knowing
about behind when it is stopped (a checkpoint, a partial output directory) registers it first::

    from attractor.cli.signals import set_interrupt_hint
    set_interrupt_hint(f"checkpoint kept in {staging}; rerun with --resume to continue")

and the line becomes ``interrupted: checkpoint kept in ...``. The hint is process-wide state of
the CLI only; the library never reads it.

A Python signal handler runs between bytecodes of the main thread, so a long compiled JAX call
is interrupted when it returns: long computations run in chunks (see
:func:`attractor.systems.lyapunov.lyapunov_spectrum_from_step`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: Exit statuses of the shell convention 128 + signal number.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

_HINT: dict[str, str | None] = {"hint": None}


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A ``BaseException`` like ``KeyboardInterrupt``, so that ``except Exception`` blocks in the
    library do not swallow it while ``finally`` blocks and context managers still clean up.
    """


def set_interrupt_hint(hint: str | None) -> None:
    """Text appended to the ``interrupted`` / ``terminated`` line (``None`` clears it)."""
    _HINT["hint"] = hint


def interrupt_hint() -> str | None:
    """The hint registered with :func:`set_interrupt_hint`, if any."""
    return _HINT["hint"]


@contextmanager
def hint(text: str) -> Iterator[None]:
    """Register ``text`` as the interrupt hint for the duration of a ``with`` block.

    The hint is *not* cleared when the block is left by an exception, so that the CLI's error
    handler, which runs after the block has been left, still prints it.
    """
    previous = interrupt_hint()
    set_interrupt_hint(text)
    yield  # an exception thrown in here propagates and skips the reset below, on purpose
    set_interrupt_hint(previous)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # Only the first SIGTERM raises: a second one during the clean-up would abort it half-way.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(f"signal {signum}")


@contextmanager
def installed() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` inside the block; the previous handlers come back after.

    SIGINT keeps Python's default handler (``KeyboardInterrupt``) unless the process was started
    with SIGINT ignored (``nohup``, background jobs of non-interactive shells): that is respected.
    Outside the main thread (an embedding application) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: Any = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "Terminated",
    "hint",
    "installed",
    "interrupt_hint",
    "set_interrupt_hint",
]
