"""PE(n), its curve, NRMSE and VPT on systems whose exact predictions are known."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.metrics import (
    nrmse,
    prediction_error,
    prediction_error_curve,
    valid_prediction_time,
)

THETA = 0.3
ROT = np.array([[np.cos(THETA), -np.sin(THETA)], [np.sin(THETA), np.cos(THETA)]]) * 0.999


def rotation_series(n_steps: int = 200) -> np.ndarray:
    x = np.empty((n_steps, 2))
    x[0] = [1.0, 0.5]
    for t in range(1, n_steps):
        x[t] = ROT @ x[t - 1]
    return x


def exact_predictor(n: int, offset: np.ndarray | float = 0.0):
    rn = np.linalg.matrix_power(ROT, n)
    return lambda s: s @ rn.T + offset


def exact_curve(n: int, offset_per_step: float = 0.0):
    powers = np.stack([np.linalg.matrix_power(ROT, k) for k in range(1, n + 1)])  # (n, 2, 2)
    steps = np.arange(1, n + 1)[None, :, None]
    return lambda s: np.einsum("kij,bj->bki", powers, s) + offset_per_step * steps


def test_perfect_predictor_has_zero_error():
    x = rotation_series()
    assert prediction_error(exact_predictor(20), x, 20) == pytest.approx(0.0, abs=1e-25)


def test_constant_offset_predictor_gives_offset_squared():
    x = rotation_series()
    assert prediction_error(exact_predictor(20, 0.3), x, 20) == pytest.approx(0.09, rel=1e-10)
    # per-dimension offsets: mean over dimensions of the squares
    offset = np.array([0.3, -0.1])
    assert prediction_error(exact_predictor(5, offset), x, 5) == pytest.approx(0.05, rel=1e-10)


def test_starts_are_all_points_with_a_target_in_order():
    x = rotation_series(50)
    seen = []

    def spy(s):
        seen.append(s.copy())
        return exact_predictor(7)(s)

    prediction_error(spy, x, 7)
    np.testing.assert_array_equal(seen[0], x[:43])  # T - n = 43 start points, t = 0..42
    # a predictor that is exact only for the step-n map, wrong horizon -> nonzero error
    assert prediction_error(exact_predictor(6), x, 7) > 1e-4


def test_batching_gives_the_same_value():
    x = rotation_series()
    pred = exact_predictor(10, np.array([0.1, 0.2]))
    assert prediction_error(pred, x, 10, batch_size=17) == pytest.approx(
        prediction_error(pred, x, 10), rel=1e-14
    )


def test_curve_matches_known_growing_offset_and_pe():
    x = rotation_series()
    n = 12
    curve = prediction_error_curve(exact_curve(n, 0.1), x, n, batch_size=50)
    np.testing.assert_allclose(curve, (0.1 * np.arange(1, n + 1)) ** 2, rtol=1e-10)
    exact = prediction_error_curve(exact_curve(n), x, n)
    np.testing.assert_allclose(exact, 0.0, atol=1e-25)
    # the last point is PE(n) of the same predictions
    last_only = lambda s: exact_curve(n, 0.1)(s)[:, -1]
    assert curve[-1] == pytest.approx(prediction_error(last_only, x, n), rel=1e-12)


def test_prediction_error_rejects_bad_shapes_and_horizons():
    x = rotation_series(30)
    with pytest.raises(InputError, match="predict_n"):
        prediction_error(lambda s: s[:, :1], x, 3)
    with pytest.raises(InputError, match="n = 30"):
        prediction_error(exact_predictor(30), x, 30)
    with pytest.raises(InputError, match="predict_curve"):
        prediction_error_curve(lambda s: s, x, 3)


def test_nrmse_hand_computed():
    true = np.zeros((4, 2))
    pred = np.tile([1.0, 2.0], (4, 1))
    np.testing.assert_allclose(nrmse(pred, true, std=[1.0, 2.0]), np.ones(4))
    np.testing.assert_allclose(nrmse(pred, true, std=1.0), np.full(4, np.sqrt(2.5)))
    # default: std of the truth along time
    y = np.array([[0.0, 0.0], [2.0, 4.0]])  # stds 1 and 2
    np.testing.assert_allclose(nrmse(y + [1.0, 2.0], y), [1.0, 1.0])
    # batched (B, T, N)
    assert nrmse(np.stack([pred, pred]), np.stack([true, true]), std=[1.0, 2.0]).shape == (2, 4)


def test_valid_prediction_time_counts_leading_steps_only():
    true = np.zeros((10, 3))
    growing = np.repeat(0.1 * np.arange(10)[:, None], 3, axis=1)  # NRMSE_t = 0.1 t
    assert valid_prediction_time(growing, true, std=1.0) == 5.0  # t = 0..4 below 0.5
    assert valid_prediction_time(growing, true, std=1.0, dt=0.01) == pytest.approx(0.05)
    assert valid_prediction_time(growing, true, std=1.0, dt=0.01, lyapunov=0.9) == pytest.approx(
        0.045
    )
    assert valid_prediction_time(growing, true, std=1.0, threshold=0.05) == 1.0
    # an error that recovers later does not extend the valid time
    spike = np.zeros((10, 3))
    spike[1] = 1.0
    assert valid_prediction_time(spike, true, std=1.0) == 1.0
    nan_run = np.zeros((10, 3))
    nan_run[3:] = np.nan
    assert valid_prediction_time(nan_run, true, std=1.0) == 3.0
    assert valid_prediction_time(true, true, std=1.0) == 10.0
