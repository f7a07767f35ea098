"""``attractor``: the command-line entry point, and the CLI's one error path.

Command groups live in their own modules (``systems``, ``dsr``, ``demo``); this module wires them
together and owns what happens when a command does not succeed:

=====================================================  =========================================
what                                                   stderr (exactly one line), exit status
=====================================================  =========================================
usage error (unknown command/option, missing option,   ``error: <message> (see '<cmd> --help')``, 2
bad value such as ``--steps abc``, extra arguments)
an :class:`~attractor.errors.AttractorError`           ``error: <message>``, 2
any other exception (a bug)                            ``error: <Type>: <message> (rerun with
                                                       --debug for the traceback)``, 2
Ctrl-C (SIGINT)                                        ``interrupted[: <hint>]``, 130
SIGTERM                                                ``terminated[: <hint>]``, 143
=====================================================  =========================================

``--debug`` (or ``ATTRACTOR_DEBUG=1``) prints the traceback before that line. With ``--json``
anywhere on the command line, a failure also prints one JSON document on stdout,
``{"error": {"type": "InputError", "message": "..."}}`` (``type`` is ``UsageError``,
``Interrupted``, ``Terminated``, an AttractorError class name, or ``InternalError``), so stdout
holds exactly one document on success and on failure. ``--help``, ``--version`` and a bare
``attractor`` (or ``attractor systems``) print help or the version and exit 0.

Usage errors from typer/click are recognised by duck typing (their class names and
``format_message()``), not by importing click: typer 0.29 vendors click privately, older typer
versions depend on the ``click`` package. The command is run through ``make_context`` /
``invoke`` rather than click's ``main`` so that no click version gets to print or exit first.
Nothing on this path imports JAX.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import traceback
from typing import Any

import typer

from attractor import __version__
from attractor.cli import signals
from attractor.errors import AttractorError

app = typer.Typer(
    name="attractor",
    help="Learn dynamical systems from time series, forecast them, and analyse the models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Exit status of every failure that is not a signal.
EXIT_ERROR = 2

_USAGE_CLASSES = frozenset(
    {
        "UsageError",
        "BadParameter",
        "MissingParameter",
        "NoSuchOption",
        "BadOptionUsage",
        "BadArgumentUsage",
        "ClickException",
        "FileError",
    }
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attractor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress messages."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def _register() -> None:
    from attractor.cli import analyze, bench, demo, dsr, forecast, models, systems, train

    app.add_typer(systems.app, name="systems")
    app.add_typer(models.app, name="models")
    app.add_typer(bench.app, name="bench")
    train.register(app)
    forecast.register(app)
    dsr.register(app)
    analyze.register(app)
    demo.register(app)


_register()


def _class_names(err: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def _one_line(text: Any) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _emit(line: str, *, as_json: bool, kind: str, message: str) -> None:
    """The one stderr line, and with ``--json`` the one error document on stdout."""
    try:
        if as_json:
            sys.stdout.write(json.dumps({"error": {"type": kind, "message": message}}) + "\n")
            sys.stdout.flush()
    except OSError:  # stdout closed: the stderr line still says what happened
        pass
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except OSError:
        pass


def _report_signal(signum: int, *, as_json: bool) -> None:
    """The one line (and JSON document) for Ctrl-C or SIGTERM, written once per process even
    when the backstop of :mod:`attractor.cli.signals` races the normal error path."""
    if signum == signal.SIGTERM:
        word, kind = "terminated", "Terminated"
    else:
        word, kind = "interrupted", "Interrupted"
    hint = signals.interrupt_hint()
    line = f"{word}: {_one_line(hint)}" if hint else word
    signals.report_once(lambda: _emit(line, as_json=as_json, kind=kind, message=line))


def _handle(err: BaseException, *, as_json: bool, debug: bool) -> int:
    """Report ``err`` in the CLI's one way; returns the exit status."""
    names = _class_names(err)
    if "Exit" in names and isinstance(getattr(err, "exit_code", None), int):
        return int(err.exit_code)  # type: ignore[attr-defined]  # --help, --version, typer.Exit
    if "NoArgsIsHelpError" in names:  # `attractor`, `attractor systems`: the help, as --help
        ctx = getattr(err, "ctx", None)
        typer.echo(ctx.get_help() if ctx is not None else err.format_message())  # type: ignore[attr-defined]
        return 0
    if debug and not names & _USAGE_CLASSES:
        traceback.print_exception(err)
    signum = signals.received()  # wins over the exception: a signal can surface as another one
    if signum == signal.SIGTERM or (signum is None and isinstance(err, signals.Terminated)):
        _report_signal(signal.SIGTERM, as_json=as_json)
        return signals.EXIT_TERMINATED
    if signum == signal.SIGINT or isinstance(err, KeyboardInterrupt) or "Abort" in names:
        _report_signal(signal.SIGINT, as_json=as_json)
        return signals.EXIT_INTERRUPTED
    if names & _USAGE_CLASSES and callable(getattr(err, "format_message", None)):
        message = _one_line(err.format_message()) or "usage error"  # type: ignore[attr-defined]
        ctx = getattr(err, "ctx", None)
        path = getattr(ctx, "command_path", None)
        where = f" (see '{path} --help')" if path else ""
        _emit(f"error: {message}{where}", as_json=as_json, kind="UsageError", message=message)
        return EXIT_ERROR
    if isinstance(err, AttractorError):
        message = _one_line(err) or type(err).__name__
        _emit(f"error: {message}", as_json=as_json, kind=type(err).__name__, message=message)
        return EXIT_ERROR
    if isinstance(err, BrokenPipeError):  # `attractor systems list | head -1`: not an error
        try:
            sys.stdout = open(os.devnull, "w")  # silence the flush at exit
        except OSError:
            pass
        return 0
    message = f"{type(err).__name__}: {_one_line(err)}".rstrip(": ")
    suffix = "" if debug else " (rerun with --debug for the traceback)"
    _emit(f"error: {message}{suffix}", as_json=as_json, kind="InternalError", message=message)
    return EXIT_ERROR


def _invoke(args: list[str]) -> None:
    command = typer.main.get_command(app)
    with command.make_context("attractor", args) as ctx:
        command.invoke(ctx)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``); see the module docstring.

    Returns normally on success; otherwise raises ``SystemExit`` with the status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    debug = "--debug" in args or os.environ.get("ATTRACTOR_DEBUG") == "1"
    signals.set_interrupt_hint(None)
    status = 0
    with signals.installed(report=lambda signum: _report_signal(signum, as_json=as_json)):
        try:
            _invoke(args)
        except SystemExit:
            raise
        except BaseException as err:
            status = _handle(err, as_json=as_json, debug=debug)
    if status in (signals.EXIT_INTERRUPTED, signals.EXIT_TERMINATED) and argv is None:
        # The process entry point, stopped: everything was unwound and reported above. Leave
        # without the interpreter's shutdown, which can crash (SIGSEGV) while JAX's runtime
        # threads are still busy with the computation that was interrupted.
        signals.exit_now_quietly(status)
    if status:
        raise SystemExit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
