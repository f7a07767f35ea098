"""Best-model selection: keep the checkpoint whose free runs match a validation series best."""

from __future__ import annotations

from typing import Any

import numpy as np

from attractor.dsr.data import PreparedData
from attractor.dsr.evaluate import generate_runs
from attractor.metrics.geometry import state_space_divergence


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
        self.best_model: Any | None = None
        self.best_score = float("inf")
        self.best_epoch: int | None = None

    def score(self, model: Any) -> float:
        """The worst validation D_stsp over the start points (``inf`` if a run diverged)."""
        generated, _ = generate_runs(model, self.validation, self.n_starts)
        scores = [state_space_divergence(self.validation, run) for run in generated]
        return float(max(scores)) if np.all(np.isfinite(scores)) else float("inf")

    def __call__(self, epoch: int, model: Any, loss: float, info: Any = None) -> bool:
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
