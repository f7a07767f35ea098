"""Closed-form ridge regression of a readout (echo state networks, NG-RC, EDMD).

Readout-only models (the ``readout_only`` capability) keep everything but a linear readout fixed
and fit that readout by ridge (Tikhonov) regression on features harvested from the training data
(Jaeger 2001; Lukoševičius 2012, "A practical guide to applying echo state networks";
Gauthier et al. 2021 for NG-RC). There are no epochs and no optimiser; each model's
``fit_readout`` harvests its features and calls :func:`attractor.models.readout.ridge_solve`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from attractor.errors import InputError
from attractor.models.capabilities import ReadoutOnly, require
from attractor.train.objective import ClosedFormObjective, register_objective


@dataclasses.dataclass(frozen=True)
class Ridge(ClosedFormObjective):
    """Fit the readout in closed form with Tikhonov weight ``ridge`` (>= 0)."""

    name: str = dataclasses.field(default="ridge", init=False)
    ridge: float = 1e-6

    def __post_init__(self) -> None:
        value = self.ridge
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise InputError(f"ridge must be a finite number >= 0, got {value!r}")

    def check(self, model: Any) -> None:
        require(model, ReadoutOnly, by="ridge (closed-form readout) training")

    def solve(self, model: Any, series: Sequence[np.ndarray], *, key: jax.Array) -> Any:
        return model.fit_readout([np.asarray(x) for x in series], float(self.ridge))


register_objective("ridge", Ridge)
