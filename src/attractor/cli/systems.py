"""``attractor systems``: list, show, simulate and measure the built-in dynamical systems."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from attractor.errors import InputError

app = typer.Typer(help="The catalogue of dynamical systems.", no_args_is_help=True)


def _load_dysts_if_available() -> None:
    """Serve ``dysts:*`` names when the optional dysts extra is installed."""
    import importlib.util

    if importlib.util.find_spec("dysts") is not None:
        from attractor.systems.dysts_adapter import register_dysts

        register_dysts()


@app.command("list")
def list_command(
    source: str = typer.Option(None, "--source", help="native or dysts."),
    kind: str = typer.Option(None, "--kind", help="flow, map, delay or pde."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """List the systems (with the dysts extra installed, dysts flows too)."""
    from attractor.systems import get, names

    _load_dysts_if_available()
    rows = []
    for name in names(source=source, kind=kind):
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
        typer.echo(json.dumps(rows))
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
    from attractor.systems import get

    _load_dysts_if_available()
    summary = get(name).summary()
    if as_json:
        typer.echo(json.dumps(summary))
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
    seed: int = typer.Option(0, "--seed", help="Seed for drawn initial conditions."),
    out: Path = typer.Option(None, "--out", help="Output .npy file."),
    plot: Path = typer.Option(None, "--plot", help="Output .png of the attractor."),
) -> None:
    """Integrate a system and save the trajectory (float64) and/or a plot."""
    import jax
    import numpy as np

    from attractor.systems import get, trajectory

    _load_dysts_if_available()
    if steps < 1:
        raise InputError(f"--steps must be positive, got {steps}")
    if ics is not None and ics < 1:
        raise InputError(f"--ics must be positive, got {ics}")
    system = get(name)
    kwargs = {"dt": dt}
    if ics is not None:
        kwargs.update(n_ics=ics, key=jax.random.PRNGKey(seed))
    x = np.asarray(trajectory(system, steps, **kwargs))
    if out is not None:
        if out.suffix != ".npy":
            raise InputError(f"--out {out}: expected a .npy file")
        np.save(out, x)
        typer.echo(f"wrote {out} {tuple(x.shape)} float64")
    if plot is not None:
        from attractor.plot.dsr import plot_attractor

        first = x[0] if x.ndim == 3 else x
        fig = plot_attractor(first)
        fig.savefig(plot, dpi=110)
        typer.echo(f"wrote {plot}")
    if out is None and plot is None:
        typer.echo(
            f"{system.name}: {tuple(x.shape)} finite={bool(np.all(np.isfinite(x)))} "
            "(use --out/--plot to save)"
        )


@app.command("lyapunov")
def lyapunov_command(
    name: str = typer.Argument(..., help="System name."),
    n_exponents: int = typer.Option(
        None,
        "--exponents",
        help="How many exponents (default: all, or the leading few for large systems).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Lyapunov spectrum by the QR (Benettin) method, with the Kaplan–Yorke dimension."""
    import numpy as np

    from attractor.systems import get, lyapunov_spectrum

    _load_dysts_if_available()
    system = get(name)
    result = lyapunov_spectrum(system, n_exponents=n_exponents)
    doc = {
        "system": system.name,
        "max": float(result.max),
        "spectrum": np.asarray(result.exponents).tolist(),
        "sum": float(np.sum(result.exponents)),
        "kaplan_yorke": float(result.kaplan_yorke),
        "units": "per iteration" if system.kind == "map" else "per time unit",
        "reference_max": system.reference.lyapunov_max,
        "reference_source": system.reference.source,
    }
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(
        f"{system.name}: lambda_max = {doc['max']:.4f} {doc['units']}"
        f" (reference {doc['reference_max']})"
    )
    typer.echo("spectrum: " + ", ".join(f"{v:.4f}" for v in doc["spectrum"]))
    typer.echo(f"Kaplan-Yorke dimension: {doc['kaplan_yorke']:.3f}")
