"""Figures of a reconstruction: attractor, power spectra, time series, training loss.

Every function takes ``ax=None`` (or a figure to draw into), returns the matplotlib object it
drew, and never calls ``show()``; the Agg backend is used so it works without a screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from attractor.metrics.spectrum import normalized_power_spectrum  # noqa: E402
from attractor.models.base import DynamicsModel  # noqa: E402

#: Spectra and time series show at most this many dimensions (the first ones).
MAX_PANELS = 6
#: A diverged run shorter than this (finite steps) gets no spectra figure.
MIN_SPECTRUM_ROWS = 64


def plot_attractor(
    x_true: np.ndarray,
    x_gen: np.ndarray | None = None,
    *,
    fig: Figure | None = None,
    max_points: int = 20_000,
) -> Figure:
    """True (left) and generated (right) attractor: 3-D for ``N >= 3`` (first three), else 2-D."""
    fig = fig or plt.figure(figsize=(10, 4.5))
    panels = [("data", x_true)] + ([("model", x_gen)] if x_gen is not None else [])
    for i, (title, x) in enumerate(panels, start=1):
        x = np.asarray(x)[:max_points]
        if x.shape[1] >= 3:
            ax = fig.add_subplot(1, len(panels), i, projection="3d")
            ax.plot(x[:, 0], x[:, 1], x[:, 2], lw=0.3, color="C0" if i == 1 else "C3")
            ax.set_zlabel("x3")
        else:
            ax = fig.add_subplot(1, len(panels), i)
            y = x[:, 1] if x.shape[1] > 1 else np.roll(x[:, 0], 10)
            ax.plot(x[:, 0], y, lw=0.3, color="C0" if i == 1 else "C3")
        ax.set_title(title)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2" if x.shape[1] > 1 else "x1 (t-10)")
    fig.tight_layout()
    return fig


def plot_power_spectra(
    x_true: np.ndarray,
    x_gen: np.ndarray,
    *,
    smoothing: float = 20.0,
    fig: Figure | None = None,
    max_freq_fraction: float = 0.1,
) -> Figure:
    """Smoothed, normalised power spectra (the ones D_H compares), one panel per dimension (the
    first :data:`MAX_PANELS`)."""
    p = normalized_power_spectrum(x_true[:, :MAX_PANELS], smoothing=smoothing)
    q = normalized_power_spectrum(x_gen[:, :MAX_PANELS], smoothing=smoothing)
    n_dim = p.shape[1]
    fig = fig or plt.figure(figsize=(3.2 * n_dim, 3))
    cut = max(10, int(max_freq_fraction * p.shape[0]))
    for d in range(n_dim):
        ax = fig.add_subplot(1, n_dim, d + 1)
        ax.semilogy(p[:cut, d], label="data", color="C0")
        ax.semilogy(q[:cut, d], label="model", color="C3", ls="--")
        ax.set_title(f"x{d + 1}")
        ax.set_xlabel("frequency bin")
        if d == 0:
            ax.legend()
    fig.tight_layout()
    return fig


def plot_time_series(
    x_true: np.ndarray,
    x_gen: np.ndarray,
    *,
    n_steps: int = 1000,
    dt: float = 1.0,
    fig: Figure | None = None,
) -> Figure:
    """The first ``n_steps`` of data and a free-running model from the same start point (the
    first :data:`MAX_PANELS` dimensions)."""
    n_dim = min(x_true.shape[1], MAX_PANELS)
    fig = fig or plt.figure(figsize=(9, 1.8 * n_dim))
    t = np.arange(min(n_steps, len(x_true), len(x_gen))) * dt
    for d in range(n_dim):
        ax = fig.add_subplot(n_dim, 1, d + 1)
        ax.plot(t, x_true[: len(t), d], color="C0", label="data")
        ax.plot(t, x_gen[: len(t), d], color="C3", ls="--", label="model")
        ax.set_ylabel(f"x{d + 1}")
        if d == 0:
            ax.legend(loc="upper right")
    fig.axes[-1].set_xlabel("time" if dt != 1.0 else "step")
    fig.tight_layout()
    return fig


def plot_losses(
    losses: Sequence[float],
    *,
    validation: tuple[Sequence[int], Sequence[float | None]] = ((), ()),
    score_name: str = "D_stsp",
    selected: int | None = None,
    rejected: Sequence[int] = (),
    ax: Axes | None = None,
) -> Axes:
    """Training loss per epoch on a log scale; with ``validation`` (epochs, scores of the
    best-model checks; ``None`` where a free run diverged) also the validation score (named
    ``score_name``) on a second axis, with the check of epoch ``selected`` (default: the lowest)
    circled and the checks of epochs ``rejected`` (whose basin probes settled,
    :mod:`attractor.dsr.probes`) crossed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    ax.semilogy(np.arange(1, len(losses) + 1), losses, label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    epochs, scores = validation
    finite = [(e, s) for e, s in zip(epochs, scores, strict=True)
              if s is not None and np.isfinite(s)]
    if finite:
        right = ax.twinx()
        e, s = np.asarray(finite).T
        right.plot(e, s, color="C1", marker=".", lw=1, label=f"validation {score_name}")
        caught = np.isin(e, np.asarray(rejected))
        if caught.any():
            right.plot(e[caught], s[caught], "x", color="C3", ms=6,
                       label="spurious attractor (basin probes)")
        hits = [int(np.argmin(s))] if selected is None else np.flatnonzero(e == selected)
        if len(hits):
            best = int(hits[0])
            right.plot(e[best], s[best], "o", mfc="none", color="C3", ms=9,
                       label=f"selected (epoch {int(e[best])})")
        right.set_ylabel(f"validation {score_name}")
        lines = ax.get_lines() + right.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], loc="upper right", fontsize=8)
    return ax


