"""Delay embedding of scalar or low-dimensional recordings (Takens 1981; Sauer, Yorke & Casdagli,
J. Stat. Phys. 65, 579, 1991).

A series ``x`` of shape ``(T, d)`` observed through fewer coordinates than the system has is
unfolded with ``m`` copies delayed by ``τ`` samples:

    ``y_i = (x_t, x_{t-τ}, ..., x_{t-(m-1)τ})``,  ``t = i + (m-1)τ``,  ``i = 0 .. T-(m-1)τ-1``,

shape ``(T - (m-1)τ, m·d)``. Row ``i`` belongs to original time index ``i + (m-1)τ`` (the first
``W = (m-1)τ`` rows have no full history and are dropped). Column ``k·d + j`` is coordinate ``j``
delayed by ``k·τ``, newest first: the first ``d`` columns are the series itself, ``x[W:]``.

Choosing the embedding (:func:`choose_embedding`), from the data when not given:

- ``τ``: the lag of :func:`~attractor.data.tau.estimate_forcing_interval`, the smallest of the
  autocorrelation's ``1/e`` decay, its first minimum and the first minimum of the delayed mutual
  information (Fraser & Swinney, Phys. Rev. A 33, 1134, 1986) — the classic delay heuristics,
  shared with the sparse-teacher-forcing interval. Refused when no criterion finds a lag below
  ``max_lag``;
- ``m``: the smallest ``m`` whose false-nearest-neighbour fraction is at most
  ``fnn_threshold`` (Kennel, Brown & Abarbanel, Phys. Rev. A 45, 3403, 1992), or, with
  ``method="cao"``, whose ``E1(m)`` is at least ``e1_threshold`` (Cao, Physica D 110, 43, 1997);
  see :mod:`attractor.data.embedding_dimension`. Refused when no ``m <= max_dim`` qualifies.

Standardisation commutes with the embedding: each delayed copy is a column of the same series, so
z-scoring the series with ``(μ, σ)`` and then embedding equals embedding and then z-scoring with
``(μ, σ)`` repeated ``m`` times (:meth:`DelayEmbedding.standardizer`). attractor standardises the
observed series (statistics of its ``d`` columns), then embeds; a model trained on embedded data
stores the repeated standardiser, so raw data are embedded first and standardised second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attractor.data.io import validate_series
from attractor.errors import InputError

#: ``m`` found by these methods (``given`` = set by the caller).
M_METHODS = ("given", "fnn", "cao")
#: ``τ`` found by these methods.
TAU_METHODS = ("given", "acf-mi")
_METHOD_NAMES = {"given": "given", "fnn": "false nearest neighbours", "cao": "Cao's E1",
                 "acf-mi": "autocorrelation / mutual information"}
#: ``m`` is the first with at most this fraction of false nearest neighbours. Set between what
#: the true dimension leaves under observation noise and what one dimension too few leaves on
#: clean data (Lorenz-63's x, 100 000 points, dt 0.01, seeds 0-2, measured with the defaults of
#: :mod:`~attractor.data.embedding_dimension`: m = 3 with 5 % noise 1.2-1.6 %; m = 2 clean
#: 4.6-4.9 %; Rössler's x: 1.0-1.2 % and 3.8-4.8 %).
FNN_THRESHOLD = 0.03
#: With ``method="cao"``, ``m`` is the first with ``E1(m)`` at least this (clean data: a sine
#: 0.88 at m = 2, Lorenz-63's x 0.89 at m = 3 and 0.27 at m = 2; noise keeps E1 below it longer).
E1_THRESHOLD = 0.85
#: Largest ``m`` searched, and largest lag searched for ``τ``.
MAX_DIM = 10
MAX_LAG = 100


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int, or an InputError naming ``name`` unless it is an integer ``>= 1``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def as_trajectories(x: Any, name: str = "x") -> list[np.ndarray]:
    """One series or a list/tuple of arrays (several trajectories,
    :func:`~attractor.data.dataset.is_trajectory_list`) as validated ``(T, d)`` float64 arrays
    of equal ``d``; messages call them ``name`` (``name[i]``)."""
    from attractor.data.dataset import TimeSeriesDataset, is_trajectory_list

    if is_trajectory_list(x):
        if not x:
            raise InputError(f"{name}: empty list, expected at least one series")
        names = [f"{name}[{i}]" for i in range(len(x))] if len(x) > 1 else [name]
        return list(TimeSeriesDataset.from_arrays(list(x), names=names).series)
    return [validate_series(x, name=name, min_rows=2)]


def _window_error(name: str, rows: int, m: int, tau: int, min_rows: int) -> InputError:
    window = (m - 1) * tau
    largest = (rows - min_rows) // tau + 1
    fits = f"at most m={largest} fits with tau={tau}" if largest >= 1 else (
        f"no m fits with tau={tau}")
    return InputError(
        f"{name}: {rows} rows are too few for a delay embedding with m={m}, tau={tau}: its "
        f"window (m-1)*tau = {window} rows leaves {max(rows - window, 0)}, fewer than {min_rows}; "
        f"{fits}"
    )


def delay_embed(x: Any, m: int, tau: int, *, name: str = "x", min_rows: int = 1) -> np.ndarray:
    """Delay coordinates of ``x`` ``(T,)`` or ``(T, d)``: shape ``(T - (m-1)·tau, m·d)``, float64.

    Row ``i`` is time ``i + (m-1)·tau``; column ``k·d + j`` is ``x[t - k·tau, j]`` (module
    docstring). ``m = 1`` returns the series itself.

    Raises:
        InputError: invalid ``x`` (NaN, ragged, ...), ``m`` or ``tau`` not a positive integer,
            or fewer than ``min_rows`` rows left after the window (the message says which ``m``
            would fit).
    """
    return _embed(validate_series(x, name=name, min_rows=1), positive_int(m, "m"),
                  positive_int(tau, "tau"), name, min_rows)


def _embed(x: np.ndarray, m: int, tau: int, name: str, min_rows: int) -> np.ndarray:
    """:func:`delay_embed` of a validated ``(T, d)`` array."""
    rows, window, min_rows = x.shape[0], (m - 1) * tau, max(int(min_rows), 1)
    if rows - window < min_rows:
        raise _window_error(name, rows, m, tau, min_rows)
    n = rows - window
    return np.concatenate([x[window - k * tau : window - k * tau + n] for k in range(m)], axis=1)


@dataclass(frozen=True)
class DelayEmbedding:
    """A delay embedding: ``m`` copies of a ``input_dim``-column series delayed by ``tau``.

    Attributes:
        m: number of delayed copies (``1`` = the series itself).
        tau: delay in samples.
        input_dim: columns of the series it applies to (the model sees ``m * input_dim``).
        m_method: how ``m`` was found (:data:`M_METHODS`).
        tau_method: how ``tau`` was found (:data:`TAU_METHODS`).
        scores: the curve ``m`` was read from, for ``m = 1, 2, ...`` (false-neighbour fractions
            or Cao's ``E1``); empty when ``m`` was given.
    """

    m: int
    tau: int
    input_dim: int
    m_method: str = "given"
    tau_method: str = "given"
    scores: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in ("m", "tau", "input_dim"):
            positive_int(getattr(self, name), f"embedding {name}")
        if self.m_method not in M_METHODS:
            raise InputError(f"embedding m_method must be one of {M_METHODS}, got "
                             f"{self.m_method!r}")
        if self.tau_method not in TAU_METHODS:
            raise InputError(f"embedding tau_method must be one of {TAU_METHODS}, got "
                             f"{self.tau_method!r}")
        if not all(isinstance(s, float) and math.isfinite(s) for s in self.scores):
            raise InputError("embedding scores must be finite floats")

    @property
    def window(self) -> int:
        """Rows lost at the start: ``(m - 1) * tau``."""
        return (self.m - 1) * self.tau

    @property
    def output_dim(self) -> int:
        """Columns of the embedded series: ``m * input_dim``."""
        return self.m * self.input_dim

    def apply(self, x: Any, *, name: str = "x", min_rows: int = 1) -> np.ndarray:
        """:func:`delay_embed` of ``x``, which must have ``input_dim`` columns."""
        x = validate_series(x, name=name, min_rows=1)
        if x.shape[1] != self.input_dim:
            raise InputError(f"{name}: {x.shape[1]} columns, but the delay embedding "
                             f"(m={self.m}, tau={self.tau}) applies to {self.input_dim}-column "
                             "data")
        return _embed(x, self.m, self.tau, name, min_rows)

    def standardizer(self, observed: Any) -> Any:
        """The standardiser of the embedded series given that of the observed one: mean and std
        repeated ``m`` times (module docstring)."""
        from attractor.data.standardize import Standardizer

        if observed.dim != self.input_dim:
            raise InputError(f"standardizer: {observed.dim} columns, the embedding applies to "
                             f"{self.input_dim}")
        d = observed.to_dict()
        return Standardizer.from_dict({"mean": d["mean"] * self.m, "std": d["std"] * self.m})

    def describe(self) -> str:
        """One line, e.g. ``m=3 (false nearest neighbours 0.99, 0.25, 0.016), tau=17
        (autocorrelation / mutual information)``."""
        curve = "".join(f"{', ' if i else ' '}{v:.2g}" for i, v in enumerate(self.scores))
        return (f"m={self.m} ({_METHOD_NAMES[self.m_method]}{curve}), "
                f"tau={self.tau} ({_METHOD_NAMES[self.tau_method]})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"kind": "delay_embedding", "m": self.m, "tau": self.tau,
                "input_dim": self.input_dim, "m_method": self.m_method,
                "tau_method": self.tau_method, "scores": list(self.scores)}

    @classmethod
    def from_dict(cls, data: Any) -> DelayEmbedding:
        """Rebuild from :meth:`to_dict` output (e.g. read back from ``config.json``).

        Raises:
            InputError: not a mapping, another kind, missing or invalid fields.
        """
        if not isinstance(data, dict) or data.get("kind") != "delay_embedding":
            raise InputError("embedding: expected an object with kind 'delay_embedding'")
        missing = [k for k in ("m", "tau", "input_dim") if k not in data]
        if missing:
            raise InputError(f"embedding: missing key(s) {', '.join(missing)}")
        scores = data.get("scores", [])
        if not isinstance(scores, list) or not all(
            isinstance(s, int | float) and not isinstance(s, bool) for s in scores
        ):
            raise InputError("embedding: scores must be a list of numbers")
        return cls(m=data["m"], tau=data["tau"], input_dim=data["input_dim"],
                   m_method=data.get("m_method", "given"),
                   tau_method=data.get("tau_method", "given"),
                   scores=tuple(float(s) for s in scores))


def _choose_tau(longest: np.ndarray, max_lag: int) -> int:
    from attractor.data.tau import forcing_interval_estimates

    found = forcing_interval_estimates(longest, max_lag=max_lag)
    candidates = [c for c in (*found.acf_decay, *found.acf_minimum, *found.mi_minimum)
                  if c is not None]
    if not candidates:
        searched = min(max_lag, len(longest) // 2)
        raise InputError(f"no delay found: the autocorrelation and the mutual information do "
                         f"not decay within {searched} lags")
    return found.tau


def _choose_m(series: list[np.ndarray], tau: int, max_dim: int, method: str,
              threshold: float, limit: str) -> tuple[int, tuple[float, ...]]:
    from attractor.data.embedding_dimension import cao, false_nearest_neighbours

    if method == "fnn":
        values = false_nearest_neighbours(series, tau, max_dim, stop_at=threshold)
        found = values[-1] <= threshold
    else:
        values = cao(series, tau, max_dim, stop_at=threshold).e1
        found = values[-1] >= threshold
    curve = tuple(round(float(v), 6) for v in values)
    if found:
        return len(curve), curve
    what = "false-neighbour fraction" if method == "fnn" else "Cao's E1"
    raise InputError(f"no embedding dimension m <= {max_dim}{limit} brings the {what} to "
                     f"{threshold:g} (last {curve[-1]:.3g}); the series may be noisy, "
                     "high-dimensional or too short")


def choose_embedding(
    x: Any | Sequence[Any],
    *,
    m: int | None = None,
    tau: int | None = None,
    method: str = "fnn",
    max_dim: int = MAX_DIM,
    max_lag: int = MAX_LAG,
    fnn_threshold: float = FNN_THRESHOLD,
    e1_threshold: float = E1_THRESHOLD,
    min_rows: int = 100,
    name: str = "x",
) -> DelayEmbedding:
    """The delay embedding of ``x`` (one series or a list of trajectories, ``(T, d)`` each):
    ``m`` and ``tau`` as given, the others estimated from ``x`` (module docstring).

    ``tau`` is estimated on the longest trajectory; ``m`` on all of them pooled, searching
    ``m = 1 ..`` up to ``max_dim`` or as far as ``min_rows`` rows remain after the window.
    Messages call the data ``name``.

    Raises:
        InputError: invalid series or settings; an estimate outside its range (no decorrelation
            lag within ``max_lag``, no ``m <= max_dim``); too few rows for the embedding.
    """
    series = as_trajectories(x, name)
    if method not in ("fnn", "cao"):
        raise InputError(f"method must be 'fnn' or 'cao', got {method!r}")
    max_dim, max_lag = positive_int(max_dim, "max_dim"), positive_int(max_lag, "max_lag")
    longest = max(series, key=len)
    tau_method = "given" if tau is not None else "acf-mi"
    tau = positive_int(tau, "tau") if tau is not None else _choose_tau(longest, max_lag)
    if m is not None:
        m = positive_int(m, "m")
        if len(longest) - (m - 1) * tau < min_rows:
            raise _window_error(name, len(longest), m, tau, min_rows)
        return DelayEmbedding(m, tau, longest.shape[1], tau_method=tau_method)
    # the curves read m + 1 (Cao: m + 2) delays of the longest series
    extra = 1 if method == "fnn" else 2
    searchable = min(max_dim, (len(longest) - min_rows) // tau + 1 - extra)
    if searchable < 1:
        raise _window_error(name, len(longest), 1 + extra, tau, min_rows)
    threshold = fnn_threshold if method == "fnn" else e1_threshold
    limit = "" if searchable == max_dim else f" (all that {len(longest)} rows allow)"
    m, scores = _choose_m(series, tau, searchable, method, threshold, limit)
    return DelayEmbedding(m, tau, longest.shape[1], m_method=method, tau_method=tau_method,
                          scores=scores)


__all__ = [
    "DelayEmbedding",
    "choose_embedding",
    "delay_embed",
]
