"""A container of several trajectories of the same dimension, possibly of different lengths."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attractor.data.io import PathLike, load_many, validate_series
from attractor.errors import InputError


def is_trajectory_list(x: Any) -> bool:
    """True for a list or tuple of arrays (anything with a ``shape``): several trajectories.

    A list of plain numbers or of nested lists is one array-like instead (``[[1, 2], [3, 4]]``
    is one ``(2, 2)`` series), so the convention "a list of arrays is several trajectories" never
    reads a small literal as many one-row trajectories. An empty list counts as a (bad) list.
    """
    return isinstance(x, list | tuple) and all(hasattr(e, "shape") for e in x)


def _frozen(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=np.float64, copy=True)
    x.flags.writeable = False
    return x


@dataclass(frozen=True, eq=False)
class TimeSeriesDataset:
    """Several trajectories ``(T_i, D)`` in float64, each validated (finite, 2-D, same ``D``).

    The arrays are read-only copies: a dataset never aliases the arrays it was built from.
    Build one with :meth:`from_arrays` or :meth:`from_files`; the plain constructor takes a
    sequence of already validated ``(T_i, D)`` arrays and checks only shapes.

    Attributes:
        series: the trajectories, rows = time steps, columns = dimensions.
        names: one label per trajectory (a file name, or ``"array[i]"``).
    """

    series: tuple[np.ndarray, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        series = tuple(_frozen(x) for x in self.series)
        if not series:
            raise InputError("a dataset needs at least one trajectory, got none")
        names = tuple(self.names) or tuple(f"series[{i}]" for i in range(len(series)))
        if len(names) != len(series):
            raise InputError(f"{len(names)} names for {len(series)} trajectories")
        for x, name in zip(series, names, strict=True):
            if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
                raise InputError(f"{name}: expected a non-empty (T, D) array, got {x.shape}")
            if x.shape[1] != series[0].shape[1]:
                raise InputError(
                    f"{name}: {x.shape[1]} columns but {names[0]} has {series[0].shape[1]}; "
                    "every series must have the same number of dimensions"
                )
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "names", names)

    # ----------------------------------------------------------------------------- constructors

    @classmethod
    def from_arrays(
        cls,
        arrays: Any,
        *,
        names: Sequence[str] | None = None,
        min_rows: int = 2,
        dims: int | None = None,
    ) -> TimeSeriesDataset:
        """Validate in-memory data: one ``(T,)``/``(T, D)`` array-like, a ``(B, T, D)`` stack, or
        a list of arrays (one per trajectory, lengths may differ; see :func:`is_trajectory_list`).

        Raises:
            InputError: from :func:`~attractor.data.io.validate_series`, naming ``array[i]``
                (or the given name) and the problem; or different numbers of columns.
        """
        if is_trajectory_list(arrays):
            if not arrays:
                raise InputError("arrays: empty list, expected at least one trajectory")
            default = [f"array[{i}]" for i in range(len(arrays))]
            labels = list(names) if names is not None else default
            if len(labels) != len(arrays):
                raise InputError(f"names: {len(labels)} names for {len(arrays)} arrays")
            series = [
                validate_series(x, name=label, min_rows=min_rows, dims=dims)
                for x, label in zip(arrays, labels, strict=True)
            ]
        else:
            series = validate_series(
                arrays, name="array", min_rows=min_rows, dims=dims, allow_batch=True
            )
            labels = (
                list(names)
                if names is not None
                else (
                    ["array"] if len(series) == 1 else [f"array[{i}]" for i in range(len(series))]
                )
            )
        return cls(tuple(series), tuple(labels))

    @classmethod
    def from_files(
        cls, paths: PathLike | Sequence[PathLike], *, min_rows: int = 2, dims: int | None = None
    ) -> TimeSeriesDataset:
        """Load one file per trajectory with :func:`~attractor.data.io.load_many`."""
        if isinstance(paths, str) or not isinstance(paths, Sequence):
            paths = [paths]  # type: ignore[list-item]
        series = load_many(paths, min_rows=min_rows, dims=dims)
        return cls(tuple(series), tuple(str(p) for p in paths))

    # ----------------------------------------------------------------------------- shape info

    @property
    def dim(self) -> int:
        """Number of observed dimensions ``D``."""
        return int(self.series[0].shape[1])

    @property
    def lengths(self) -> tuple[int, ...]:
        """Number of time steps of each trajectory."""
        return tuple(int(x.shape[0]) for x in self.series)

    @property
    def total_length(self) -> int:
        """Number of time steps of all trajectories together."""
        return sum(self.lengths)

    def __len__(self) -> int:
        """Number of trajectories."""
        return len(self.series)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.series[index]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.series)

    def __repr__(self) -> str:
        return (
            f"TimeSeriesDataset(n_series={len(self)}, dim={self.dim}, lengths={list(self.lengths)})"
        )

    # ----------------------------------------------------------------------------- helpers

    def concatenated(self) -> np.ndarray:
        """All trajectories stacked along time, ``(sum T_i, D)``.

        For pooled statistics only: the joins between trajectories are not real time steps.
        """
        return np.concatenate(self.series, axis=0)

    def offsets(self) -> np.ndarray:
        """Row where each trajectory starts in :meth:`concatenated`, shape ``(n_series + 1,)``
        (the last entry is :attr:`total_length`)."""
        return np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> TimeSeriesDataset:
        """A new dataset with ``fn`` applied to each trajectory (names kept)."""
        return TimeSeriesDataset(tuple(np.asarray(fn(x)) for x in self.series), self.names)


__all__ = ["TimeSeriesDataset", "is_trajectory_list"]
