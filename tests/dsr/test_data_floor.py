"""The data's own floor of D_stsp and D_H: the first half of the test series against the second."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.dsr.evaluate import data_floor
from attractor.metrics.protocol import evaluate_generated


def _cycle(n: int, amplitude: float = 1.0) -> np.ndarray:
    t = np.arange(n) * (2 * np.pi / 100)  # exactly 100 samples a period
    return amplitude * np.stack([np.sin(t), np.cos(t), np.sin(2 * t)], axis=1)


def test_a_periodic_series_has_a_zero_floor() -> None:
    floor = data_floor(_cycle(20_000))
    # identical histograms; the binned estimator's Laplace smoothing leaves ~1e-3
    assert floor["D_stsp_floor"] == pytest.approx(0.0, abs=5e-3)
    assert floor["D_H_floor"] == pytest.approx(0.0, abs=1e-6)


def test_the_floor_is_the_protocol_metrics_of_the_two_halves() -> None:
    x = np.concatenate([_cycle(10_000), _cycle(10_000, amplitude=1.2)])
    expected = evaluate_generated(x[:10_000], [x[10_000:]])
    floor = data_floor(x)
    assert floor["D_stsp_floor"] == expected["d_stsp"][0] > 0.1
    assert floor["D_H_floor"] == expected["d_h"][0]


def test_a_constant_half_gives_nan_not_an_error() -> None:
    x = np.zeros((400, 3))
    floor = data_floor(x)
    assert all(np.isnan(v) or v == pytest.approx(0.0) for v in floor.values())
