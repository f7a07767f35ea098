"""Basin probes: free runs from many points of the data that find a spurious attractor.

A trained model can reproduce the data's attractor from most start points and still have a
second, spurious attractor with a basin of its own: a Lorenz-63 shPLRNN whose foci C± became
stable (the system's are only weakly unstable, real part +0.094 per time unit, so a small error
in the fit flips them). Best-model selection's three long validation runs start in the chaotic
attractor's basin by chance and miss it; a test run that starts in the other basin settles on
the focus (BENCHMARKS.md, issue 11, item 7: one of 15 Lorenz-63 seeds, test D_stsp 16 from two
of its five starts).

:func:`~attractor.dsr.evaluate.settled_probes` starts ``n`` free runs at evenly spaced rows of
a series and counts those whose last stretch has settled: its spread (the standard deviation of
each coordinate, averaged over coordinates) is below ``SETTLED_SPREAD`` times the smallest
spread of a stretch of the same length of the series itself, or it diverged. Comparing with the
series' own stretches makes the rule independent of the data's timescale: a stretch that is
short against the data's period has a small spread in the data too. Each probe runs as many
steps as the series has rows (at most ``MAX_PROBE_STEPS``), and its last ``PROBE_TAIL`` of
that is judged: a spurious attractor can capture runs only after a long chaotic transient.

On 30 saved Lorenz-63 models, 64 probes of 5 000 steps from the 20 000-row validation tail
found the two multistable ones (3 and 1 settled probes) and nothing in the 28 others (the
smallest spread ratio of any probe 0.85). A model picked by those short probes settled from 1
of its 5 test starts: from the validation tail 0, 0, 1 and 2 of its 64 probes settle within
5 000, 10 000, 20 000 and 40 000 steps (3, 6, 8 and 27 for the first multistable model), and
none of the 13 models without a spurious attractor has a settled probe at any of these lengths.
"""

from __future__ import annotations

import numpy as np

#: Probes an evaluation runs (selection runs them only when asked: ``--select-probes``).
BASIN_PROBES = 64
#: A probe's last stretch with less than this fraction of the data's smallest stretch spread has
#: settled on a fixed point or a small cycle.
SETTLED_SPREAD = 0.5
#: The part of each probe that is judged (its last rows).
PROBE_TAIL = 0.4
#: The longest probe (steps): as long as the test protocol's free runs of a 20 000-row series.
MAX_PROBE_STEPS = 25_000


def stretch_spread(x: np.ndarray) -> np.ndarray:
    """Spread of each stretch ``(K, L, N)``: coordinate standard deviations averaged, ``(K,)``."""
    return np.asarray(x, np.float64).std(axis=1).mean(axis=-1)


def reference_spread(series: np.ndarray, length: int) -> float:
    """The smallest spread of the non-overlapping ``length``-row stretches of ``series``."""
    k = len(series) // length
    stretches = np.asarray(series[: k * length], np.float64).reshape(k, length, -1)
    return float(stretch_spread(stretches).min())


def probe_lengths(n_rows: int) -> tuple[int, int]:
    """``(steps, tail)``: rows each probe runs (as many as the series has, at most
    ``MAX_PROBE_STEPS``) and the last rows of it that are judged."""
    steps = max(min(n_rows, MAX_PROBE_STEPS), 2)
    return steps, max(int(PROBE_TAIL * steps), 2)


def probe_starts(n_rows: int, n: int, context_length: int = 1) -> np.ndarray:
    """Rows (context ends) of ``n`` probes evenly spaced along a series of ``n_rows`` rows."""
    return np.linspace(context_length - 1, n_rows - 1, n).astype(int)


def settled_mask(runs: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Which probe runs ``(K, steps, N)`` end settled (their last ``tail`` rows, see
    :func:`probe_lengths`, spread less than ``SETTLED_SPREAD`` times the smallest spread of a
    stretch of ``series`` as long) or diverged, ``(K,)``."""
    series = np.asarray(series, np.float64)
    _, tail = probe_lengths(len(series))
    last = np.asarray(runs, np.float64)[:, -tail:]
    finite = np.all(np.isfinite(last), axis=(1, 2))
    spread = np.where(finite, stretch_spread(np.where(np.isfinite(last), last, 0.0)), 0.0)
    return spread < SETTLED_SPREAD * reference_spread(series, tail)


def count_settled(runs: np.ndarray, series: np.ndarray) -> int:
    """How many probe runs ``(K, steps, N)`` end settled or diverged (:func:`settled_mask`)."""
    return int(np.sum(settled_mask(runs, series)))
