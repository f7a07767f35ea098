"""Best-model selection: keep the checkpoint whose free runs match a validation series best."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import equinox as eqx
import numpy as np

from attractor.dsr.data import PreparedData
from attractor.dsr.evaluate import generate_runs, probe_runs
from attractor.dsr.probes import settled_mask
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
#: A run whose last this many checks all had a spurious attractor ended in one for good
#: (:meth:`BestModelSelector.failure`). A Lorenz-63 run whose validation runs all settled for 16
#: checks in a row recovered and selected a good model.
COLLAPSED_CHECKS = 20
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

    With ``probes`` every check also runs that many basin probes (:mod:`attractor.dsr.probes`):
    free runs from points spread along the validation series, kept in :attr:`settled` as
    ``(epoch, settled probes)``. Three long runs start in the basin of a spurious attractor only
    by chance; the probes estimate the share of the data in its basin. A checkpoint is then
    ranked by its effective score: its score plus that share times the worst score of the
    settled probes' runs — roughly what a run from a random data point would score. The
    patience counts from the best plain score. :meth:`failure` says when the selected model
    should not be trusted (the pipeline then trains again when asked to:
    :func:`attractor.dsr.pipeline.fit`).

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
        probes: int = 0,
    ) -> None:
        self.validation = np.asarray(validation, dtype=np.float64)
        self.metric = check_selection_metric(metric)
        self.steps = steps
        self.every = every
        self.patience = patience
        self.n_starts = n_starts
        self.probes = probes
        self.best_model: Any | None = None
        self.best_score = float("inf")
        self.best_epoch: int | None = None
        #: settled basin probes of the best model, and its score with their penalty
        self.best_settled = 0
        self.best_effective = float("inf")
        self.checks: list[tuple[int, float]] = []
        #: ``(epoch, settled basin probes)`` of every check
        self.settled: list[tuple[int, int]] = []
        self.state_dir = Path(state_dir) if state_dir is not None else None

    def restore(self, like: Any) -> bool:
        """Load the best model saved in ``state_dir`` (shaped like ``like``), for a resumed run."""
        if self.state_dir is None or not (self.state_dir / BEST_INFO).is_file():
            return False
        info = json.loads((self.state_dir / BEST_INFO).read_text())
        self.checks = [(int(e), float("inf") if s is None else float(s))
                       for e, s in info.get("checks", [])]
        self.settled = [(int(e), int(n)) for e, n in info.get("settled_checks", [])]
        if info.get("epoch") is None:  # checks so far, none finite
            return False
        self.best_model = eqx.tree_deserialise_leaves(self.state_dir / BEST_WEIGHTS, like)
        self.best_score, self.best_epoch = float(info["score"]), int(info["epoch"])
        self.best_settled = int(info.get("settled", 0))
        self.best_effective = float(info.get("effective", self.best_score))
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
            "settled": self.best_settled,
            "effective": self.best_effective if has_best else None,
            "checks": [[e, s if np.isfinite(s) else None] for e, s in self.checks],
            "settled_checks": [list(c) for c in self.settled]}))
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
        settled, effective = self._probe(model, score)
        self.settled = [c for c in self.settled if c[0] < epoch] + [(epoch, settled)]
        improved = math.isfinite(effective) and effective < self.best_effective
        if improved:
            self.best_model, self.best_score, self.best_epoch = model, score, epoch
            self.best_settled, self.best_effective = settled, effective
        self._save(weights=improved)
        return self.patience is not None and epoch - self.last_improvement() >= self.patience

    def _probe(self, model: Any, score: float) -> tuple[int, float]:
        """Settled basin probes of ``model`` and its effective score: ``score`` plus the share
        of settled probes times the worst score of their runs (``inf`` if one diverged)."""
        if not self.probes or not math.isfinite(score):
            return 0, score
        runs = probe_runs(model, self.validation, self.probes)
        settled = settled_mask(runs, self.validation)
        if not settled.any():
            return 0, score
        distance = SELECTION_METRICS[self.metric]
        worst = max(distance(self.validation, run) if np.all(np.isfinite(run)) else np.inf
                    for run in runs[settled])
        return int(settled.sum()), score + float(settled.mean()) * float(worst)

    def failure(self) -> str | None:
        """Why the selected model should not be trusted, or ``None``: no check ran stably; every
        checkpoint had a spurious attractor; or training ended in one for good (each of the
        last ``COLLAPSED_CHECKS`` checks had settled basin probes or a diverged validation run,
        so the model kept is an older one). Needs the probes (``None`` without them, unless
        nothing ran stably)."""
        if self.best_epoch is None:
            return "no checkpoint ran stably (every validation run diverged)"
        if not self.probes:
            return None
        if self.best_settled:
            return (f"every checkpoint has a spurious attractor ({self.best_settled} of "
                    f"{self.probes} basin probes of the selected one settle on a fixed point or "
                    f"a small cycle)")
        scores = dict(self.checks)
        tail = self.settled[-COLLAPSED_CHECKS:]
        if len(tail) == COLLAPSED_CHECKS and all(n > 0 or not math.isfinite(scores[e])
                                                 for e, n in tail):
            return (f"training ended on a spurious attractor: each of the last "
                    f"{COLLAPSED_CHECKS} checks has free runs that settle on a fixed point or a "
                    f"small cycle, so the model kept is from epoch {self.best_epoch}")
        return None

    def last_improvement(self) -> int:
        """Epoch of the lowest validation score so far, probes or not (0 if none is finite):
        patience asks whether training still improves, not whether the probes let it keep a
        model."""
        finite = [(s, e) for e, s in self.checks if math.isfinite(s)]
        return min(finite)[1] if finite else 0


def validation_tail(data: PreparedData, n: int = 20_000) -> np.ndarray:
    """The last ``min(n, 20 %)`` rows of the first training series."""
    first = data.train[0]
    return first[len(first) - min(n, len(first) // 5) :]
