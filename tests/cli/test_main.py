"""The CLI's one error path, in-process: what each kind of failure prints and returns.

(The same contract through the installed script, with real signals: test_bad_inputs.py.)
"""

from __future__ import annotations

import json
import signal

import pytest

from attractor.cli import main as cli
from attractor.cli import signals
from attractor.errors import DivergenceError, InputError


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        cli.main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def failing(exc: BaseException, hint: str | None = None):
    def invoke(args: list[str]) -> None:
        if hint is not None:
            signals.set_interrupt_hint(hint)
        raise exc

    return invoke


@pytest.mark.parametrize(
    ("exc", "code", "line", "kind"),
    [
        (
            InputError("--steps must be positive"),
            2,
            "error: --steps must be positive",
            "InputError",
        ),
        (DivergenceError("model diverged"), 2, "error: model diverged", "DivergenceError"),
        (
            ZeroDivisionError("division by zero"),
            2,
            "error: ZeroDivisionError: division by zero (rerun with --debug for the traceback)",
            "InternalError",
        ),
        (KeyboardInterrupt(), 130, "interrupted", "Interrupted"),
        (signals.Terminated("signal 15"), 143, "terminated", "Terminated"),
        (InputError("line one\nline two"), 2, "error: line one line two", "InputError"),
    ],
)
def test_each_failure_is_one_line_and_with_json_one_document(
    monkeypatch, capsys, exc, code, line, kind
) -> None:
    monkeypatch.setattr(cli, "_invoke", failing(exc))
    assert run(["whatever"], capsys) == (code, "", line + "\n")
    got, out, err = run(["whatever", "--json"], capsys)
    assert (got, err) == (code, line + "\n")
    doc = json.loads(out)
    assert doc["error"]["type"] == kind and doc["error"]["message"] in line


def test_interrupt_hint_is_printed(monkeypatch, capsys) -> None:
    hint = "checkpoint kept in runs/l63.partial; rerun with --resume"
    monkeypatch.setattr(cli, "_invoke", failing(KeyboardInterrupt(), hint))
    assert run(["train"], capsys) == (130, "", f"interrupted: {hint}\n")
    monkeypatch.setattr(cli, "_invoke", failing(ValueError("x")))
    assert run(["train"], capsys)[2].startswith("error: ValueError")  # the hint was reset


def test_a_signal_wins_over_the_exception_it_surfaced_as(monkeypatch, capsys) -> None:
    """SIGTERM during the import of a native extension surfaces as an ImportError."""
    monkeypatch.setitem(signals._STATE, "signum", signal.SIGTERM)
    monkeypatch.setattr(signals, "installed", lambda report=None: _nothing())
    monkeypatch.setattr(cli, "_invoke", failing(ImportError("error initializing the extension")))
    assert run(["systems", "list"], capsys) == (143, "", "terminated\n")


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_debug_prints_the_traceback_then_the_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "_invoke", failing(ZeroDivisionError("boom")))
    code, out, err = run(["--debug", "x"], capsys)
    assert code == 2 and "Traceback" in err and err.endswith("error: ZeroDivisionError: boom\n")
    monkeypatch.setenv("ATTRACTOR_DEBUG", "1")
    assert "Traceback" in run(["x"], capsys)[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'. (see 'attractor --help')"),
        (["systems", "show"], "Missing argument"),
        (["systems", "simulate", "lorenz63", "--steps", "abc"], "Invalid value for '--steps'"),
        (["systems", "list", "--bogus"], "No such option: --bogus"),
        (["systems", "list", "extra"], "Got unexpected extra argument"),
    ],
)
def test_usage_errors(capsys, argv, message) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: ") and message in err
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 2 and json.loads(out)["error"]["type"] == "UsageError"


@pytest.mark.parametrize("argv", [[], ["systems"], ["--help"], ["systems", "simulate", "--help"]])
def test_help_exits_0(capsys, argv) -> None:
    code, out, err = run(argv, capsys)
    assert code == 0 and "Usage: attractor" in out and err == ""


def test_version(capsys) -> None:
    from attractor import __version__

    assert run(["--version"], capsys) == (0, f"attractor {__version__}\n", "")


def test_handlers_are_restored(capsys) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    run(["--version"], capsys)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
