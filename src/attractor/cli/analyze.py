"""``attractor analyze``: fixed points, cycles, symbolic dynamics, Koopman and Lyapunov spectra of a
trained model directory (:mod:`attractor.analysis.run` does the work).

The model runs freely from the start point stored with it (``x0``: the first test point) and the
analyses look at that generated attractor. Writes DIR2 (through ``<DIR2>.partial``, renamed into
place when complete): ``analysis.json`` (the document ``--json`` prints), ``fixed_points.csv``,
``system_fixed_points.csv``, ``cycles.csv``, ``lyapunov.csv`` and the figures
``fixed_points.png`` (points over the generated attractor, unstable directions drawn),
``eigenvalues.png``, ``cycles.png``, ``symbolic.png``, ``koopman.png``, ``lyapunov.png`` (for the
analyses asked for).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attractor.errors import InputError

#: Largest cycle period ``--cycles`` accepts (the search cost grows with it).
MAX_PERIOD = 16
#: Largest ``--steps``: the generated trajectory is held in memory a few times over.
MAX_STEPS = 10_000_000


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)


def analyze_command(
    directory: Path = typer.Argument(..., help="Model directory written by `attractor train`."),
    fixed_points: bool = typer.Option(False, "--fixed-points", help="Fixed points, with the "
                                      "system's equilibria when the data came from a flow."),
    slow_points: bool = typer.Option(False, "--slow-points", help="Also report slow points "
                                     "(speed below 1e-4; implies the speed search)."),
    cycles: int = typer.Option(0, "--cycles", help="Cycles of periods 2..K (piecewise-linear "
                               "models)."),
    symbolic: bool = typer.Option(False, "--symbolic", help="Symbolic dynamics (piecewise-linear "
                                  "models)."),
    koopman: bool = typer.Option(False, "--koopman", help="Koopman eigenvalues with ResDMD "
                                 "residuals."),
    lyapunov: bool = typer.Option(False, "--lyapunov", help="Lyapunov spectrum, against the "
                                  "system's when the data came from one."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    steps: int = typer.Option(20_000, "--steps", help="Length of the generated trajectory."),
    starts: int = typer.Option(512, "--starts", help="Starting states of the fixed-point search."),
    max_regions: int = typer.Option(4096, "--max-regions", help="Enumerate region sequences "
                                    "exactly up to this many, search beyond."),
    dictionary: str = typer.Option("rbf", "--dictionary", help="Koopman dictionary: rbf, "
                                   "polynomial, fourier or kernel."),
    dictionary_size: int = typer.Option(200, "--dictionary-size", help="Functions in the "
                                        "Koopman dictionary (rbf, fourier, kernel)."),
    epsilon: float = typer.Option(0.05, "--epsilon", help="Residual below which a Koopman "
                                  "eigenpair is verified."),
    lyapunov_steps: int = typer.Option(100_000, "--lyapunov-steps", help="Steps of the "
                                       "Lyapunov measurement."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the searches."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing DIR2."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as one JSON document."),
) -> None:
    """Analyse a trained model: fixed points and cycles, symbolic dynamics, Koopman and Lyapunov
    spectra."""
    from attractor.cli import validate as v

    cycles = v.non_negative_int(cycles, "--cycles", maximum=MAX_PERIOD)
    if cycles == 1:
        raise InputError("--cycles must be 0 (none) or at least 2 (fixed points: --fixed-points)")
    if slow_points and not fixed_points:
        raise InputError("--slow-points needs --fixed-points")
    if not (fixed_points or cycles or symbolic or koopman or lyapunov):
        raise InputError("nothing to do: give at least one of --fixed-points, --cycles K, "
                         "--symbolic, --koopman, --lyapunov")
    options = dict(
        fixed_points=fixed_points, slow_points=slow_points, cycles=cycles, symbolic=symbolic,
        koopman=koopman, lyapunov=lyapunov,
        steps=v.positive_int(steps, "--steps", maximum=MAX_STEPS),
        n_starts=v.positive_int(starts, "--starts", maximum=100_000),
        max_regions=v.positive_int(max_regions, "--max-regions", maximum=2**24),
        dictionary=_dictionary(dictionary),
        dictionary_size=v.positive_int(dictionary_size, "--dictionary-size", maximum=5000),
        epsilon=v.positive_float(epsilon, "--epsilon"),
        lyapunov_steps=v.positive_int(lyapunov_steps, "--lyapunov-steps", maximum=10**9),
        seed=v.seed(seed),
    )
    if options["lyapunov_steps"] < 10 and lyapunov:
        raise InputError("--lyapunov-steps must be at least 10")
    if Path(out).resolve() == Path(directory).resolve():
        raise InputError(f"--out {out}: is the model directory; choose another directory")
    _run(directory, options, out, overwrite=overwrite, plots=not no_plots, as_json=as_json)


def _dictionary(name: str) -> str:
    from attractor.analysis.dictionaries import DICTIONARIES

    key = str(name).strip().lower()
    if key not in DICTIONARIES:
        raise InputError(f"--dictionary must be one of {', '.join(DICTIONARIES)}, got {name!r}")
    return key


def _load(directory: Path) -> tuple[Any, Any, dict[str, Any]]:
    """Model, standardisation and metadata of a checked model directory."""
    from attractor.cli.modeldir import check_model_dir, load_checked
    from attractor.data.standardize import Standardizer
    from attractor.models.io import load_model

    payload = check_model_dir(directory)
    model, metadata = load_checked(directory, load_model, precheck=False)
    return model, Standardizer.from_dict(metadata["standardizer"]), payload.get("metadata", {})


def _start(model: Any, std: Any, metadata: dict[str, Any], directory: Path) -> Any:
    import numpy as np

    x0 = metadata.get("x0")
    if x0 is None:
        raise InputError(f"{directory}/config.json: no start point \"x0\" in the metadata "
                         "(written by `attractor train`)")
    start = std.transform(np.asarray(x0, np.float64)[None])[0]
    if not np.all(np.abs(start) < np.finfo(np.float32).max):
        raise InputError(f"{directory}/config.json: x0 is outside the float32 range")
    return start


def _run(directory: Path, options: dict[str, Any], out: Path, *, overwrite: bool, plots: bool,
         as_json: bool) -> None:
    from attractor.cli.output import OutputDirectory, json_document, write_json

    model, std, metadata = _load(directory)
    start = _start(model, std, metadata, directory)
    from attractor.analysis.run import AnalysisOptions, analyze_model
    from attractor.models.capabilities import PiecewiseLinear, require

    if options["cycles"] or options["symbolic"]:  # refuse before any work or output
        require(model, PiecewiseLinear, by="--cycles" if options["cycles"] else "--symbolic")
    source = metadata.get("data")
    system = source.get("system") if isinstance(source, dict) else None
    dt = float(metadata.get("dt", 1.0)) if isinstance(metadata.get("dt"), int | float) else 1.0
    with OutputDirectory(out, overwrite=overwrite, keep_partial=False) as run_dir:
        partial = "embedding" in metadata or (isinstance(source, dict) and "observe" in source)
        result = analyze_model(model, start, options=AnalysisOptions(**options), standardizer=std,
                               dt=dt, system=system if isinstance(system, str) else None,
                               state_observed=not partial)
        document = {"directory": str(directory), **result.to_dict()}
        staging = run_dir.staging
        write_json(staging / "analysis.json", document)
        _tables(staging, result)
        if plots:
            _plots(staging, result)
    if as_json:
        typer.echo(json_document(document))
        return
    _print(result, out)


def _tables(directory: Path, result: Any) -> None:
    import csv

    from attractor.analysis.table import concatenate

    if result.fixed_points is not None:
        result.fixed_points.to_csv(directory / "fixed_points.csv")
    if result.system_fixed_points is not None:
        result.system_fixed_points.to_csv(directory / "system_fixed_points.csv")
    if result.cycles:
        concatenate(list(result.cycles.values())).to_csv(directory / "cycles.csv")
    if result.lyapunov is not None:
        with open(directory / "lyapunov.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, ["index", "model", "system", "difference"])
            writer.writeheader()
            writer.writerows(result.lyapunov.rows())


def _plots(directory: Path, result: Any) -> None:
    import matplotlib.pyplot as plt

    from attractor.analysis.table import concatenate
    from attractor.plot import analysis as p

    def save(fig: Any, name: str) -> None:
        fig.savefig(directory / name, dpi=110)
        plt.close(fig)

    if result.fixed_points is not None:
        save(p.plot_fixed_points(result.fixed_points, result.trajectory,
                                 directions=result.directions), "fixed_points.png")
        save(p.plot_point_eigenvalues(result.fixed_points).figure, "eigenvalues.png")
    if result.cycles:
        save(p.plot_fixed_points(concatenate(list(result.cycles.values())), result.trajectory),
             "cycles.png")
    if result.symbolic is not None:
        save(p.plot_symbolic_graph(result.symbolic).figure, "symbolic.png")
    if result.koopman is not None:
        save(p.plot_koopman(result.koopman).figure, "koopman.png")
    if result.lyapunov is not None:
        save(p.plot_lyapunov(result.lyapunov).figure, "lyapunov.png")


def _print(result: Any, out: Path) -> None:
    if result.fixed_points is not None:
        typer.echo(f"{len(result.fixed_points)} fixed point(s) ({result.fixed_point_method}):")
        if len(result.fixed_points):
            typer.echo(result.fixed_points.summary())
        for m in result.matches or []:
            if m["model_index"] is not None:
                typer.echo(f"  system equilibrium {m['system_index']}: nearest model fixed point "
                           f"{m['model_index']}, max |difference| {m['max_abs_difference']:.3g} "
                           "(standardised)")
    for k, table in result.cycles.items():
        typer.echo(f"{table.n_cycles} cycle(s) of period {k}")
    if result.symbolic is not None:
        typer.echo(f"{result.symbolic.n_regions} linear subregion(s) visited")
    if result.koopman is not None:
        typer.echo(f"Koopman: {int(result.koopman.verified.sum())} of "
                   f"{len(result.koopman.eigenvalues)} eigenvalues verified "
                   f"(residual <= {result.koopman.epsilon:g})")
    if result.lyapunov is not None:
        for row in result.lyapunov.rows():
            shown = {k: "-" if row[k] is None else f"{row[k]:.4g}" for k in ("model", "system")}
            typer.echo(f"  lambda_{row['index']}: model {shown['model']}, "
                       f"system {shown['system']}")
    typer.echo(f"results written to {out}")
