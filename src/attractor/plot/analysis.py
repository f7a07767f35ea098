"""Figures of the analyses: fixed points over the attractor, eigenvalues against the unit circle,
Koopman spectra with pseudospectra, symbolic transition graphs, Lyapunov spectra.

Every function takes ``ax=None`` (or ``fig=None`` for multi-panel figures), returns the matplotlib
object it drew, and never calls ``show()``; the Agg backend is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Length of the drawn unstable directions, as a fraction of the attractor's extent.
DIRECTION_FRACTION = 0.15


def _projection(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mean and axes ``(N, k)`` of the view: the first 3 coordinates, or 3 principal axes."""
    n = x.shape[1]
    mean = x.mean(axis=0)
    if n <= 3:
        return np.zeros(n), np.eye(n), [f"x{i + 1}" for i in range(n)]
    _, _, vh = np.linalg.svd(x - mean, full_matrices=False)
    return mean, vh[:3].T, ["PC1", "PC2", "PC3"]


def plot_fixed_points(
    table: Any,
    trajectory: np.ndarray,
    *,
    directions: Sequence[np.ndarray] | None = None,
    fig: Figure | None = None,
    max_points: int = 20_000,
) -> Figure:
    """Points of ``table`` over a trajectory ``(T, N)`` (both in standardised observation units):
    3-D for ``N = 3``, the first 3 principal components for ``N > 3``, 2-D for ``N = 2``.
    Stable points black, unstable red; ``directions[i]`` ``(n_i, N)`` are drawn as lines through
    point ``i`` (its unstable eigen-directions mapped to observation space)."""
    x = np.asarray(trajectory, float)[:max_points]
    mean, axes, labels = _projection(x)
    view = (x - mean) @ axes
    fig = fig or plt.figure(figsize=(6.5, 5.5))
    three = view.shape[1] >= 3
    ax = fig.add_subplot(1, 1, 1, projection="3d" if three else None)
    cols = [view[:, i] for i in range(min(3, view.shape[1]))]
    if len(cols) == 1:
        cols.append(np.zeros_like(cols[0]))
    ax.plot(*cols, lw=0.3, color="0.6", alpha=0.8)
    extent = float(np.max(np.ptp(view, axis=0))) if len(view) else 1.0
    points = (np.asarray(table.observation_standardized, float) - mean) @ axes
    for i, p in enumerate(points):
        color = "k" if table.stable[i] else "C3"
        if three:
            ax.scatter([p[0]], [p[1]], [p[2]], color=color, s=40, zorder=5, depthshade=False)
        else:
            ax.scatter(p[0], p[1] if p.size > 1 else 0.0, color=color, s=40, zorder=5)
        for d in [] if directions is None or p.size < 2 else np.atleast_2d(directions[i]):
            d = np.asarray(d, float) @ axes
            if not np.any(d):
                continue
            d = DIRECTION_FRACTION * extent * d / np.linalg.norm(d)
            seg = [[p[j] - d[j], p[j] + d[j]] for j in range(min(3, p.size))]
            ax.plot(*seg, color=color, lw=1.5)
    ax.set_xlabel(labels[0])
    if len(labels) > 1:
        ax.set_ylabel(labels[1])
    if three:
        ax.set_zlabel(labels[2])
    n_fp = int(np.sum(table.period == 1))
    ax.set_title(f"{n_fp} fixed point(s), {len(table) - n_fp} cycle point(s); red: unstable")
    fig.tight_layout()
    return fig


