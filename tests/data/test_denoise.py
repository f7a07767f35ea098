"""Savitzky–Golay smoothing and its window by generalised cross-validation: the filter is exact
on polynomials of its order, the GCV score is what theory says on pure noise, and the chosen
window is the one of least error against the clean signal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_coeffs

from attractor.data.denoise import (
    MIN_WINDOW,
    check_window,
    choose_window,
    gcv_score,
    savitzky_golay,
)
from attractor.errors import InputError


def _noisy_oscillation(noise: float, n: int = 20_000, period: int = 200, seed: int = 0):
    """A two-harmonic oscillation (not a polynomial: smoothing has a bias) and its noisy copy."""
    t = 2 * np.pi * np.arange(n) / period
    clean = np.stack([np.sin(t) + 0.5 * np.sin(3 * t), np.cos(t) * np.cos(2 * t)], 1)
    return clean, clean + noise * np.random.default_rng(seed).standard_normal(clean.shape)


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("window", [5, 11, 41])
def test_the_filter_reproduces_cubics_exactly_ends_included(window: int) -> None:
    t = np.linspace(-2.0, 3.0, 300)
    x = np.stack([1 - 2 * t + 0.5 * t**2 - 0.3 * t**3, 4 + t**3], 1)
    np.testing.assert_allclose(savitzky_golay(x, window), x, atol=1e-9)


@pytest.mark.parametrize("window", [5, 15, 51])
def test_gcv_on_pure_noise_is_the_noise_variance_over_one_minus_the_centre_weight(
    window: int,
) -> None:
    # The filter is a projection (its hat matrix H = H^2, so sum c_k^2 = c_0): on white noise of
    # variance s^2 the residual has variance s^2 (1 - c_0), and GCV = s^2 / (1 - c_0).
    s = 0.3
    x = s * np.random.default_rng(2).standard_normal((200_000, 1))
    c0 = savgol_coeffs(window, 3)[window // 2]
    assert gcv_score(x, window) == pytest.approx(s**2 / (1 - c0), rel=0.02)


@pytest.mark.parametrize("noise", [0.02, 0.05, 0.2])
def test_the_chosen_window_has_nearly_the_least_error_against_the_clean_signal(noise) -> None:
    clean, x = _noisy_oscillation(noise)
    window, scores = choose_window(x)
    errors = {w: _rmse(savitzky_golay(x, w), clean) for w in scores}
    best = min(errors.values())
    assert errors[window] <= 1.1 * best
    assert errors[window] < 0.5 * noise  # well below the noise it started from
    assert min(scores) == MIN_WINDOW and max(scores) % 2 == 1


def test_more_noise_gets_a_longer_window() -> None:
    windows = [choose_window(_noisy_oscillation(noise)[1])[0] for noise in (0.01, 0.05, 0.2)]
    assert windows[0] < windows[1] < windows[2]


def test_a_spike_train_keeps_its_spikes() -> None:
    # narrow Gaussian spikes (width 3 samples) every 100 samples: a long window would flatten them
    t = np.arange(20_000)
    clean = np.exp(-0.5 * (((t % 100) - 50) / 3.0) ** 2)[:, None]
    x = clean + 0.02 * np.random.default_rng(3).standard_normal(clean.shape)
    window, _ = choose_window(x)
    assert window <= 15
    assert savitzky_golay(x, window).max() > 0.9  # the peaks are 1


@pytest.mark.parametrize("window", [4, 3, 1, 0, -5, True, 5.0, "7"])
def test_a_bad_window_is_refused(window) -> None:
    with pytest.raises(InputError, match="odd integer >= 5"):
        check_window(window)


def test_a_window_longer_than_the_series_is_refused() -> None:
    with pytest.raises(InputError, match="longer than the series"):
        savitzky_golay(np.zeros((10, 2)), 11)
    with pytest.raises(InputError, match="too short to choose"):
        choose_window(np.zeros((40, 1)))
