"""Dictionaries of observables for EDMD / ResDMD: polynomial, RBF, random Fourier, kernel, delays.

A dictionary is fitted to the sample points ``x`` ``(M, D)`` (data-dependent ones pick centres or
frequencies there) and then evaluated, ``psi(x) -> (M, N)``, in float64 NumPy. All are real.

- :class:`Polynomial`: the constant, ``x`` and the unique monomials up to ``order``
  (:func:`attractor.models.features.polynomial_features`, shared with NG-RC and the EDMD model).
- :class:`RBF`: the constant and Gaussian bumps ``exp(−‖x − c_j‖² / (2 σ²))`` at ``n_centers``
  points drawn from the data; ``σ`` defaults to the median distance between centres (Williams,
  Kevrekidis & Rowley, J. Nonlinear Sci. 25:1307, 2015, used RBF dictionaries).
- :class:`RandomFourier`: the constant and ``√2 cos(x ω_j + b_j)``, ``ω_j ~ N(0, σ^{-2} I)``,
  ``b_j ~ U(0, 2π)`` (Rahimi & Recht, NeurIPS 2007), a finite-rank stand-in for a Gaussian kernel.
- :class:`KernelFeatures`: the leading ``rank`` kernel principal components of a Gaussian kernel on
  (a subsample of) the data, ``ψ_j(x) = k(x, X') q_j / s_j``. Their span is the span of the kernel
  EDMD eigenfunctions (Williams, Rowley & Kevrekidis, J. Comput. Dyn. 2:247, 2015), which is how
  Colbrook & Townsend (CPAM 2023, §4) choose dictionaries: kernel EDMD on one data set, ResDMD on
  another.
- :class:`TimeDelay`: any of the above applied to delay vectors ``[x_t, x_{t−s}, …]``
  (Arbabi & Mezić, SIAM J. Appl. Dyn. Syst. 16:2096, 2017); its :meth:`TimeDelay.pairs` builds the
  snapshot pairs from trajectories.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np

from attractor.errors import InputError
from attractor.models.features import delay_vector, polynomial_features, sliding_windows


def _as_points(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
        raise InputError(f"dictionary: expected finite points of shape (M, D), got {x.shape}")
    return x


def _sq_dist(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(
        np.sum(x**2, axis=1)[:, None] + np.sum(c**2, axis=1)[None] - 2.0 * x @ c.T, 0.0
    )


def gaussian_kernel(x: np.ndarray, c: np.ndarray, width: float) -> np.ndarray:
    """``exp(−‖x_i − c_j‖² / (2 width²))`` ``(len(x), len(c))``."""
    return np.exp(-_sq_dist(x, c) / (2.0 * width**2))


def median_distance(x: np.ndarray, *, max_points: int = 1000, seed: int = 0) -> float:
    """Median pairwise distance of (a subsample of) the rows of ``x`` (the bandwidth heuristic)."""
    rng = np.random.default_rng(seed)
    pts = x[rng.permutation(len(x))[:max_points]]
    d = np.sqrt(_sq_dist(pts, pts))[np.triu_indices(len(pts), 1)]
    return float(np.median(d)) if d.size and np.median(d) > 0 else 1.0


class Dictionary(abc.ABC):
    """``fit(x)`` (returns self), then ``psi = dictionary(x)`` ``(M, N)``."""

    def fit(self, x: Any) -> Dictionary:
        return self

    @abc.abstractmethod
    def __call__(self, x: Any) -> np.ndarray:
        """The dictionary evaluated at the rows of ``x``."""

    def describe(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}
        return {"dictionary": type(self).__name__, **{k: v for k, v in fields.items()
                                                     if not k.endswith("_")}}


@dataclasses.dataclass
class Polynomial(Dictionary):
    """Constant, linear and monomials up to ``order`` (``constant=False`` drops the constant)."""

    order: int = 2
    constant: bool = True

    def __call__(self, x: Any) -> np.ndarray:
        return polynomial_features(_as_points(x), self.order, self.constant, xp=np)


@dataclasses.dataclass
class RBF(Dictionary):
    """Constant plus ``n_centers`` Gaussian bumps at data points (``width``: ``σ``, or None for
    the median distance between centres)."""

    n_centers: int = 100
    width: float | None = None
    seed: int = 0
    centers_: np.ndarray | None = None
    width_: float = 1.0

    def fit(self, x: Any) -> RBF:
        x = _as_points(x)
        rng = np.random.default_rng(self.seed)
        self.centers_ = x[rng.choice(len(x), min(self.n_centers, len(x)), replace=False)]
        self.width_ = float(self.width) if self.width else median_distance(self.centers_)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        if self.centers_ is None:
            raise InputError("RBF dictionary: call fit(x) first")
        x = _as_points(x)
        bumps = gaussian_kernel(x, self.centers_, self.width_)
        return np.concatenate([np.ones((len(x), 1)), bumps], axis=1)


@dataclasses.dataclass
class RandomFourier(Dictionary):
    """Constant plus ``n_features`` random Fourier features of bandwidth ``width`` (None: the
    median pairwise distance of the data)."""

    n_features: int = 100
    width: float | None = None
    seed: int = 0
    omega_: np.ndarray | None = None
    phase_: np.ndarray | None = None

    def fit(self, x: Any) -> RandomFourier:
        x = _as_points(x)
        rng = np.random.default_rng(self.seed)
        width = float(self.width) if self.width else median_distance(x, seed=self.seed)
        self.omega_ = rng.standard_normal((x.shape[1], self.n_features)) / width
        self.phase_ = rng.uniform(0.0, 2.0 * np.pi, self.n_features)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        if self.omega_ is None:
            raise InputError("RandomFourier dictionary: call fit(x) first")
        x = _as_points(x)
        feats = np.sqrt(2.0) * np.cos(x @ self.omega_ + self.phase_)
        return np.concatenate([np.ones((len(x), 1)), feats], axis=1)


@dataclasses.dataclass
class KernelFeatures(Dictionary):
    """The ``rank`` leading kernel principal components of a Gaussian kernel of width ``width``
    (None: median distance) on ``n_fit`` data points (see the module docstring)."""

    rank: int = 50
    width: float | None = None
    n_fit: int = 500
    seed: int = 0
    points_: np.ndarray | None = None
    proj_: np.ndarray | None = None
    width_: float = 1.0

    def fit(self, x: Any) -> KernelFeatures:
        x = _as_points(x)
        rng = np.random.default_rng(self.seed)
        pts = x[rng.choice(len(x), min(self.n_fit, len(x)), replace=False)]
        self.width_ = float(self.width) if self.width else median_distance(pts)
        gram = gaussian_kernel(pts, pts, self.width_)
        s2, q = np.linalg.eigh(gram)  # gram = Q diag(s2) Q^T, ascending
        keep = np.argsort(s2)[::-1][: self.rank]
        keep = keep[s2[keep] > 1e-12 * s2.max()]
        self.points_ = pts
        self.proj_ = q[:, keep] / np.sqrt(s2[keep])
        return self

    def __call__(self, x: Any) -> np.ndarray:
        if self.points_ is None:
            raise InputError("KernelFeatures dictionary: call fit(x) first")
        return gaussian_kernel(_as_points(x), self.points_, self.width_) @ self.proj_


@dataclasses.dataclass
class TimeDelay(Dictionary):
    """``base`` applied to delay vectors of ``delays`` rows, ``stride`` steps apart."""

    base: Dictionary = dataclasses.field(default_factory=Polynomial)
    delays: int = 2
    stride: int = 1

    def pairs(self, trajectories: Any) -> tuple[np.ndarray, np.ndarray]:
        """Snapshot pairs ``(X, Y)`` of delay vectors of one ``(T, D)`` or several trajectories."""
        if self.delays < 1 or self.stride < 1:
            raise InputError("TimeDelay: delays and stride must be >= 1")
        trajs = [trajectories] if isinstance(trajectories, np.ndarray) else list(trajectories)
        length = (self.delays - 1) * self.stride + 1
        xs, ys = [], []
        for traj in trajs:
            traj = _as_points(traj)
            if len(traj) < length + 1:
                raise InputError(f"TimeDelay: a trajectory of {len(traj)} rows is too short")
            emb = delay_vector(sliding_windows(traj, length), self.delays, self.stride, xp=np)
            xs.append(emb[:-1])
            ys.append(emb[1:])
        return np.concatenate(xs), np.concatenate(ys)

    def fit(self, x: Any) -> TimeDelay:
        self.base.fit(x)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        return self.base(x)

    def describe(self) -> dict[str, Any]:
        return {"dictionary": "TimeDelay", "delays": self.delays, "stride": self.stride,
                "base": self.base.describe()}


def snapshot_pairs(trajectories: Any, dictionary: Dictionary | None = None) -> tuple:
    """``(X, Y)`` pairs of consecutive rows of one ``(T, D)`` or several trajectories (through
    :meth:`TimeDelay.pairs` for a delay dictionary)."""
    if isinstance(dictionary, TimeDelay):
        return dictionary.pairs(trajectories)
    return TimeDelay(delays=1).pairs(trajectories)


DICTIONARIES = {"polynomial": Polynomial, "rbf": RBF, "fourier": RandomFourier,
                "kernel": KernelFeatures}

__all__ = [
    "DICTIONARIES",
    "RBF",
    "Dictionary",
    "KernelFeatures",
    "Polynomial",
    "RandomFourier",
    "TimeDelay",
    "gaussian_kernel",
    "median_distance",
    "snapshot_pairs",
]
