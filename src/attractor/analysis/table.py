"""The result table of fixed points and cycles: one row per point, exported to CSV and JSON.

A fixed point is a cycle of period 1; a ``k``-cycle contributes ``k`` rows that share a
``cycle`` index and the eigenvalues of the cycle's monodromy matrix ``J(z_k) ⋯ J(z_1)`` (the
Jacobian of ``F^k``). Columns:

==============================  ==================================================================
``latent``                      the flat state ``z*`` (``(D,)``; the latent vector of a PLRNN)
``observation_standardized``    ``observe(z*)`` in the standardised units the model was trained in
``observation``                 the same in the data's original units (``None`` without a
                                standardisation)
``speed``                       ``q(z*)`` (:mod:`attractor.analysis.fixed_points`; 0 for exact
                                solutions)
``eigenvalues``                 of the Jacobian (of ``F^k`` for a cycle), sorted by modulus for maps
                                and by real part for flows, descending
``stable``, ``n_unstable``      maps: all ``|λ| < 1``, count of ``|λ| > 1``; flows: ``Re λ < 0``,
                                ``Re λ > 0``
``region``                      the piecewise-linear region code as a string of 0/1 (``None`` for
                                smooth models)
``period``, ``cycle``           the cycle's period and index (fixed points: period 1)
``fixed``                       the speed is below the fixed-point tolerance (else a slow point)
==============================  ==================================================================

In JSON an eigenvalue is a pair ``[re, im]``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np

#: Eigenvalue moduli (maps) or real parts (flows) within this of the boundary count as marginal:
#: neither stable nor unstable directions (``n_unstable`` counts only clearly unstable ones).
MARGINAL_TOL = 1e-9


def eigen_summary(jac: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Eigenvalues and eigenvectors of ``jac`` sorted (maps: by ``|λ|``; flows: by ``Re λ``,
    descending), stability and the number of unstable directions."""
    vals, vecs = np.linalg.eig(np.asarray(jac, dtype=np.float64))
    key = np.abs(vals) if kind == "map" else vals.real
    order = np.argsort(-key, kind="stable")
    vals, vecs, key = vals[order], vecs[:, order], key[order]
    edge = 1.0 if kind == "map" else 0.0
    n_unstable = int(np.sum(key > edge + MARGINAL_TOL))
    stable = bool(key.size == 0 or key[0] < edge)
    return vals, vecs, stable, n_unstable