def _unit_circle(ax: Axes) -> None:
    t = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(t), np.sin(t), color="0.5", lw=0.8)
    ax.axhline(0, color="0.85", lw=0.5)
    ax.axvline(0, color="0.85", lw=0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")


def plot_point_eigenvalues(table: Any, *, ax: Axes | None = None) -> Axes:
    """Eigenvalues of each point's Jacobian (cycles: monodromy) against the unit circle."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    _unit_circle(ax)
    for c in np.unique(table.cycle):
        row = int(np.flatnonzero(table.cycle == c)[0])
        lam = table.eigenvalues[row]
        label = f"{'fixed point' if table.period[row] == 1 else f'{table.period[row]}-cycle'} {c}"
        ax.scatter(lam.real, lam.imag, s=25, label=label)
    if len(table):
        ax.legend(fontsize=7, loc="best")
    ax.set_title("Jacobian eigenvalues (outside the circle: unstable)")
    return ax


def plot_koopman(
    spectrum: Any,
    *,
    ax: Axes | None = None,
    grid: int = 80,
    levels: Sequence[float] = (0.01, 0.05, 0.1, 0.3),
    limit: float = 1.3,
) -> Axes:
    """Koopman eigenvalues (filled: verified, ``x``: unverified) with contours of the
    pseudospectrum ``τ_N(z)`` at ``levels`` and the unit circle."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    re = np.linspace(-limit, limit, grid)
    tau = spectrum.pseudospectrum(re, re)
    cs = ax.contour(re, re, tau, levels=sorted(levels), cmap="viridis", linewidths=0.8)
    ax.clabel(cs, fontsize=6)
    _unit_circle(ax)
    lam, ok = spectrum.eigenvalues, spectrum.verified
    ax.scatter(lam[ok].real, lam[ok].imag, color="C0", s=25, label=f"verified ({int(ok.sum())})")
    ax.scatter(lam[~ok].real, lam[~ok].imag, color="C3", marker="x", s=20,
               label=f"unverified ({int((~ok).sum())})")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"Koopman eigenvalues, residual ε = {spectrum.epsilon:g}")
    return ax


def plot_symbolic_graph(symbolic: Any, *, ax: Axes | None = None, max_nodes: int = 16) -> Axes:
    """The most visited regions as nodes on a circle (area ∝ visits), arrows for transitions
    between distinct regions (width ∝ probability); self-transition probabilities as labels."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    n = min(symbolic.n_regions, max_nodes)
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    pos = np.stack([np.cos(angle), np.sin(angle)], axis=1) if n > 1 else np.zeros((1, 2))
    freq = symbolic.counts[:n] / symbolic.counts.sum()
    p = symbolic.transitions
    for i in range(n):
        for j in range(n):
            if i != j and p[i, j] > 0:
                ax.annotate("", xy=pos[j], xytext=pos[i], arrowprops={
                    "arrowstyle": "-|>", "lw": 0.5 + 4 * p[i, j], "color": "0.4",
                    "shrinkA": 12, "shrinkB": 12, "connectionstyle": "arc3,rad=0.15"})
    ax.scatter(pos[:, 0], pos[:, 1], s=200 + 3000 * freq, color="C0", zorder=3)
    for i in range(n):
        ax.text(pos[i, 0], pos[i, 1], f"{i}\n{p[i, i]:.2f}", ha="center", va="center",
                fontsize=7, color="w", zorder=4)
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    shown = "" if n == symbolic.n_regions else f" (top {n} of {symbolic.n_regions})"
    ax.set_title(f"linear subregions and transitions{shown}; label: P(stay)")
    return ax


def plot_lyapunov(comparison: Any, *, ax: Axes | None = None) -> Axes:
    """Bar plot of the model's Lyapunov exponents next to the system's, with both Kaplan–Yorke
    dimensions in the legend."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    rows = comparison.rows()
    idx = np.arange(len(rows))
    width = 0.38
    model = [r["model"] if r["model"] is not None else np.nan for r in rows]
    ax.bar(idx - width / 2, model, width,
           label=f"model (D_KY {comparison.model.kaplan_yorke:.3f})", color="C3")
    if comparison.system is not None:
        system = [r["system"] if r["system"] is not None else np.nan for r in rows]
        ax.bar(idx + width / 2, system, width,
               label=f"system (D_KY {comparison.system.kaplan_yorke:.3f})", color="C0")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(idx, [f"λ{r['index']}" for r in rows])
    ax.set_ylabel("exponent (per time unit)")
    ax.legend(fontsize=8)
    ax.set_title("Lyapunov spectrum")
    return ax


__all__ = [
    "plot_fixed_points",
    "plot_koopman",
    "plot_lyapunov",
    "plot_point_eigenvalues",
    "plot_symbolic_graph",
]
