"""Ctrl-C and SIGTERM for the command line: one exception per signal, a hint, and a backstop.

``attractor`` turns Ctrl-C (SIGINT, ``KeyboardInterrupt``) into the one line ``interrupted`` and
exit status 130, and SIGTERM (:class:`Terminated`) into ``terminated`` and exit status 143. A
command that leaves something worth knowing about behind when it is stopped (a checkpoint, a
partial output directory) registers it first::

    from attractor.cli.signals import set_interrupt_hint
    set_interrupt_hint(f"checkpoint kept in {staging}; rerun with --resume to continue")

and the line becomes ``interrupted: checkpoint kept in ...``. The hint is process-wide state of
the CLI only; the library never reads it.

How a signal stops a command, inside :func:`installed`:

1. The handler raises the exception in the main thread, so ``finally`` blocks and context
   managers (the lock and staging directory of :class:`attractor.cli.output.OutputDirectory`)
   unwind as for any error, and the CLI reports it.
2. A Python handler runs between any two bytecodes, and there the exception can do harm or
   get lost. While a module is being imported it is held back and retried every
   :data:`RETRY_S` seconds (a SIGALRM timer): raised inside the initialisation of a native
   extension (jaxlib) it can crash the interpreter. Raised inside a garbage-collection callback
   or a ``__del__`` (JAX registers such callbacks) it would be printed as "Exception ignored"
   and dropped: it is raised again instead, silently.
3. In case it is lost anyway, the first signal also starts a backstop: if the process is still
   running :data:`GRACE_S` seconds later, it reports the signal and exits with its status
   (``os._exit``). A second signal exits at once, in the same way.

Long compiled computations are written to return to Python regularly, so that the handler gets
to run (see :func:`attractor.systems.lyapunov.lyapunov_spectrum_from_step`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: Exit statuses of the shell convention 128 + signal number.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
#: Seconds a stopped command gets to unwind before the backstop exits the process.
GRACE_S = 15.0

_HINT: dict[str, str | None] = {"hint": None}
_STATE: dict[str, Any] = {"signum": None, "report": None, "cancel": None}
_REPORT_LOCK = threading.Lock()
_REPORTED = {"done": False}


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


def received() -> int | None:
    """The signal number received inside :func:`installed`, if any (the first one)."""
    return _STATE["signum"]


def report_once(write: Callable[[], None]) -> bool:
    """Run ``write`` unless a report was already written (by the CLI or the backstop)."""
    with _REPORT_LOCK:
        if _REPORTED["done"]:
            return False
        _REPORTED["done"] = True
    write()
    return True


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def exit_now(signum: int) -> None:
    """Report ``signum`` (once) and end the process with ``128 + signum``, skipping clean-up."""
    report = _STATE["report"]
    if report is not None:
        try:
            report(signum)
        except BaseException:  # reporting must not stop the exit
            pass
    _flush()
    os._exit(128 + signum)


def exit_now_quietly(status: int) -> None:
    """Flush stdout/stderr and end the process with ``status``, skipping the interpreter's
    shutdown (after the CLI has unwound and reported an interrupt itself)."""
    _flush()
    os._exit(status)


def _backstop(signum: int, cancel: threading.Event) -> None:
    if not cancel.wait(GRACE_S):
        exit_now(signum)


#: While the interrupted code is importing a module, the exception is held back and retried
#: this often (SIGALRM timer): raised inside the initialisation of a native extension (jaxlib) it
#: can crash the interpreter instead of unwinding.
RETRY_S = 0.05
_CAN_RETRY = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


def _in_import(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _schedule_retry() -> None:
    if _CAN_RETRY:
        signal.setitimer(signal.ITIMER_REAL, RETRY_S)


def _raise_pending(frame: FrameType | None) -> None:
    signum = _STATE["signum"]
    if signum is None:
        return
    if _CAN_RETRY and _in_import(frame):
        _schedule_retry()
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(f"signal {signum}")


def _handler(signum: int, frame: FrameType | None) -> None:
    if _STATE["signum"] is not None:  # the second signal: stop now
        exit_now(signum)
    _STATE["signum"] = signum
    cancel = _STATE["cancel"]
    if cancel is not None:
        threading.Thread(target=_backstop, args=(signum, cancel), daemon=True).start()
    _raise_pending(frame)


def _retry(_: int, frame: FrameType | None) -> None:
    _raise_pending(frame)


def _quiet_unraisable(previous: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt | Terminated):
            _schedule_retry()  # swallowed by a callback (a GC callback, a __del__): raise again
            return
        previous(unraisable)

    return hook


@contextmanager
def installed(report: Callable[[int], None] | None = None) -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM stop the command as the module docstring says.

    Args:
        report: called with the signal number when the backstop or a second signal ends the
            process, to print what the CLI prints for an interrupt (wrap it in
            :func:`report_once`).

    SIGINT keeps being ignored when the process was started with it ignored (``nohup``,
    background jobs of non-interactive shells). Outside the main thread (an embedding
    application) nothing is installed. Everything is restored when the block is left, and a
    pending backstop is cancelled.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    cancel = threading.Event()
    _STATE.update(signum=None, report=report, cancel=cancel)
    _REPORTED["done"] = False
    previous_term: Any = signal.getsignal(signal.SIGTERM)
    previous_int: Any = signal.getsignal(signal.SIGINT)
    previous_alarm: Any = signal.getsignal(signal.SIGALRM) if _CAN_RETRY else None
    previous_hook = sys.unraisablehook
    signal.signal(signal.SIGTERM, _handler)
    if previous_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)
    if _CAN_RETRY:
        signal.signal(signal.SIGALRM, _retry)
    sys.unraisablehook = _quiet_unraisable(previous_hook)
    try:
        yield
    finally:
        cancel.set()
        if _CAN_RETRY:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_alarm or signal.SIG_DFL)
        sys.unraisablehook = previous_hook
        signal.signal(
            signal.SIGTERM, previous_term if previous_term is not None else signal.SIG_DFL
        )
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)
        _STATE.update(report=None, cancel=None)


__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "GRACE_S",
    "RETRY_S",
    "Terminated",
    "exit_now",
    "exit_now_quietly",
    "hint",
    "installed",
    "interrupt_hint",
    "received",
    "report_once",
    "set_interrupt_hint",
]
