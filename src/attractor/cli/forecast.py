"""``attractor forecast``: train any registered model, forecast from test contexts, score it.

Takes the same model, objective and data options as ``train``
(:mod:`attractor.cli.run_options`). Writes DIR (through ``<DIR>.partial``, renamed into place when
complete) with the model (``config.json``, ``weights.eqx``), ``forecast.json`` (the scores of
:func:`attractor.dsr.forecasting.evaluate_forecasts`), ``forecast.npy`` (the first window's
forecast in data units) and plots: ``forecast.png`` (forecast against truth, valid time marked)
and, for spatiotemporal data (8 or more dimensions), ``spacetime.png`` (truth, forecast, error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attractor.cli import run_options as o
from attractor.cli import validate as v

#: Data with at least this many dimensions also get the space-time panels.
SPATIOTEMPORAL_DIM = 8
#: ``--horizon auto``: this many Lyapunov times when the exponent is known, else this many steps.
AUTO_HORIZON_LYAPUNOV_TIMES = 10.0
AUTO_HORIZON_STEPS = 1000


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast_command)


def forecast_command(
    system: str = o.SYSTEM_OPTION,
    data: list[Path] = o.DATA_OPTION,
    test_data: Path = o.TEST_DATA_OPTION,
    dt: float = o.DT_OPTION,
    model: str = o.MODEL_OPTION,
    settings: list[str] = o.SETTINGS_OPTION,
    latent: int = o.LATENT_OPTION,
    hidden: int = o.HIDDEN_OPTION,
    pwl: int = o.PWL_OPTION,
    bases: int = o.BASES_OPTION,
    observation: str = o.OBSERVATION_OPTION,
    objective: str = o.OBJECTIVE_OPTION,
    objective_settings: list[str] = o.OBJECTIVE_SETTINGS_OPTION,
    alpha: float = o.ALPHA_OPTION,
    tau: int = o.TAU_OPTION,
    seq_len: str = o.SEQ_LEN_OPTION,
    epochs: str = o.EPOCHS_OPTION,
    batch_noise: str = o.BATCH_NOISE_OPTION,
    grad_clip: str = o.GRAD_CLIP_OPTION,
    batch_size: int = o.BATCH_SIZE_OPTION,
    lr: float = o.LR_OPTION,
    lr_end: float = o.LR_END_OPTION,
    n_train: int = o.N_TRAIN_OPTION,
    n_test: int = o.N_TEST_OPTION,
    noise: float = o.NOISE_OPTION,
    seed: int = o.SEED_OPTION,
    embed: str = o.EMBED_OPTION,
    observe: str = o.OBSERVE_OPTION,
    select_every: str = o.SELECT_EVERY_OPTION,
    select_by: str = o.SELECT_BY_OPTION,
    select_steps: str = o.SELECT_STEPS_OPTION,
    select_probes: str = o.SELECT_PROBES_OPTION,
    retries: int = o.RETRIES_OPTION,
    patience: str = o.PATIENCE_OPTION,
    context: str = typer.Option("auto", "--context", help="Context rows the model warms up on "
                                "before each forecast, or auto (the model's context length)."),
    horizon: str = typer.Option("auto", "--horizon", help="Forecast steps, or auto (10 "
                                "Lyapunov times when the exponent is known, else 1000)."),
    windows: int = typer.Option(5, "--windows", help="Forecasts from this many contexts spread "
                                "along the test data (medians are reported)."),
    lyapunov: float = typer.Option(None, "--lyapunov", help="Largest Lyapunov exponent of the "
                                   "data per time unit (default: the system's; for VPT in "
                                   "Lyapunov times)."),
    threshold: float = typer.Option(0.5, "--threshold", help="NRMSE threshold of the valid "
                                    "prediction time."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing DIR."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON document."),
) -> None:
    """Train a model, forecast from test contexts, and report VPT, NRMSE, sMAPE, D_stsp, D_H."""
    shared = {k: val for k, val in locals().items() if k in o.SHARED}
    context_rows = v.auto_or_positive_int(context, "--context")
    horizon_steps = v.auto_or_positive_int(horizon, "--horizon")
    v.positive_int(windows, "--windows", maximum=1000)
    v.positive_float(threshold, "--threshold")
    if lyapunov is not None:
        v.positive_float(lyapunov, "--lyapunov")
    run_spec, prepared = o.run_spec_and_data(**shared)
    o.announce_embedding(prepared, as_json)
    lam = lyapunov if lyapunov is not None else _system_lyapunov(system)
    _run(prepared, run_spec, out, context_rows, horizon_steps, windows, lam, threshold,
         overwrite=overwrite, plots=not no_plots, as_json=as_json)


def _system_lyapunov(system: str | None) -> float | None:
    if system is None:
        return None
    from attractor.systems import get

    value = get(system).reference.lyapunov_max
    return float(value) if value is not None and value > 0 else None


def _run(prepared, run_spec, out: Path, context, horizon, windows, lam, threshold, *,
         overwrite: bool, plots: bool, as_json: bool) -> None:
    import numpy as np

    from attractor.cli.output import OutputDirectory, json_document, write_json
    from attractor.cli.train import print_derived
    from attractor.dsr.forecasting import evaluate_forecasts
    from attractor.dsr.pipeline import fit
    from attractor.models.io import save_model

    with OutputDirectory(out, overwrite=overwrite, keep_partial=False) as run_dir:
        print_derived(run_spec, prepared)  # once the run is sure to start
        fitted = fit(prepared, run_spec, progress=not as_json)
        context = context or fitted.model.context_length
        if horizon is None:
            by_lyapunov = AUTO_HORIZON_LYAPUNOV_TIMES / (lam * prepared.dt) if lam else np.inf
            horizon = int(min(AUTO_HORIZON_STEPS if not lam else by_lyapunov,
                              len(prepared.test) - context))
            horizon = max(horizon, 1)
        scores, series = evaluate_forecasts(
            fitted.model, prepared, context=context, horizon=horizon, n_windows=windows,
            lyapunov=lam, threshold=threshold,
        )
        scores.update(model=run_spec.model, train_seconds=fitted.seconds,
                      selected_epoch=fitted.selected_epoch)
        staging = run_dir.staging
        save_model(staging, fitted.model, {**prepared.metadata(),
                                           "run": {"spec": run_spec.to_dict(),
                                                   "derived": fitted.derived}})
        write_json(staging / "forecast.json", scores)
        np.save(staging / "forecast.npy", series["forecast"])
        if plots:
            _plots(staging, series, scores, prepared.dt, lam)
    if as_json:
        typer.echo(json_document(scores))
        return
    _print(scores, out)


def _plots(directory: Path, series: dict[str, Any], scores: dict[str, Any], dt: float,
           lam: float | None) -> None:
    import matplotlib.pyplot as plt

    from attractor.plot.forecast import plot_forecast, plot_spatiotemporal

    valid = scores["vpt_steps_windows"][0]
    fig = plot_forecast(series["truth"], series["forecast"], context=series["context"], dt=dt,
                        valid_steps=valid, lyapunov=lam)
    fig.savefig(directory / "forecast.png", dpi=110)
    plt.close(fig)
    if series["truth"].shape[1] >= SPATIOTEMPORAL_DIM:
        fig = plot_spatiotemporal(series["truth"], series["forecast"], dt=dt, lyapunov=lam)
        fig.savefig(directory / "spacetime.png", dpi=110)
        plt.close(fig)


def _print(scores: dict[str, Any], out: Path) -> None:
    rows = [("VPT (steps)", scores["vpt_steps"]), ("VPT (Lyapunov times)", scores["vpt_lyapunov"]),
            ("NRMSE", scores["nrmse"]), ("sMAPE (0-200)", scores["smape"]),
            ("D_stsp", scores["D_stsp"]), ("D_H", scores["D_H"])]
    for name, value in rows:
        shown = "n/a" if value is None else f"{value:.4g}"
        typer.echo(f"{name:>22}: {shown}")
    typer.echo(f"model, forecast.json and plots written to {out}")
