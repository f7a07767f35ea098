"""Say when a run failed: collapsed, diverged or left the data, and why a metric is missing.

A trained model can score a number for every metric and still be useless: its free run settles
on a fixed point or a small cycle while the data are chaotic, its variance is a fraction of the
data's, or its orbits leave the region the data live in. :func:`diagnose` compares the protocol's
generated runs with the test series (both standardised) and returns :class:`RunWarning` s with
the likely cause and the flags to try; ``attractor train`` and ``eval`` print them and
``metrics.json`` keeps them under ``"warnings"``.

The checks (thresholds are the module constants below):

- **diverged**: a generated run has NaN / inf values, or the Lyapunov estimate's long run does
  (``lambda_max`` is NaN);
- **left the data range**: a generated run reaches ``RANGE_FACTOR`` times the largest absolute
  value of the test series (in standardised units);
- **collapsed variance**: the generated variance, averaged over dimensions, is below
  ``VARIANCE_RATIO`` times the data's;
- **settled away from the data**: a generated run's time average lies more than ``MEAN_SHIFT``
  data standard deviations from the data's mean in some coordinate (a spurious attractor inside
  the data's range: a Lorenz-63 model stuck on one wing, or an ECG model that drops to a small
  set below the baseline after a few beats);
- **covers only part of the data**: a generated run never enters cells of a grid over the data
  (``COVERAGE_BINS`` per axis, on the data's first ``COVERAGE_AXES`` principal axes) that hold
  more than ``UNCOVERED_MASS`` of the data's points — a lobe, a mirror image or a region of the
  attractor is missing (a Moore–Spiegel model that keeps one of the flow's two orientations: 39–48 %
  of the data unvisited; faithful Lorenz-63 and Lorenz-96 models leave 0–0.2 %). Reported only
  for runs that none of the checks above explains;
- **spurious attractor**: some, not all, of the basin probes (free runs from many points
  of the test series, :mod:`attractor.dsr.probes`) settle on a fixed point or a small cycle —
  a second attractor that the protocol's few starts may miss;
- **fixed point / cycle while the data are chaotic**: ``lambda_max <= LAMBDA_TOLERANCE`` (per time
  unit) while the data's spectrum is broad (normalised spectral entropy of a Welch estimate above
  ``BROAD_SPECTRUM``; a sine gives ~0.14, Lorenz-63 0.46, Rössler 0.37, Thomas 0.50).

:func:`null_reasons` adds, for every metric that is ``None``, a ``"<name>_reason"`` entry next to
it, so a missing value is never a bare ``null``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.signal import welch

#: A generated run beyond this multiple of the data's largest absolute (standardised) value has
#: left the region the data live in.
RANGE_FACTOR = 3.0
#: Generated variance (mean over dimensions) below this fraction of the data's: collapsed.
VARIANCE_RATIO = 0.1
#: A run whose mean is more than this many data standard deviations from the data's mean (in
#: some coordinate) has settled away from the data.
MEAN_SHIFT = 1.0
#: Grid cells per axis of the coverage check, and how many principal axes of the data it uses.
COVERAGE_BINS = 8
COVERAGE_AXES = 3
#: A run that never visits cells holding more than this share of the data covers only part of it.
UNCOVERED_MASS = 0.1
#: Normalised spectral entropy above which the data count as broadband (chaotic-looking).
BROAD_SPECTRUM = 0.3
#: ``lambda_max`` (per time unit) at or below this counts as non-chaotic.
LAMBDA_TOLERANCE = 0.0
#: Welch segment length of the spectral entropy (shorter series use their own length).
WELCH_SEGMENT = 1024

_COLLAPSE_FLAGS = ("--epochs (train longer)", "--forcing agtf or a smaller --alpha",
                   "--hidden (a wider model)", "--seed (another initialisation)")
_SPURIOUS_FLAGS = ("--select-probes 64 --retries 1 (select against spurious attractors; train "
                   "again if every checkpoint has one)",
                   "--batch-noise auto (train against perturbations)",
                   "--select-every (validate more often)", "--hidden (a wider model)",
                   "--seed (another initialisation)")
_DIVERGENCE_FLAGS = ("--set bounded=true (clipped shPLRNN / dendPLRNN: orbits cannot diverge)",
                     "--grad-clip", "--lr (smaller)", "--select-every (keep a validated model)",
                     "--batch-noise")


@dataclasses.dataclass(frozen=True)
class RunWarning:
    """One diagnosed failure of a run."""

    code: str
    message: str
    cause: str
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "cause": self.cause,
                "try": list(self.flags)}

    def format(self) -> str:
        return (f"warning: {self.message} Likely cause: {self.cause}. "
                f"Try: {', '.join(self.flags)}.")


def spectral_entropy(x: np.ndarray) -> float:
    """Normalised Shannon entropy of the Welch power spectrum (DC dropped), mean over columns,
    in [0, 1]: near 0 for a pure tone, 1 for white noise."""
    x = np.asarray(x, np.float64)
    segment = min(WELCH_SEGMENT, x.shape[0])
    values = []
    for column in x.T:
        _, power = welch(column - column.mean(), nperseg=segment)
        power = power[1:]
        total = power.sum()
        if power.size < 2 or not total > 0:
            continue
        p = power / total
        values.append(float(-(p * np.log(np.where(p > 0, p, 1.0))).sum() / np.log(p.size)))
    return float(np.mean(values)) if values else 0.0


def uncovered_mass(x: np.ndarray, run: np.ndarray, bins: int = COVERAGE_BINS) -> float:
    """Share of the points of ``x`` ``(T, N)`` that lie in grid cells ``run`` never visits.

    The grid has ``bins`` cells per axis over the range of ``x``, on its coordinates (``N <=
    COVERAGE_AXES``) or on its first ``COVERAGE_AXES`` principal axes (larger ``N``; both series
    are projected on the axes of ``x``). 0 when the run enters every cell the data occupy, 1 when
    it never enters the data's range.
    """
    return coverage_scorer(x, bins)(run)


def coverage_scorer(x: np.ndarray, bins: int = COVERAGE_BINS) -> Callable[[np.ndarray], float]:
    """:func:`uncovered_mass` against ``x`` as a function of the run, with the data's axes,
    grid and cells computed once for all the runs scored."""
    x = np.asarray(x, np.float64)
    centre, axes = np.zeros(x.shape[1]), np.eye(x.shape[1])
    if x.shape[1] > COVERAGE_AXES:
        centre = x.mean(axis=0)
        stride = max(1, len(x) // 20_000)
        axes = np.linalg.svd(x[::stride] - centre, full_matrices=False)[2][:COVERAGE_AXES].T
    data = (x - centre) @ axes
    low, high = data.min(axis=0), data.max(axis=0)
    width = np.where(high > low, high - low, 1.0)
    shape = (bins,) * data.shape[1]

    def cells(points: np.ndarray) -> np.ndarray:
        index = np.clip(((points - low) / width * bins).astype(np.int64), 0, bins - 1)
        return np.ravel_multi_index(tuple(index.T), shape)

    data_cells = cells(data)

    def score(run: np.ndarray) -> float:
        points = (np.asarray(run, np.float64) - centre) @ axes
        inside = np.all((points >= low) & (points <= high), axis=1)
        visited = np.zeros(bins ** data.shape[1], bool)
        visited[cells(points[inside])] = True
        return float(np.mean(~visited[data_cells]))

    return score


def diagnose(
    x_test: np.ndarray, generated: Sequence[np.ndarray], lambda_max: float | None, *,
    settled: tuple[int, int] = (0, 0),
) -> list[RunWarning]:
    """Warnings for the generated protocol runs ``(T, N)`` against the test series ``(T, N)``
    (both standardised), the model's largest Lyapunov exponent (per time unit) and ``settled``:
    ``(k, n)``, ``k`` of ``n`` basin probes settled (:mod:`attractor.dsr.probes`)."""
    x = np.asarray(x_test, np.float64)
    runs = [np.asarray(r, np.float64) for r in generated]
    warnings: list[RunWarning] = []
    finite = [r for r in runs if np.all(np.isfinite(r))]
    if len(finite) < len(runs):
        warnings.append(RunWarning(
            "diverged",
            f"{len(runs) - len(finite)} of {len(runs)} generated runs diverged (NaN/inf).",
            "the model's closed loop is unstable (exploding gradients, too weak forcing or a "
            "checkpoint selected without validation)",
            _DIVERGENCE_FLAGS,
        ))
    if not finite:
        return warnings
    data_max = float(np.max(np.abs(x)))
    run_max = max(float(np.max(np.abs(r))) for r in finite)
    if run_max > RANGE_FACTOR * data_max:
        warnings.append(RunWarning(
            "left_data_range",
            f"generated orbits reach {run_max:.3g} (standardised units), {run_max / data_max:.1f}"
            f"x the data's largest value {data_max:.3g}.",
            "the model has a second, unbounded or spurious attractor outside the data",
            _DIVERGENCE_FLAGS,
        ))
    centre, spread = x.mean(axis=0), x.std(axis=0)
    shifts = [float(np.max(np.abs(r.mean(axis=0) - centre) / spread)) for r in finite]
    away = [d for d in shifts if d > MEAN_SHIFT]
    if away:
        warnings.append(RunWarning(
            "settled_off_data",
            f"{len(away)} of {len(finite)} generated runs settle away from the data: their mean "
            f"lies up to {max(away):.2g} data standard deviations from the data's.",
            "the model has a spurious attractor that the data do not visit, reached from "
            "those start points",
            _SPURIOUS_FLAGS,
        ))
    ratio = float(np.median([np.mean(r.var(axis=0)) for r in finite]) / np.mean(x.var(axis=0)))
    if ratio < VARIANCE_RATIO:
        warnings.append(RunWarning(
            "collapsed_variance",
            f"the generated variance is {ratio:.2g} of the data's.",
            "the model collapsed onto a fixed point or a small cycle",
            _COLLAPSE_FLAGS,
        ))
    else:
        unexplained = [r for r, shift in zip(finite, shifts, strict=True)
                       if shift <= MEAN_SHIFT and np.max(np.abs(r)) <= RANGE_FACTOR * data_max]
        uncovered = coverage_scorer(x)
        missed = [u for u in map(uncovered, unexplained) if u > UNCOVERED_MASS]
        if missed:
            warnings.append(RunWarning(
                "partial_coverage",
                f"{len(missed)} of {len(finite)} generated runs cover only part of the data: "
                f"they never enter regions that hold up to {max(missed):.0%} of the data's "
                f"points.",
                "the model's attractor lacks part of the data's (a lobe, a mirror image, a "
                "region the data visit), or is a different set inside the data's range",
                _SPURIOUS_FLAGS,
            ))
    if lambda_max is not None and np.isnan(lambda_max):
        warnings.append(RunWarning(
            "diverged_long_run",
            "the model's orbit from the test start diverged (NaN/inf) during the Lyapunov "
            "estimate, which runs far longer than the protocol runs.",
            "the model has an unbounded direction that a long free run finds",
            _DIVERGENCE_FLAGS,
        ))
    if 0 < settled[0] < settled[1]:  # all settled: a collapse, which the checks above report
        warnings.append(RunWarning(
            "spurious_attractor",
            f"{settled[0]} of {settled[1]} free runs from points spread along the test data "
            f"settle on a fixed point or a small cycle; the others stay on the data's "
            f"attractor.",
            "the model is multistable: beside the data's attractor it has a spurious one "
            "(e.g. a fixed point that should be unstable but became stable), and runs started "
            "in its basin end there",
            _SPURIOUS_FLAGS,
        ))
    breadth = spectral_entropy(x)
    non_chaotic = lambda_max is not None and lambda_max <= LAMBDA_TOLERANCE  # -inf included
    if non_chaotic and breadth > BROAD_SPECTRUM:
        kind = "a fixed point" if ratio < 1e-6 else "a fixed point or a cycle"
        warnings.append(RunWarning(
            "not_chaotic",
            f"the model's lambda_max is {lambda_max:.3g} (its attractor is {kind}), but the "
            f"data's spectrum is broad (spectral entropy {breadth:.2f} > {BROAD_SPECTRUM}).",
            "training stopped before the model learned the chaotic dynamics, or the forcing "
            "was too strong for the model to run freely",
            _COLLAPSE_FLAGS,
        ))
    return warnings


def null_reasons(metrics: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    """``metrics`` with a ``"<name>_reason"`` next to every ``None`` value (and every list with
    ``None`` entries): the reason given in ``reasons``, else a generic one."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        out[key] = value
        missing = value is None or (isinstance(value, list) and any(v is None for v in value))
        if missing and not key.endswith("_reason") and f"{key}_reason" not in metrics:
            out[f"{key}_reason"] = reasons.get(key, "could not be computed (non-finite value)")
    return out