@dataclasses.dataclass
class PointTable:
    """Fixed points and cycle points; see the module docstring for the columns.

    Array columns have one leading row axis of length ``len(table)``; ``eigenvectors[i]`` holds
    the eigenvectors of row ``i`` as columns, in the order of ``eigenvalues[i]``.
    """

    kind: str  # "map" or "flow"
    latent: np.ndarray  # (K, D)
    observation_standardized: np.ndarray  # (K, N)
    observation: np.ndarray | None  # (K, N)
    speed: np.ndarray  # (K,)
    eigenvalues: np.ndarray  # (K, D) complex
    eigenvectors: np.ndarray  # (K, D, D) complex
    stable: np.ndarray  # (K,) bool
    n_unstable: np.ndarray  # (K,) int
    region: list[str] | None
    period: np.ndarray  # (K,) int
    cycle: np.ndarray  # (K,) int
    fixed: np.ndarray  # (K,) bool
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.latent.shape[0])

    @property
    def n_cycles(self) -> int:
        return int(np.unique(self.cycle).size)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per row."""
        out = []
        for i in range(len(self)):
            out.append(
                {
                    "latent": self.latent[i].tolist(),
                    "observation": None
                    if self.observation is None
                    else self.observation[i].tolist(),
                    "observation_standardized": self.observation_standardized[i].tolist(),
                    "speed": float(self.speed[i]),
                    "eigenvalues": [[float(v.real), float(v.imag)] for v in self.eigenvalues[i]],
                    "stable": bool(self.stable[i]),
                    "n_unstable": int(self.n_unstable[i]),
                    "region": None if self.region is None else self.region[i],
                    "period": int(self.period[i]),
                    "cycle": int(self.cycle[i]),
                    "fixed": bool(self.fixed[i]),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "settings", "points": records()}``."""
        return {"kind": self.kind, "settings": dict(self.settings), "points": self.records()}

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text (and the file ``path`` if given): one row per point, vectors spread over
        numbered columns (``latent_0``, ``eig_re_0``, ``eig_im_0``, ...)."""
        d = self.latent.shape[1] if len(self) else 0
        n = self.observation_standardized.shape[1] if len(self) else 0
        header = ["cycle", "period", "fixed", "speed", "stable", "n_unstable", "region"]
        header += [f"latent_{j}" for j in range(d)]
        header += [f"observation_{j}" for j in range(n)]
        header += [f"observation_standardized_{j}" for j in range(n)]
        header += [f"eig_{part}_{j}" for j in range(d) for part in ("re", "im")]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for i in range(len(self)):
            obs = self.observation[i] if self.observation is not None else np.full(n, np.nan)
            eig = [x for v in self.eigenvalues[i] for x in (v.real, v.imag)]
            writer.writerow(
                [int(self.cycle[i]), int(self.period[i]), bool(self.fixed[i])]
                + [repr(float(self.speed[i])), bool(self.stable[i]), int(self.n_unstable[i])]
                + ["" if self.region is None else self.region[i]]
                + [repr(float(x)) for x in (*self.latent[i], *obs)]
                + [repr(float(x)) for x in (*self.observation_standardized[i], *eig)]
            )
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def summary(self) -> str:
        """A few human-readable lines, one per point."""
        lines = []
        for i in range(len(self)):
            where = self.observation if self.observation is not None else (
                self.observation_standardized
            )
            lam = self.eigenvalues[i][0] if self.eigenvalues.shape[1] else np.nan
            label = "fixed point" if self.period[i] == 1 else f"{self.period[i]}-cycle point"
            lines.append(
                f"{label:>16} at {np.array2string(where[i], precision=3)}: "
                f"{'stable' if self.stable[i] else 'unstable'} "
                f"({self.n_unstable[i]} unstable), leading eigenvalue {lam:.4g}, "
                f"speed {self.speed[i]:.2e}"
            )
        return "\n".join(lines)


def build_table(
    kind: str,
    latent: np.ndarray,
    speed: np.ndarray,
    jacobians: np.ndarray,
    observe: Any,
    *,
    standardizer: Any = None,
    region: list[str] | None = None,
    period: np.ndarray | None = None,
    cycle: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    settings: dict[str, Any] | None = None,
) -> PointTable:
    """Assemble a :class:`PointTable` from points ``(K, D)`` and their Jacobians ``(K, D, D)``
    (for cycle points: the monodromy matrix); ``observe`` maps ``(K, D)`` to ``(K, N)`` (also
    for ``K = 0``)."""
    latent = np.asarray(latent, dtype=np.float64)
    k, d = latent.shape
    obs_std = np.asarray(observe(latent), dtype=np.float64)
    obs_std = obs_std[:, None] if obs_std.ndim == 1 else obs_std
    obs = None
    if standardizer is not None:
        obs = (np.asarray(standardizer.inverse_transform(obs_std), dtype=np.float64)
               if k else obs_std.copy())
    vals = np.zeros((k, d), complex)
    vecs = np.zeros((k, d, d), complex)
    stable = np.zeros(k, bool)
    n_unstable = np.zeros(k, int)
    for i in range(k):
        vals[i], vecs[i], stable[i], n_unstable[i] = eigen_summary(jacobians[i], kind)
    return PointTable(
        kind=kind,
        latent=latent,
        observation_standardized=obs_std,
        observation=obs,
        speed=np.asarray(speed, dtype=np.float64),
        eigenvalues=vals,
        eigenvectors=vecs,
        stable=stable,
        n_unstable=n_unstable,
        region=region,
        period=np.ones(k, int) if period is None else np.asarray(period, int),
        cycle=np.arange(k) if cycle is None else np.asarray(cycle, int),
        fixed=np.ones(k, bool) if fixed is None else np.asarray(fixed, bool),
        settings=dict(settings or {}),
    )


#: The columns with one entry per row (all but ``region``, a list, and the table-wide ones).
ROW_COLUMNS = ("latent", "observation_standardized", "observation", "speed", "eigenvalues",
               "eigenvectors", "stable", "n_unstable", "period", "cycle", "fixed")


def concatenate(tables: list[PointTable]) -> PointTable:
    """The rows of several tables of the same model in one (cycle indices kept distinct)."""
    if not tables:
        raise ValueError("concatenate: no tables")
    offsets = np.cumsum([0] + [int(t.cycle.max()) + 1 if len(t) else 0 for t in tables[:-1]])
    columns: dict[str, Any] = {}
    for name in ROW_COLUMNS:
        parts = [getattr(t, name) for t in tables]
        if name == "cycle":
            parts = [p + o for p, o in zip(parts, offsets, strict=True)]
        columns[name] = None if any(p is None for p in parts) else np.concatenate(parts)
    regions = [t.region for t in tables]
    columns["region"] = None if any(r is None for r in regions) else sum(regions, [])
    return dataclasses.replace(tables[0], **columns)


def region_string(code: Any) -> str:
    """A region code (any array of small ints) as a string of digits."""
    return "".join(str(int(b)) for b in np.asarray(code).ravel())


__all__ = ["ROW_COLUMNS", "PointTable", "build_table", "concatenate", "eigen_summary",
           "region_string"]
