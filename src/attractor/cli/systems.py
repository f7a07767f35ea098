"""``attractor systems``: list, show, simulate and measure the built-in dynamical systems.

Every argument is validated before any work (messages name the flag); output files are refused
if they exist (unless ``--overwrite``) and written atomically.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import typer

from attractor.cli import validate as check
from attractor.cli.output import atomic_write, json_document, prepare_output_file
from attractor.errors import ConvergenceError, InputError

app = typer.Typer(help="The catalogue of dynamical systems.", no_args_is_help=True)

KINDS = ("flow", "map", "delay", "pde")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
#: Working copies of a simulated trajectory (JAX result, NumPy copy, batch concatenation) in the
#: memory estimate of ``systems simulate``.
SIMULATE_COPIES = 3


def _dysts_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("dysts") is not None


def _load_dysts_if_available() -> None:
    """Serve ``dysts:*`` names when the optional dysts extra is installed."""
    if _dysts_installed():
        from attractor.systems.dysts_adapter import register_dysts

        register_dysts()


def _system(name: str) -> Any:
    """The system called ``name``, or an InputError that says how to find the right name."""
    from attractor.systems import get, names

    _load_dysts_if_available()
    try:
        return get(name)
    except InputError as err:
        if ":" in name:
            prefix = name.split(":", 1)[0].lower()
            if prefix == "dysts" and not _dysts_installed():
                raise InputError(
                    f"system {name!r} needs the optional dysts extra: "
                    "pip install 'attractor[dysts]'"
                ) from None
            raise
        close = difflib.get_close_matches(name.lower(), names(source="native"), n=3, cutoff=0.6)
        maybe = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"unknown system {name!r}; {maybe}`attractor systems list` shows them all"
        ) from err


@app.command("list")
def list_command(
    source: str = typer.Option(None, "--source", help="native, user or dysts."),
    kind: str = typer.Option(None, "--kind", help="flow, map, delay or pde."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """List the systems (with the dysts extra installed, dysts flows too)."""
    if kind is not None and kind.lower() not in KINDS:
        raise InputError(f"--kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if source is not None and source.lower() == "dysts" and not _dysts_installed():
        raise InputError(
            "--source dysts: the optional dysts extra is not installed "
            "(pip install 'attractor[dysts]')"
        )
    from attractor.systems import all_systems, get, names

    _load_dysts_if_available()
    if source is not None:
        known = {"native", "user", "dysts"} | {s.source for s in all_systems()}
        if source.lower() not in known:
            raise InputError(f"--source must be one of {', '.join(sorted(known))}; got {source!r}")
    rows = []
    for name in names(source=source.lower() if source else None, kind=kind and kind.lower()):
        system = get(name)
        rows.append(
            {
                "name": system.name,
                "dim": system.dim,
                "kind": system.kind,
                "source": system.source,
                "dt": system.dt,
                "lyapunov_max": system.reference.lyapunov_max,
            }
        )
    if as_json:
        typer.echo(json_document(rows))
        return
    for row in rows:
        lam = row["lyapunov_max"]
        lam_s = f"{lam:.4g}" if lam is not None else "-"
        typer.echo(
            f"{row['name']:<28} {row['kind']:<6} dim={row['dim']:<4} "
            f"{row['source']:<7} lambda_max={lam_s}"
        )
    typer.echo(f"{len(rows)} systems")


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="System name, e.g. lorenz63 or dysts:Lorenz."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Equations' metadata, defaults and reference invariants of one system."""
    summary = _system(name).summary()
    if as_json:
        typer.echo(json_document(summary))
        return
    for key, value in summary.items():
        typer.echo(f"{key:>18}: {value}")


