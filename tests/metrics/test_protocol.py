"""Evaluation protocol: median/MAD, the 1.25·T window, per-run metrics with diverged runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.metrics import (
    evaluate_generated,
    generate_window,
    generation_window,
    median_mad,
    power_spectrum_hellinger,
    state_space_divergence,
)


def signal(n_steps: int = 1000) -> np.ndarray:
    t = np.arange(n_steps) * 0.07
    x = np.stack([np.sin(t), np.cos(1.7 * t), np.sin(0.5 * t) * np.cos(t)], axis=1)
    return (x - x.mean(0)) / x.std(0)


def test_median_mad_hand_computed_and_drops_nonfinite():
    assert median_mad([1.0, 2.0, 3.0, 4.0, 100.0]) == (3.0, 1.0)  # |dev| = 2,1,0,1,97
    assert median_mad([1.0, np.nan, 2.0, 3.0, np.inf, 4.0, 100.0]) == (3.0, 1.0)
    assert median_mad([2.0, 4.0]) == (3.0, 1.0)  # raw MAD, no 1.4826 factor
    med, mad = median_mad([np.nan, np.nan])
    assert math.isnan(med) and math.isnan(mad)


@pytest.mark.parametrize("n_test", [1, 4, 7, 100, 1001, 100_000])
def test_generation_window_is_ceil_of_1_25_t(n_test):
    n_total, n_drop = generation_window(n_test)
    assert n_total == math.ceil(1.25 * n_test)
    assert n_total - n_drop == n_test
    assert n_drop == math.ceil(n_test / 4)


def test_generate_window_starts_from_first_test_point_and_keeps_the_last_t_rows():
    x_test = signal(8)
    calls = []

    def generate(x0, n_steps):
        calls.append((x0.copy(), n_steps))
        return np.arange(n_steps * 3, dtype=float).reshape(n_steps, 3)

    window = generate_window(generate, x_test)
    np.testing.assert_array_equal(calls[0][0], x_test[0])
    assert calls[0][1] == 10  # ceil(1.25 * 8)
    np.testing.assert_array_equal(window, np.arange(30.0).reshape(10, 3)[2:])
    with pytest.raises(InputError, match="generate"):
        generate_window(lambda x0, n: np.zeros((n - 1, 3)), x_test)


def test_evaluate_generated_per_run_values_and_aggregates():
    x = signal()
    n_total, n_drop = generation_window(len(x))
    rng = np.random.default_rng(0)
    junk = rng.standard_normal((n_drop, 3)) * 100.0
    perfect = np.concatenate([junk, x])  # a full 1.25 T rollout whose last T rows are the data
    noisy = x + 0.3 * rng.standard_normal(x.shape)
    diverged = x.copy()
    diverged[500:] = np.nan
    out = evaluate_generated(x, [perfect, noisy, diverged])
    assert out["n_runs"] == 3 and out["n_valid"] == 2
    assert out["d_stsp"][0] == 0.0 and out["d_h"][0] == 0.0
    assert out["d_stsp"][1] == pytest.approx(state_space_divergence(x, noisy))
    assert out["d_h"][1] == pytest.approx(power_spectrum_hellinger(x, noisy))
    assert math.isnan(out["d_stsp"][2]) and math.isnan(out["d_h"][2])
    # median and MAD of {0, a} are a/2 and a/2
    a = out["d_stsp"][1]
    assert out["d_stsp_median"] == pytest.approx(a / 2)
    assert out["d_stsp_mad"] == pytest.approx(a / 2)
    assert out["d_h_median"] == pytest.approx(out["d_h"][1] / 2)


def test_evaluate_generated_passes_options_and_rejects_short_runs():
    x = signal(400)
    y = x + 0.2
    out = evaluate_generated(x, [y], smoothing=1.0, stsp_kwargs={"n_bins": 5})
    assert out["d_h"][0] == pytest.approx(power_spectrum_hellinger(x, y, smoothing=1.0))
    assert out["d_stsp"][0] == pytest.approx(state_space_divergence(x, y, n_bins=5))
    with pytest.raises(InputError, match=r"generated_runs\[0\]"):
        evaluate_generated(x, [x[:-1]])
