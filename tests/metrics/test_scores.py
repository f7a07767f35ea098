"""sMAPE, MASE, sMAPE valid time, spectrum error and correlation-dimension error by hand."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.metrics import (
    correlation_dimension_error,
    mase,
    power_spectrum_error_db,
    smape,
    smape_curve,
    smape_valid_time,
)


def _signal(n: int = 256) -> np.ndarray:
    t = np.arange(n)
    return np.stack([1.5 + np.sin(0.3 * t), -2.0 + np.cos(0.11 * t)], axis=1)


def test_smape_on_the_0_to_200_scale() -> None:
    y = _signal()
    assert smape(y, y) == 0.0
    assert smape(-y, y) == pytest.approx(200.0)  # opposite signs: the maximum
    assert smape(2 * y, y) == pytest.approx(200.0 / 3.0)  # |y| / (3 |y|) = 1/3
    assert smape(np.zeros((3, 1)), np.zeros((3, 1))) == 0.0  # 0/0 := 0
    pred = y.copy()
    pred[5, 0] = np.nan
    curve = smape_curve(pred, y)
    assert curve[5] == pytest.approx(100.0) and curve[4] == 0.0  # one of two dimensions at 200


def test_mase_by_hand() -> None:
    train = np.array([[0.0], [2.0], [1.0], [3.0]])  # naive in-sample MAE = (2 + 1 + 2) / 3
    true = np.array([[1.0], [1.0]])
    pred = np.array([[2.0], [0.0]])  # MAE 1
    assert mase(pred, true, train) == pytest.approx(1.0 / (5.0 / 3.0))
    assert mase(pred, true, train, season=2) == pytest.approx(1.0 / 1.0)  # |1-0|, |3-2|
    with pytest.raises(InputError, match="constant"):
        mase(pred, true, np.ones((10, 1)))


def test_smape_valid_time_counts_leading_steps() -> None:
    y = _signal(100)
    pred = y.copy()
    pred[40:] = -y[40:]
    assert smape_valid_time(pred, y) == 40
    assert smape_valid_time(pred, y, dt=0.01, lyapunov=0.9) == pytest.approx(40 * 0.01 * 0.9)
    assert smape_valid_time(y, y) == 100


def test_power_spectrum_error_in_db() -> None:
    y = _signal()
    assert power_spectrum_error_db(y, y) == 0.0
    # Ten times the amplitude is +20 dB at every frequency.
    assert power_spectrum_error_db(10 * y, y, floor=0.0) == pytest.approx(20.0)
    assert power_spectrum_error_db(np.full_like(y, np.inf), y) == np.inf


def test_correlation_dimension_error_is_zero_for_the_same_data() -> None:
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(2000, 2))
    assert correlation_dimension_error(cloud, cloud) == 0.0
    line = np.stack([np.linspace(0, 1, 2000), np.zeros(2000)], 1)
    line = line + 1e-9 * rng.normal(size=(2000, 2))
    assert correlation_dimension_error(line, cloud) > 0.5  # a curve (D2 ~ 1) vs a plane (~2)