@app.command("simulate")
def simulate_command(
    name: str = typer.Argument(..., help="System name."),
    steps: int = typer.Option(..., "--steps", help="Number of sampled points."),
    dt: float = typer.Option(None, "--dt", help="Sampling step (default: the system's)."),
    ics: int = typer.Option(
        None,
        "--ics",
        help="Number of initial conditions near the attractor (output (B, steps, D)).",
    ),
    seed: int = typer.Option(
        None, "--seed", help="Seed for the drawn initial conditions (with --ics; default 0)."
    ),
    out: Path = typer.Option(None, "--out", help="Output .npy file."),
    plot: Path = typer.Option(
        None, "--plot", help="Output figure of the attractor (.png, .pdf or .svg)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Integrate a system and save the trajectory (float64) and/or a plot."""
    steps = check.positive_int(steps, "--steps")
    if dt is not None:
        dt = check.positive_float(dt, "--dt")
    if ics is not None:
        ics = check.positive_int(ics, "--ics")
    if seed is not None:
        seed = check.seed(seed)
        if ics is None:
            raise InputError("--seed only applies to drawn initial conditions: add --ics N")
    if out is not None:
        if out.suffix.lower() != ".npy":
            raise InputError(f"--out {out}: expected a .npy file")
        prepare_output_file(out, overwrite, flag="--out")
    if plot is not None:
        if plot.suffix.lower() not in PLOT_SUFFIXES:
            raise InputError(f"--plot {plot}: expected a {', '.join(PLOT_SUFFIXES)} file")
        prepare_output_file(plot, overwrite, flag="--plot")
        if out is not None and plot.resolve() == out.resolve():
            raise InputError("--out and --plot name the same file")
    system = _system(name)
    if system.kind == "map" and dt is not None and dt != 1.0:
        raise InputError(f"--dt: {system.name} is a map (one iteration per step); leave --dt out")
    batch = ics or 1
    check.check_allocation(
        SIMULATE_COPIES * batch * steps * system.dim,
        f"the trajectory ({batch} x {steps} x {system.dim} float64, with working copies)",
        "--steps/--ics",
    )

    import jax
    import numpy as np

    from attractor.systems import trajectory

    kwargs: dict[str, Any] = {"dt": dt}
    if ics is not None:
        kwargs.update(n_ics=ics, key=jax.random.PRNGKey(seed or 0))
    try:
        x = np.asarray(trajectory(system, steps, **kwargs))
    except ConvergenceError:
        raise ConvergenceError(
            f"{system.name}: the adaptive integrator hit its step limit between two samples "
            "(stiff or blowing up?); try a smaller --dt"
        ) from None
    doc: dict[str, Any] = {
        "system": system.name,
        "shape": list(x.shape),
        "dtype": "float64",
        "finite": bool(np.all(np.isfinite(x))),
        "out": None,
        "plot": None,
    }
    lines = []
    if out is not None:
        atomic_write(out, lambda tmp: np.save(tmp, x))
        doc["out"] = str(out)
        lines.append(f"wrote {out} {tuple(x.shape)} float64")
    if plot is not None:
        import matplotlib.pyplot as plt

        from attractor.plot.dsr import plot_attractor

        fig = plot_attractor(x[0] if x.ndim == 3 else x)
        try:
            atomic_write(plot, lambda tmp: fig.savefig(tmp, dpi=110))
        finally:
            plt.close(fig)
        doc["plot"] = str(plot)
        lines.append(f"wrote {plot}")
    if as_json:
        typer.echo(json_document(doc))
        return
    if not lines:
        lines.append(
            f"{system.name}: {tuple(x.shape)} finite={doc['finite']} (use --out/--plot to save)"
        )
    for line in lines:
        typer.echo(line)


@app.command("lyapunov")
def lyapunov_command(
    name: str = typer.Argument(..., help="System name."),
    n_exponents: int = typer.Option(
        None,
        "--exponents",
        help="How many exponents (default: all, or the leading 16 for PDEs).",
    ),
    steps: int = typer.Option(
        None,
        "--steps",
        help="Measured steps (default: 100000 for flows and maps, 20000 for PDEs).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Lyapunov spectrum by the QR (Benettin) method, with the Kaplan–Yorke dimension."""
    if n_exponents is not None:
        n_exponents = check.positive_int(n_exponents, "--exponents")
    if steps is not None:
        steps = check.positive_int(steps, "--steps")
    system = _system(name)
    if system.kind == "delay":
        raise InputError(
            f"{system.name} is a delay system: its state is infinite-dimensional and its "
            "Lyapunov spectrum is not supported"
        )
    if not system.autonomous:
        ref = system.reference
        known = ""
        if ref.lyapunov_spectrum is not None:
            known = f"; its reference spectrum is {list(ref.lyapunov_spectrum)} ({ref.source})"
        raise InputError(
            f"{system.name} is non-autonomous (its equations depend on the time): the QR method "
            f"on a time-independent step map does not apply{known}"
        )
    if n_exponents is not None and n_exponents > system.dim:
        raise InputError(
            f"--exponents {n_exponents} exceeds the dimension {system.dim} of {system.name}"
        )

    import numpy as np

    from attractor.systems import lyapunov_spectrum

    result = lyapunov_spectrum(system, n_exponents=n_exponents, n_steps=steps)
    doc = {
        "system": system.name,
        "max": float(result.max),
        "spectrum": np.asarray(result.exponents).tolist(),
        "sum": float(np.sum(result.exponents)),
        "kaplan_yorke": float(result.kaplan_yorke),
        "n_steps": result.n_steps,
        "units": "per iteration" if system.kind == "map" else "per time unit",
        "reference_max": system.reference.lyapunov_max,
        "reference_source": system.reference.source,
    }
    if as_json:
        typer.echo(json_document(doc))
        return
    typer.echo(
        f"{system.name}: lambda_max = {doc['max']:.4f} {doc['units']}"
        f" (reference {doc['reference_max']})"
    )
    typer.echo("spectrum: " + ", ".join(f"{v:.4f}" for v in doc["spectrum"]))
    typer.echo(f"Kaplan-Yorke dimension: {doc['kaplan_yorke']:.3f}")
