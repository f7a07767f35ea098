"""Symbolic dynamics of piecewise-linear models: which linear subregion a trajectory is in.

Each state of a piecewise-linear model lies in one linear subregion, named by its region code
(:meth:`~attractor.models.capabilities.PiecewiseLinear.region_code`; for an AL-RNN the signs of
its ``P`` ReLU units, at most ``2^P`` symbols). A trajectory becomes a **symbol sequence**
``s_t``; symbols are numbered by how often they occur (0: the most visited region). From it
(Brenner et al., NeurIPS 2024, "Almost-linear RNNs yield highly interpretable symbolic codes in
dynamical systems reconstruction"):

- the **transition matrix** ``P[i, j] = #{t: s_t = i, s_{t+1} = j} / #{t < T-1: s_t = i}``,
  row-stochastic, self-transitions included (the reference code's graph normalises joint counts
  to sum 1 instead; we report the conditional probabilities, from which those follow with the
  visit frequencies). A region seen only at the last step has no outgoing transition: its row is
  ``e_i``;
- **dwell times**: lengths of the runs of equal symbols, per region (mean, median, max, number
  of runs). The first and the last run are cut short by the ends of the trajectory.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from attractor.analysis.table import region_string
from attractor.errors import InputError
from attractor.models.capabilities import PiecewiseLinear, require


@dataclasses.dataclass
class SymbolicDynamics:
    """Symbol sequence and statistics of one trajectory (see the module docstring).

    Attributes:
        regions: region code of each symbol, most visited first.
        symbols: ``(T,)`` symbol (index into ``regions``) of each step.
        counts: ``(R,)`` steps spent in each region.
        transitions: ``(R, R)`` row-stochastic transition matrix.
        dwell: per region ``{"mean", "median", "max", "runs"}`` of its run lengths.
    """

    regions: list[str]
    symbols: np.ndarray
    counts: np.ndarray
    transitions: np.ndarray
    dwell: list[dict[str, float]]

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    def to_dict(self, *, max_symbols: int = 10_000) -> dict[str, Any]:
        """JSON-ready; the symbol sequence is cut to its first ``max_symbols`` entries."""
        return {
            "n_regions": self.n_regions,
            "regions": list(self.regions),
            "frequencies": (self.counts / max(int(self.counts.sum()), 1)).tolist(),
            "transitions": self.transitions.tolist(),
            "dwell": self.dwell,
            "symbols": self.symbols[:max_symbols].tolist(),
            "n_steps": int(self.symbols.size),
        }


def symbolic_from_codes(codes: Any) -> SymbolicDynamics:
    """Symbolic dynamics of a sequence of region codes ``(T, K)`` (or ``(T,)`` integer labels)."""
    codes = np.asarray(codes)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.ndim != 2 or codes.shape[0] < 1:
        raise InputError(f"symbolic dynamics: expected codes of shape (T, K), got {codes.shape}")
    labels = [region_string(c) for c in codes]
    names, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.lexsort((names, -counts))  # most visited first, ties by code
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    symbols = rank[inverse.ravel()]
    n = order.size
    joint = np.zeros((n, n))
    np.add.at(joint, (symbols[:-1], symbols[1:]), 1.0)
    out = joint.sum(axis=1)
    transitions = np.where(out[:, None] > 0, joint / np.maximum(out[:, None], 1.0), np.eye(n))
    return SymbolicDynamics(
        regions=[str(names[i]) for i in order],
        symbols=symbols,
        counts=counts[order],
        transitions=transitions,
        dwell=_dwell_times(symbols, n),
    )


def _dwell_times(symbols: np.ndarray, n: int) -> list[dict[str, float]]:
    change = np.flatnonzero(np.diff(symbols)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [symbols.size]]))
    runs = symbols[starts]
    out = []
    for i in range(n):
        mine = lengths[runs == i]
        out.append(
            {
                "mean": float(mine.mean()),
                "median": float(np.median(mine)),
                "max": int(mine.max()),
                "runs": int(mine.size),
            }
        )
    return out


def symbolic_dynamics(model: Any, latents: Any) -> SymbolicDynamics:
    """Symbolic dynamics of a latent trajectory ``(T, M)`` of a piecewise-linear model."""
    require(model, PiecewiseLinear, by="symbolic dynamics")
    latents = jnp.asarray(latents)
    if latents.ndim != 2:
        raise InputError(f"symbolic dynamics: expected latent states (T, M), got {latents.shape}")
    return symbolic_from_codes(np.asarray(model.region_code(latents)))


__all__ = ["SymbolicDynamics", "symbolic_dynamics", "symbolic_from_codes"]