def write_dsr_plots(
    out: str | Path,
    model: DynamicsModel,
    x_test: np.ndarray,
    *,
    losses: Sequence[float] = (),
    dt: float = 1.0,
    validation: tuple[Sequence[int], Sequence[float | None]] = ((), ()),
    score_name: str = "D_stsp",
    selected: int | None = None,
    rejected: Sequence[int] = (),
) -> list[Path]:
    """Write ``attractor.png``, ``spectra.png``, ``timeseries.png`` (and ``loss.png``, with the
    validation checks of ``validation`` if any, scored by ``score_name``, the ``selected`` one
    and the ``rejected`` ones marked: see :func:`plot_losses`) to ``out``.

    The generated trajectory starts at the first test point and runs as long as the test series.
    A run that diverges is drawn up to its last finite step, with a title that says so (no
    spectra when fewer than :data:`MIN_SPECTRUM_ROWS` steps are left).
    """
    import jax.numpy as jnp

    out = Path(out)
    x_test = np.asarray(x_test)
    x_gen = np.asarray(model.simulate(jnp.asarray(x_test[0], jnp.float32), len(x_test)))
    bad = np.flatnonzero(~np.all(np.isfinite(x_gen), axis=1))
    n = len(x_gen) if bad.size == 0 else int(bad[0])  # a diverged run: its finite part
    figures = [("attractor.png", lambda: plot_attractor(x_test, x_gen[:n])),
               ("timeseries.png", lambda: plot_time_series(x_test, x_gen[:n], dt=dt))]
    if n >= MIN_SPECTRUM_ROWS:
        figures.append(("spectra.png", lambda: plot_power_spectra(x_test[:n], x_gen[:n])))
    written = []
    for name, draw in figures:
        fig = draw()
        if n < len(x_gen):
            fig.suptitle(f"the model's run diverged after {n} steps", color="C3", fontsize=9)
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(out / name)
    if len(losses):
        ax = plot_losses(losses, validation=validation, score_name=score_name,
                         selected=selected, rejected=rejected)
        ax.figure.tight_layout()
        ax.figure.savefig(out / "loss.png", dpi=110)
        plt.close(ax.figure)
        written.append(out / "loss.png")
    return written
