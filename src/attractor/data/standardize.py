"""Per-dimension standardisation (z-scoring) fitted on training data, JSON-serialisable.

``transform(x) = (x - mean) / std`` and ``inverse_transform(z) = z * std + mean``, with ``mean``
and ``std`` the per-dimension mean and population standard deviation (``ddof=0``) of all rows of
all training trajectories pooled (each row weighted equally), in float64 and in the data's units.

Constant dimensions: by default a column whose standard deviation is zero (or below
``1e-12 * |mean|``, i.e. zero up to rounding) is an :class:`~attractor.errors.InputError` naming
the column (0-based index), because a constant dimension carries no dynamics and usually means a
dead channel or a wrong file. ``Standardizer(allow_constant=True)`` instead uses ``std = 1`` for
such columns (they are only centred) and emits a :class:`UserWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from attractor.data.dataset import TimeSeriesDataset, is_trajectory_list
from attractor.data.io import validate_series
from attractor.errors import InputError

_KIND = "standardizer"
_CONSTANT_RTOL = 1e-12


def _training_rows(data: Any) -> np.ndarray:
    """Pool the rows of an array, a ``(B, T, D)`` stack, a list of arrays, or a dataset."""
    if isinstance(data, TimeSeriesDataset):
        return data.concatenated()
    if is_trajectory_list(data):
        if not data:
            raise InputError("fit: empty list, expected at least one trajectory")
        series = [validate_series(x, name=f"data[{i}]", min_rows=1) for i, x in enumerate(data)]
        dims = {x.shape[1] for x in series}
        if len(dims) > 1:
            raise InputError(f"fit: trajectories have different numbers of columns {sorted(dims)}")
        return np.concatenate(series, axis=0)
    return np.concatenate(validate_series(data, name="data", min_rows=1, allow_batch=True))


class Standardizer:
    """Z-score each dimension with statistics fitted on training data.

    Attributes (after :meth:`fit` or :meth:`from_dict`):
        mean_: ``(D,)`` float64, per-dimension mean in data units.
        std_: ``(D,)`` float64, per-dimension standard deviation in data units (``> 0``).

    Example:
        >>> import numpy as np
        >>> s = Standardizer().fit(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> s.transform(np.array([[1.0, 20.0]]))
        array([[0., 0.]])
    """

    def __init__(self, *, allow_constant: bool = False) -> None:
        self.allow_constant = allow_constant
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    # ----------------------------------------------------------------------------- fitting

    def fit(self, data: Any) -> Standardizer:
        """Fit mean and std on one array ``(T, D)``/``(T,)``, a ``(B, T, D)`` stack, a list of
        trajectories or a :class:`TimeSeriesDataset`. Returns ``self``.

        Raises:
            InputError: invalid data (see :func:`~attractor.data.io.validate_series`), fewer than
                two rows in all, or a constant column (unless ``allow_constant``).
        """
        rows = _training_rows(data)
        if rows.shape[0] < 2:
            raise InputError("fit: need at least 2 rows to estimate a standard deviation")
        mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        constant = std <= _CONSTANT_RTOL * np.abs(mean)
        if constant.any():
            cols = [int(c) for c in np.flatnonzero(constant)]
            listed = ", ".join(f"{c} (value {mean[c]:.6g})" for c in cols)
            what = "column" if len(cols) == 1 else "columns"
            verb = "is" if len(cols) == 1 else "are"
            if not self.allow_constant:
                raise InputError(
                    f"fit: {what} {listed} {verb} constant; drop constant dimensions or pass "
                    "allow_constant=True to only centre them"
                )
            warnings.warn(
                f"Standardizer: {what} {listed} {verb} constant; using std = 1 there",
                UserWarning,
                stacklevel=2,
            )
            std = np.where(constant, 1.0, std)
        self.mean_, self.std_ = mean, std
        return self

    def fit_transform(self, data: Any) -> Any:
        """:meth:`fit` then :meth:`transform` of the same data."""
        return self.fit(data).transform(data)

    @property
    def dim(self) -> int:
        """Number of dimensions ``D`` the standardizer was fitted on."""
        mean, _ = self._params()
        return int(mean.shape[0])

    def _params(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise InputError("Standardizer is not fitted; call fit() or from_dict() first")
        return self.mean_, self.std_

    # ----------------------------------------------------------------------------- transforms

    def transform(self, x: Any) -> Any:
        """``(x - mean) / std`` over the last axis.

        Accepts numpy arrays ``(..., D)`` (returns float64), JAX arrays or tracers (keeps their
        dtype, usable inside ``jit``), lists of arrays (returns a list) and datasets (returns a
        dataset). Values are not checked for NaN: a diverged rollout passes through.
        """
        mean, std = self._params()
        return self._apply(x, lambda a, m, s: (a - m) / s, mean, std)

    def inverse_transform(self, z: Any) -> Any:
        """``z * std + mean``: back to data units; same input kinds as :meth:`transform`."""
        mean, std = self._params()
        return self._apply(z, lambda a, m, s: a * s + m, mean, std)

    def _apply(self, x: Any, op: Any, mean: np.ndarray, std: np.ndarray) -> Any:
        if isinstance(x, TimeSeriesDataset):
            return x.map(lambda a: self._apply(a, op, mean, std))
        if is_trajectory_list(x):
            return [self._apply(a, op, mean, std) for a in x]
        if not isinstance(x, np.ndarray) and hasattr(x, "shape") and hasattr(x, "dtype"):
            # JAX array or tracer: stay in JAX and in the array's own precision.
            self._check_dim(x.shape)
            return op(x, mean.astype(x.dtype), std.astype(x.dtype))
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"x: cannot be read as a numeric array ({exc})") from None
        self._check_dim(arr.shape)
        return op(arr, mean, std)

    def _check_dim(self, shape: Sequence[int]) -> None:
        d = self.dim
        if len(shape) == 0 or shape[-1] != d:
            got = "a scalar" if len(shape) == 0 else f"shape {tuple(shape)}"
            raise InputError(f"x: expected {d} columns (last axis) as fitted, got {got}")

    # ----------------------------------------------------------------------------- (de)serialise

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: ``{"kind", "mean", "std"}`` with lists of Python floats
        (``json`` writes them with ``repr``, which round-trips float64 exactly)."""
        mean, std = self._params()
        return {
            "kind": _KIND,
            "mean": [float(v) for v in mean],
            "std": [float(v) for v in std],
        }

    @classmethod
    def from_dict(cls, d: Any) -> Standardizer:
        """Rebuild from :meth:`to_dict` output (e.g. read back from ``config.json``).

        Raises:
            InputError: not a mapping, wrong ``kind``, missing keys, lengths that differ,
                non-finite values or a non-positive std.
        """
        if not isinstance(d, dict):
            raise InputError(f"standardizer: expected a dict, got {type(d).__name__}")
        if d.get("kind", _KIND) != _KIND:
            raise InputError(f"standardizer: kind is {d.get('kind')!r}, expected {_KIND!r}")
        missing = [k for k in ("mean", "std") if k not in d]
        if missing:
            raise InputError(f"standardizer: missing key(s) {', '.join(missing)}")
        try:
            mean = np.asarray(d["mean"], dtype=np.float64)
            std = np.asarray(d["std"], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("standardizer: mean and std must be lists of numbers") from None
        if mean.ndim != 1 or std.shape != mean.shape or mean.size == 0:
            raise InputError(
                f"standardizer: mean and std must be non-empty lists of equal length, "
                f"got shapes {mean.shape} and {std.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            raise InputError("standardizer: mean and std must be finite")
        if (std <= 0).any():
            col = int(np.flatnonzero(std <= 0)[0])
            raise InputError(f"standardizer: std of column {col} is {std[col]}, must be > 0")
        out = cls()
        out.mean_, out.std_ = mean, std
        return out

    def __repr__(self) -> str:
        state = "unfitted" if self.mean_ is None else f"dim={self.mean_.shape[0]}"
        return f"Standardizer({state}, allow_constant={self.allow_constant})"


__all__ = ["Standardizer"]
