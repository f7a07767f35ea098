"""Timescales read from data: exact on sinusoids, the known periods of chaotic oscillators, and
the noise level of white observation noise."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.data.timescales import first_recurrence, noise_level, timescales
from attractor.errors import InputError


@pytest.mark.parametrize("period", [20, 50, 137])
def test_the_period_of_a_sinusoid_is_exact(period: int) -> None:
    t = np.arange(20_000)
    x = np.stack([np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period + 0.3)], 1)
    ts = timescales(x)
    assert ts.period == period and ts.periods == (period, period)
    # autocorrelation cos(2 pi k / P) falls below 1/e at k = P arccos(1/e) / (2 pi) = 0.19 P
    assert ts.autocorrelation_time == pytest.approx(0.19 * period, abs=1.0)


def test_white_noise_has_no_period_and_its_std_is_the_noise_level() -> None:
    x = 0.3 * np.random.default_rng(0).standard_normal((20_000, 3))
    ts = timescales(x)
    assert ts.period is None and ts.periods == (None, None, None)
    assert ts.noise == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.2])
def test_the_noise_on_a_smooth_signal_is_recovered(sigma: float) -> None:
    t = np.arange(50_000)
    signal = np.stack([np.sin(2 * np.pi * t / 200), np.sin(2 * np.pi * t / 330) ** 3], 1)
    x = signal + sigma * np.random.default_rng(1).standard_normal(signal.shape)
    assert noise_level(x) == pytest.approx(sigma, rel=0.1, abs=2e-3)


def test_chaotic_oscillators_give_their_rotation_period() -> None:
    from attractor.dsr import system_data

    x = system_data("rossler", n_train=40_000, n_test=100, noise=0.05).train[0]
    ts = timescales(x)
    assert 95 <= ts.period <= 103  # Rössler at its sampling step: ~99 samples per turn
    assert ts.noise == pytest.approx(0.05, rel=0.1)  # the 5 % noise system_data adds


def test_first_recurrence_needs_a_minimum_then_a_high_enough_maximum() -> None:
    assert first_recurrence(np.array([1.0, 0.5, 0.0, 0.3, 0.2])) == 3
    assert first_recurrence(np.array([1.0, 0.5, 0.0, 0.05, 0.0])) is None  # below 0.1
    # a small bump first (Thomas' shoulder), then the recurrence
    assert first_recurrence(np.array([1.0, 0.3, -0.1, -0.05, -0.4, 0.0, 0.2, 0.1])) == 6
    assert first_recurrence(np.array([1.0, 0.8, 0.6, 0.4])) is None  # never turns


def test_too_short_or_bad_series_are_input_errors() -> None:
    with pytest.raises(InputError):
        timescales(np.ones((3, 1)))
    with pytest.raises(InputError):
        noise_level(np.array([[1.0], [np.nan], [2.0], [3.0], [4.0], [5.0]]))
