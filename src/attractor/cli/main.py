"""``attractor``: the command-line entry point.

Command groups live in their own modules (``systems``, ``dsr``, ``demo``); this module wires them
together and turns library errors into one line on stderr with exit status 2 (``--debug`` shows
the traceback instead).
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from attractor import __version__
from attractor.errors import AttractorError

app = typer.Typer(
    name="attractor",
    help="Learn dynamical systems from time series, forecast them, and analyse the models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_DEBUG = {"on": False}


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
    _DEBUG["on"] = debug or os.environ.get("ATTRACTOR_DEBUG") == "1"
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def _register() -> None:
    from attractor.cli import demo, dsr, models, systems, train

    app.add_typer(systems.app, name="systems")
    app.add_typer(models.app, name="models")
    train.register(app)
    dsr.register(app)
    demo.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; library errors become one line on stderr and exit status 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ATTRACTOR_DEBUG") == "1"
    try:
        app(args=args, prog_name="attractor", standalone_mode=False)
    except AttractorError as err:
        if debug:
            raise
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(2) from None
    except typer.Abort:
        typer.echo("aborted", err=True)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.exceptions.Exit):
            raise SystemExit(err.exit_code) from None
        if isinstance(err, click.ClickException):
            err.show()
            raise SystemExit(2) from None
        if debug:
            raise
        typer.echo(
            f"error: {type(err).__name__}: {err} (run with --debug for the traceback)", err=True
        )
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
