"""Best-model selection: keep the checkpoint whose free runs match a validation series best."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import equinox as eqx
import numpy as np

from attractor.dsr.data import PreparedData
from attractor.dsr.evaluate import generate_runs
from attractor.errors import InputError
from attractor.metrics.geometry import state_space_divergence
from attractor.metrics.spectrum import power_spectrum_hellinger

#: Files of the best model so far, next to the training checkpoint (so a resumed run keeps it).
BEST_WEIGHTS = "best.eqx"
BEST_INFO = "best.json"

#: Selection scores: name -> distance of a free run from the validation series (lower is better).
SELECTION_METRICS = {
    # geometry of the attractor in state space (GMM or binned; metrics.geometry)
    "d_stsp": state_space_divergence,
    # Hellinger distance of the power spectra: the timescales (metrics.spectrum)
    "d_h": power_spectrum_hellinger,
}
#: How each selection score is named in ``metrics.json`` (``validation_<name>``) and on plots.
SELECTION_NAMES = {"d_stsp": "D_stsp", "d_h": "D_H"}


def validation_key(metric: str) -> str:
    """The ``metrics.json`` key of the validation scores of selection score ``metric``."""
    return f"validation_{SELECTION_NAMES[metric]}"


def check_selection_metric(name: str, flag: str | None = None) -> str:
    """``name`` if it is a selection score, else an :class:`InputError` naming the choices (and
    ``flag``, the option it came from, if given)."""
    if name not in SELECTION_METRICS:
        choices = " or ".join(SELECTION_METRICS)
        raise InputError(f"{flag} must be {choices}, got {name!r}" if flag else
                         f"unknown selection score {name!r}; choose {choices}")
    return name


class BestModelSelector:
    """Keep the model with the lowest D_stsp (or D_H) on a validation series, checked every few
    epochs.

    The AL-RNN protocol (Brenner et al., NeurIPS 2024) evaluates the checkpoint with the best
    D_stsp rather than the last one. Here the validation series is the tail of the *training* data
    (never the test data): every ``every`` epochs the model generates ``ceil(1.25 T)`` steps from
    each of ``n_starts`` start points spread along it, and the last ``T`` of each run are compared
    with the series by ``metric`` (:data:`SELECTION_METRICS`). ``"d_h"`` scores the power
    spectrum instead of the geometry: on nearly periodic data (a heart beat) every checkpoint
    covers the data's geometry about equally well and D_stsp cannot tell the one with the right
    rate. The score is the worst of these values over the start points, so that a model with a
    second, spurious attractor reached from some start points (multistability, seen in trained
    shPLRNNs) is not kept for its good runs from the others; a diverged run disqualifies the
    checkpoint. With ``steps`` the runs are that long instead (still scored on their last ``T``),
    to catch a model that leaves the data's attractor only after many steps (a long transient
    that ends on a spurious attractor).

    With ``state_dir`` the best model so far is saved there whenever it improves, and
    :meth:`restore` reloads it when a run is resumed, so an interrupted and resumed run selects
    exactly the model an uninterrupted one would.

    With ``patience`` (epochs) a check asks training to stop once the score has not improved for
    that long (:mod:`attractor.dsr.adaptive`).

    Every check is kept in :attr:`checks` as ``(epoch, score)`` (saved with the best model and
    restored with it), so a run can show its validation curve next to its training loss.
    """

    def __init__(
        self,
        validation: np.ndarray,
        every: int,
        n_starts: int = 3,
        *,
        state_dir: str | Path | None = None,
        patience: int | None = None,
        metric: str = "d_stsp",
        steps: int | None = None,
    ) -> None:
        self.validation = np.asarray(validation, dtype=np.float64)
        self.metric = check_selection_metric(metric)
        self.steps = steps
        self.every = every
        self.patience = patience
        self.n_starts = n_starts
        self.best_model: Any | None = None
        self.best_score = float("inf")
        self.best_epoch: int | None = None
        self.checks: list[tuple[int, float]] = []
        self.state_dir = Path(state_dir) if state_dir is not None else None

    def restore(self, like: Any) -> bool:
        """Load the best model saved in ``state_dir`` (shaped like ``like``), for a resumed run."""
        if self.state_dir is None or not (self.state_dir / BEST_INFO).is_file():
            return False
        info = json.loads((self.state_dir / BEST_INFO).read_text())
        self.checks = [(int(e), float("inf") if s is None else float(s))
                       for e, s in info.get("checks", [])]
        if info.get("epoch") is None:  # checks so far, none finite
            return False
        self.best_model = eqx.tree_deserialise_leaves(self.state_dir / BEST_WEIGHTS, like)
        self.best_score, self.best_epoch = float(info["score"]), int(info["epoch"])
        return True

    def _save(self, *, weights: bool) -> None:
        """Write the checks (and, with ``weights``, the best model) to ``state_dir``."""
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if weights:
            tmp = self.state_dir / (BEST_WEIGHTS + ".tmp")
            eqx.tree_serialise_leaves(tmp, self.best_model)
            tmp.replace(self.state_dir / BEST_WEIGHTS)
        info = self.state_dir / (BEST_INFO + ".tmp")
        has_best = self.best_epoch is not None
        info.write_text(json.dumps({
            "metric": self.metric,
            "score": self.best_score if has_best else None, "epoch": self.best_epoch,
            "checks": [[e, s if np.isfinite(s) else None] for e, s in self.checks]}))
        info.replace(self.state_dir / BEST_INFO)

    def score(self, model: Any) -> float:
        """The worst validation score over the start points (``inf`` if a run diverged)."""
        generated, _ = generate_runs(model, self.validation, self.n_starts, steps=self.steps)
        distance = SELECTION_METRICS[self.metric]
        scores = [distance(self.validation, run) if np.all(np.isfinite(run)) else np.inf
                  for run in generated]
        return float(max(scores)) if np.all(np.isfinite(scores)) else float("inf")

    def __call__(self, epoch: int, model: Any, loss: float, info: Any = None) -> bool:
        """Check every ``every`` epochs; ``True``: the patience ran out, stop training."""
        if epoch % self.every:
            return False
        score = self.score(model)
        # a resumed run repeats the epochs after its last checkpoint: their checks count once
        self.checks = [c for c in self.checks if c[0] < epoch] + [(epoch, score)]
        improved = score < self.best_score
        if improved:
            self.best_model, self.best_score, self.best_epoch = model, score, epoch
        self._save(weights=improved)
        return self.patience is not None and epoch - (self.best_epoch or 0) >= self.patience


def validation_tail(data: PreparedData, n: int = 20_000) -> np.ndarray:
    """The last ``min(n, 20 %)`` rows of the first training series."""
    first = data.train[0]
    return first[len(first) - min(n, len(first) // 5) :]
