"""A whole reconstruction run: data -> model -> training -> evaluation -> model directory.

This is what ``attractor train`` and ``make demo`` call. Training data from a built-in system are
made as in Hess et al. (ICML 2023): ``n_train`` points (100 000) at the system's sampling step
(0.01 for Lorenz-63), standardised, plus 5 % Gaussian observation noise (std 0.05 in standardised
units); the test data are a separate clean trajectory from another initial condition, standardised
with the training statistics.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from attractor import __version__
from attractor.data.io import load_many
from attractor.data.standardize import Standardizer
from attractor.dsr.evaluate import evaluate_model, generate_runs
from attractor.errors import InputError
from attractor.metrics.geometry import state_space_divergence
from attractor.models.base import DSRModel
from attractor.models.io import save_model
from attractor.models.registry import build_model, make_config
from attractor.train.forcing import ForcingConfig
from attractor.train.loop import TrainConfig, TrainResult, train

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"


@dataclasses.dataclass
class PreparedData:
    """Standardised training and test series, the standardiser, and the sampling step."""

    train: list[np.ndarray]
    test: np.ndarray
    standardizer: Standardizer
    dt: float
    source: dict[str, Any]


def system_data(
    name: str,
    *,
    n_train: int = 100_000,
    n_test: int = 100_000,
    noise: float = 0.05,
    seed: int = 0,
    dt: float | None = None,
) -> PreparedData:
    """Training and test data from a registered system (the GTF paper's recipe).

    Two initial conditions are drawn near the attractor from ``seed``: the first gives the training
    trajectory (standardised, plus ``noise`` std Gaussian observation noise), the second the clean
    test trajectory (standardised with the training mean and std). ``dt`` overrides the system's
    sampling step.
    """
    from attractor.systems import get, trajectory

    system = get(name)
    key = jax.random.PRNGKey(seed)
    k_ic, k_noise = jax.random.split(key)
    step = float(system.dt if dt is None else dt)
    ics = np.asarray(trajectory(system, 2, n_ics=2, key=k_ic, dt=step))[:, 0]
    x_train = np.asarray(trajectory(system, n_train, ics=ics[:1], dt=step))[0]
    x_test = np.asarray(trajectory(system, n_test, ics=ics[1:], dt=step))[0]
    std = Standardizer().fit(x_train)
    train_std = std.transform(x_train)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_noise)).ravel()[-1])
    train_std = train_std + noise * rng.standard_normal(train_std.shape)
    return PreparedData(
        train=[train_std.astype(np.float32)],
        test=std.transform(x_test),
        standardizer=std,
        dt=step,
        source={
            "system": system.name,
            "n_train": n_train,
            "n_test": n_test,
            "noise": noise,
            "dt": step,
        },
    )


def file_data(
    paths: Sequence[str | Path], *, test: str | Path | None = None, dt: float = 1.0
) -> PreparedData:
    """Training series from files (several files = several trajectories).

    The test series is ``test`` if given, else the last 20 % of the last training file (held out
    from training). Everything is standardised with the training statistics.
    """
    series = load_many(list(paths))
    if test is not None:
        x_test = load_many([test])[0]
        if x_test.shape[1] != series[0].shape[1]:
            raise InputError(
                f"{test}: test data have {x_test.shape[1]} columns, training data "
                f"{series[0].shape[1]}"
            )
    else:
        last = series[-1]
        cut = int(0.8 * len(last))
        if len(last) - cut < 100:
            raise InputError(
                f"{paths[-1]}: too short to hold out a test part ({len(last)} rows); "
                "pass a separate test file"
            )
        series = [*series[:-1], last[:cut]]
        x_test = last[cut:]
    std = Standardizer().fit(series)
    return PreparedData(
        train=[std.transform(x).astype(np.float32) for x in series],
        test=std.transform(x_test),
        standardizer=std,
        dt=float(dt),
        source={"files": [str(p) for p in paths], "test": str(test) if test else None},
    )


def build(model_name: str, obs_dim: int, *, seed: int, **hyper: Any) -> DSRModel:
    """A fresh model of ``model_name`` for ``obs_dim`` observed dimensions."""
    hyper = {k: v for k, v in hyper.items() if v is not None}
    config = make_config(model_name, obs_dim=obs_dim, **hyper)
    return build_model(config, key=jax.random.PRNGKey(seed))


class BestModelSelector:
    """Keep the model with the lowest D_stsp on a validation series, checked every few epochs.

    The AL-RNN protocol (Brenner et al., NeurIPS 2024) evaluates the checkpoint with the best
    D_stsp rather than the last one. Here the validation series is the tail of the *training* data
    (never the test data): every ``every`` epochs the model generates ``ceil(1.25 T)`` steps from
    each of ``n_starts`` start points spread along it, and the last ``T`` of each run are compared
    with the series. The score is the worst of these D_stsp values, so that a model with a second,
    spurious attractor reached from some start points (multistability, seen in trained shPLRNNs)
    is not kept for its good runs from the others; a diverged run disqualifies the checkpoint.
    """

    def __init__(self, validation: np.ndarray, every: int, n_starts: int = 3) -> None:
        self.validation = np.asarray(validation, dtype=np.float64)
        self.every = every
        self.n_starts = n_starts
        self.best_model: DSRModel | None = None
        self.best_score = float("inf")
        self.best_epoch: int | None = None

    def score(self, model: DSRModel) -> float:
        """The worst validation D_stsp over the start points (``inf`` if a run diverged)."""
        generated, _ = generate_runs(model, self.validation, self.n_starts)
        scores = [state_space_divergence(self.validation, run) for run in generated]
        return float(max(scores)) if np.all(np.isfinite(scores)) else float("inf")

    def __call__(self, epoch: int, model: DSRModel, loss: float, alpha: float) -> bool:
        if epoch % self.every:
            return False
        score = self.score(model)
        if score < self.best_score:
            self.best_model, self.best_score, self.best_epoch = model, score, epoch
        return False


def validation_tail(data: PreparedData, n: int = 20_000) -> np.ndarray:
    """The last ``min(n, 20 %)`` rows of the first training series."""
    first = data.train[0]
    return first[len(first) - min(n, len(first) // 5) :]


def run(
    data: PreparedData,
    model: DSRModel,
    config: TrainConfig,
    out: str | Path,
    *,
    seed: int = 0,
    progress: bool = False,
    resume: bool = False,
    n_eval_runs: int = 5,
    plots: bool = True,
    select_every: int | None = None,
) -> tuple[TrainResult, dict[str, Any]]:
    """Train ``model`` on ``data``, evaluate it, and write the model directory ``out``.

    ``out`` receives ``config.json`` + ``weights.eqx`` (the model, standardiser, training settings),
    ``metrics.json``, plots (unless ``plots=False``) and ``checkpoint/`` (resumable). With
    ``select_every``, the model kept is the one with the best validation D_stsp among those seen
    every ``select_every`` epochs (see :class:`BestModelSelector`); otherwise the last one.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    selector = BestModelSelector(validation_tail(data), select_every) if select_every else None
    t0 = time.perf_counter()
    result = train(
        model,
        data.train,
        config,
        key=jax.random.PRNGKey(seed + 1),
        checkpoint_dir=out / "checkpoint",
        resume=resume,
        progress=progress,
        callback=selector,
    )
    train_seconds = time.perf_counter() - t0
    selected_epoch = result.epochs_done
    if selector is not None and selector.best_model is not None:
        result.model, selected_epoch = selector.best_model, selector.best_epoch
    metadata = {
        "standardizer": data.standardizer.to_dict(),
        "dt": data.dt,
        "train": {
            **dataclasses.asdict(config),
            "forcing": {**dataclasses.asdict(config.forcing), "tau": result.tau},
        },
        "data": data.source,
        "seed": seed,
        "x0": data.standardizer.inverse_transform(data.test[:1])[0].tolist(),
    }
    save_model(out, result.model, metadata)
    metrics = evaluate_model(result.model, data.test, dt=data.dt, n_runs=n_eval_runs)
    metrics.update(
        {
            "train_seconds": train_seconds,
            "epochs": result.epochs_done,
            "final_loss": result.losses[-1] if result.losses else None,
            "final_alpha": result.alphas[-1] if result.alphas else None,
            "selected_epoch": selected_epoch,
            "attractor_version": __version__,
        }
    )
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    if plots:
        from attractor.plot.dsr import write_dsr_plots

        write_dsr_plots(out, result.model, data.test, losses=result.losses, dt=data.dt)
    return result, metrics


def default_train_config(
    *,
    epochs: int,
    forcing: str,
    alpha: float | None,
    tau: int | None,
    seq_len: int = 200,
    batch_size: int = 16,
    lr_start: float = 1e-3,
    lr_end: float = 1e-5,
    noise_std: float = 0.0,
    grad_clip: float | None = 10.0,
) -> TrainConfig:
    """The CLI's training settings."""
    return TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        seq_len=seq_len,
        lr_start=lr_start,
        lr_end=lr_end,
        noise_std=noise_std,
        grad_clip=grad_clip,
        forcing=ForcingConfig(method=forcing, alpha=alpha, tau=tau),  # type: ignore[arg-type]
    )
