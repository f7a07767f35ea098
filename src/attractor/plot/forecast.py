"""Forecast figures: forecast against truth with the valid-time marker, and space-time panels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: At most this many dimensions get their own line panel.
MAX_LINE_PANELS = 4


def plot_forecast(
    truth: np.ndarray,
    forecast: np.ndarray,
    *,
    context: np.ndarray | None = None,
    dt: float = 1.0,
    valid_steps: float | None = None,
    lyapunov: float | None = None,
) -> Figure:
    """Truth and forecast per dimension (the first few), the valid prediction time as a line.

    Time 0 is the first forecast row; the context, if given, is drawn before it. With
    ``lyapunov`` the time axis is in Lyapunov times.
    """
    n_dim = min(truth.shape[1], MAX_LINE_PANELS)
    scale = lyapunov if lyapunov else 1.0
    unit = "Lyapunov times" if lyapunov else "time"
    fig, axes = plt.subplots(n_dim, 1, figsize=(7, 1.8 * n_dim + 0.6), sharex=True, squeeze=False)
    t = np.arange(1, len(truth) + 1) * dt * scale
    for d, ax in enumerate(axes[:, 0]):
        first = d == 0  # label each series once
        if context is not None:
            tc = (np.arange(len(context)) - len(context) + 1) * dt * scale
            ax.plot(tc, context[:, d], color="0.6", lw=1.0, label="context" if first else None)
        ax.plot(t, truth[:, d], color="k", lw=1.2, label="truth" if first else None)
        ax.plot(t, forecast[:, d], "--", color="C3", lw=1.2, label="forecast" if first else None)
        if valid_steps is not None:
            ax.axvline(valid_steps * dt * scale, color="C0", lw=1.0,
                       label="valid time" if first else None)
        ax.set_ylabel(f"x{d}")
    axes[-1, 0].set_xlabel(unit)
    axes[0, 0].legend(loc="upper left", fontsize=7, ncol=4)
    fig.tight_layout()
    return fig


def plot_spatiotemporal(
    truth: np.ndarray, forecast: np.ndarray, *, dt: float = 1.0, lyapunov: float | None = None
) -> Figure:
    """Truth, forecast and error as space-time images (Lorenz-96, Kuramoto–Sivashinsky)."""
    scale = lyapunov if lyapunov else 1.0
    extent = (0.0, len(truth) * dt * scale, 0.0, truth.shape[1])
    lim = float(np.nanmax(np.abs(truth)))
    fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    panels = (("truth", truth), ("forecast", forecast), ("error", forecast - truth))
    for ax, (name, values) in zip(axes, panels, strict=True):
        image = ax.imshow(values.T, aspect="auto", origin="lower", extent=extent, cmap="RdBu_r",
                          vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_ylabel(f"{name}\nsite")
        fig.colorbar(image, ax=ax, fraction=0.03)
    axes[-1].set_xlabel("Lyapunov times" if lyapunov else "time")
    fig.tight_layout()
    return fig
