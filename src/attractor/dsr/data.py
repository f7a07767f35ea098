"""Training and test data for a run: from a built-in system or from files.

Data from a built-in system are made as in Hess et al. (ICML 2023): ``n_train`` points (100 000)
at the system's sampling step (0.01 for Lorenz-63), standardised, plus 5 % Gaussian observation
noise (std 0.05 in standardised units); the test data are a separate clean trajectory from another
initial condition, standardised with the training statistics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from attractor.data.io import load_many
from attractor.data.standardize import Standardizer
from attractor.errors import InputError


@dataclasses.dataclass
class PreparedData:
    """Standardised training and test series, the standardiser, and the sampling step."""

    train: list[np.ndarray]
    test: np.ndarray
    standardizer: Standardizer
    dt: float
    source: dict[str, Any]


def system_data(
    name: str,
    *,
    n_train: int = 100_000,
    n_test: int = 100_000,
    noise: float = 0.05,
    seed: int = 0,
    dt: float | None = None,
) -> PreparedData:
    """Training and test data from a registered system (the GTF paper's recipe).

    Two initial conditions are drawn near the attractor from ``seed``: the first gives the training
    trajectory (standardised, plus ``noise`` std Gaussian observation noise), the second the clean
    test trajectory (standardised with the training mean and std). ``dt`` overrides the system's
    sampling step.
    """
    from attractor.systems import get, trajectory

    system = get(name)
    key = jax.random.PRNGKey(seed)
    k_ic, k_noise = jax.random.split(key)
    step = float(system.dt if dt is None else dt)
    ics = np.asarray(trajectory(system, 2, n_ics=2, key=k_ic, dt=step))[:, 0]
    x_train = np.asarray(trajectory(system, n_train, ics=ics[:1], dt=step))[0]
    x_test = np.asarray(trajectory(system, n_test, ics=ics[1:], dt=step))[0]
    std = Standardizer().fit(x_train)
    train_std = std.transform(x_train)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_noise)).ravel()[-1])
    train_std = train_std + noise * rng.standard_normal(train_std.shape)
    return PreparedData(
        train=[train_std.astype(np.float32)],
        test=std.transform(x_test),
        standardizer=std,
        dt=step,
        source={
            "system": system.name,
            "n_train": n_train,
            "n_test": n_test,
            "noise": noise,
            "dt": step,
        },
    )


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
        if len(last) - cut < 100:
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
