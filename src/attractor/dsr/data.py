"""Training and test data for a run: from a built-in system or from files, optionally embedded.

Data from a built-in system are made as in Hess et al. (ICML 2023): ``n_train`` points (100 000)
at the system's sampling step (0.01 for Lorenz-63), standardised, plus 5 % Gaussian observation
noise (std 0.05 in standardised units); the test data are a separate clean trajectory from another
initial condition, standardised with the training statistics. ``observe`` keeps only some of the
system's coordinates (before standardising): a partial measurement.

:func:`embed_data` turns prepared data into delay coordinates
(:mod:`attractor.data.embedding`): the observed series is standardised and noised first, then
embedded (the noise of one measurement appears in each of its delayed copies); the standardiser
becomes the observed one repeated ``m`` times, so that embedding raw data and then standardising
gives the model's inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from attractor.data.embedding import DelayEmbedding
from attractor.data.io import load_many
from attractor.data.standardize import Standardizer
from attractor.errors import InputError

#: Rows the evaluation protocol and the validation selection need, in each series.
MIN_ROWS = 100


@dataclasses.dataclass
class PreparedData:
    """Standardised training and test series, the standardiser, and the sampling step.

    ``embedding``: the delay embedding the series are in (``None``: the data as observed).
    """

    train: list[np.ndarray]
    test: np.ndarray
    standardizer: Standardizer
    dt: float
    source: dict[str, Any]
    embedding: DelayEmbedding | None = None

    def metadata(self) -> dict[str, Any]:
        """What a model directory records about its data (``config.json`` ``metadata``)."""
        meta = {"standardizer": self.standardizer.to_dict(), "dt": self.dt, "data": self.source}
        if self.embedding is not None:
            meta["embedding"] = self.embedding.to_dict()
        return meta


def system_data(
    name: str,
    *,
    n_train: int = 100_000,
    n_test: int = 100_000,
    noise: float = 0.05,
    seed: int = 0,
    dt: float | None = None,
    observe: Sequence[int] | None = None,
) -> PreparedData:
    """Training and test data from a registered system (the GTF paper's recipe).

    Two initial conditions are drawn near the attractor from ``seed``: the first gives the training
    trajectory (standardised, plus ``noise`` std Gaussian observation noise), the second the clean
    test trajectory (standardised with the training mean and std). ``dt`` overrides the system's
    sampling step; ``observe`` lists the coordinates kept (0-based; default all).
    """
    from attractor.systems import get, trajectory

    system = get(name)
    columns = _observed_columns(observe, system.dim)
    key = jax.random.PRNGKey(seed)
    k_ic, k_noise = jax.random.split(key)
    step = float(system.dt if dt is None else dt)
    ics = np.asarray(trajectory(system, 2, n_ics=2, key=k_ic, dt=step))[:, 0]
    x_train = np.asarray(trajectory(system, n_train, ics=ics[:1], dt=step))[0][:, columns]
    x_test = np.asarray(trajectory(system, n_test, ics=ics[1:], dt=step))[0][:, columns]
    std = Standardizer().fit(x_train)
    train_std = std.transform(x_train)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_noise)).ravel()[-1])
    train_std = train_std + noise * rng.standard_normal(train_std.shape)
    source = {"system": system.name, "n_train": n_train, "n_test": n_test, "noise": noise,
              "dt": step}
    if observe is not None:
        source["observe"] = columns
    return PreparedData(
        train=[train_std.astype(np.float32)],
        test=std.transform(x_test),
        standardizer=std,
        dt=step,
        source=source,
    )


def _observed_columns(observe: Sequence[int] | None, dim: int) -> list[int]:
    if observe is None:
        return list(range(dim))
    columns = list(observe)
    bad = [c for c in columns if isinstance(c, bool) or not isinstance(c, int) or not
           0 <= c < dim]
    if not columns or bad or len(set(columns)) != len(columns):
        raise InputError(f"observe: expected distinct coordinates in 0..{dim - 1}, got {columns}")
    return columns


def file_data(
    paths: Sequence[str | Path], *, test: str | Path | None = None, dt: float = 1.0
) -> PreparedData:
    """Training series from files (several files = several trajectories).

    The test series is ``test`` if given, else the last 20 % of the last training file (held out
    from training). Everything is standardised with the training statistics.
    """
    series = load_many(list(paths))
    if test is not None:
        x_test = load_many([test])[0]
        if x_test.shape[1] != series[0].shape[1]:
            raise InputError(
                f"{test}: test data have {x_test.shape[1]} columns, training data "
                f"{series[0].shape[1]}"
            )
    else:
        last = series[-1]
        cut = int(0.8 * len(last))
        if len(last) - cut < MIN_ROWS:
            raise InputError(
                f"{paths[-1]}: too short to hold out a test part ({len(last)} rows); "
                "pass a separate test file"
            )
        series = [*series[:-1], last[:cut]]
        x_test = last[cut:]
    std = Standardizer().fit(series)
    return PreparedData(
        train=[std.transform(x).astype(np.float32) for x in series],
        test=std.transform(x_test),
        standardizer=std,
        dt=float(dt),
        source={"files": [str(p) for p in paths], "test": str(test) if test else None},
    )


def embed_data(data: PreparedData, embedding: DelayEmbedding) -> PreparedData:
    """``data`` in the delay coordinates of ``embedding`` (module docstring); every training
    series and the test series must keep at least :data:`MIN_ROWS` rows.

    Raises:
        InputError: the data are already embedded, have other columns than the embedding, or are
            too short for its window (the message names the series and the largest ``m`` that
            fits).
    """
    if data.embedding is not None:
        raise InputError("the data are already delay-embedded")
    many = len(data.train) > 1
    train = [
        embedding.apply(x, name=f"training series {i}" if many else "training data",
                        min_rows=MIN_ROWS).astype(np.float32)
        for i, x in enumerate(data.train)
    ]
    test = embedding.apply(data.test, name="test data", min_rows=MIN_ROWS)
    return dataclasses.replace(data, train=train, test=test, embedding=embedding,
                               standardizer=embedding.standardizer(data.standardizer))
