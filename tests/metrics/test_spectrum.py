"""D_H: range, exact zero, hand-computed spectra, the smoothing convention, awkward inputs."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.metrics import normalized_power_spectrum, power_spectrum_hellinger

NOISE_LEVELS = (0.0, 0.1, 0.3, 1.0)


def cosine(k: float, n: int = 64) -> np.ndarray:
    """cos with exactly k periods in n samples: all power in rfft bin k."""
    return np.cos(2 * np.pi * k * np.arange(n) / n)


def signal(n_steps: int = 4000) -> np.ndarray:
    t = np.arange(n_steps) * 0.05
    x = np.stack([np.sin(1.1 * t), np.sin(0.4 * t) + 0.5 * np.sin(2.9 * t + 1.0)], axis=1)
    x[:, 1] += 0.3 * x[:, 0] ** 2
    return x


def test_identical_inputs_give_exactly_zero():
    x = signal()
    assert power_spectrum_hellinger(x, x.copy()) == 0.0


def test_hand_computed_without_smoothing():
    # p = delta_5; q = (delta_5 + delta_12) / 2  ->  BC = sqrt(1/2), H = sqrt(1 - 1/sqrt 2)
    x = cosine(5)
    y = cosine(5) + cosine(12)
    got = power_spectrum_hellinger(x, y, smoothing=0.0)
    assert got == pytest.approx(np.sqrt(1 - 1 / np.sqrt(2)), rel=1e-10)
    per_dim = power_spectrum_hellinger(
        np.stack([x, x], 1), np.stack([x, y], 1), smoothing=0.0, per_dimension=True
    )
    np.testing.assert_allclose(per_dim, [0.0, np.sqrt(1 - 1 / np.sqrt(2))], atol=1e-10)


def test_disjoint_frequencies_are_close_to_one():
    # bins 100 and 600 are 500 bins apart, far beyond twice the 4-sigma kernel radius (160)
    n = 4096
    assert power_spectrum_hellinger(cosine(100, n), cosine(600, n)) > 0.999
    # with overlapping kernels it is clearly less
    assert power_spectrum_hellinger(cosine(100, n), cosine(120, n)) < 0.9


def test_smoothing_is_gaussian_sigma_bins_radius_4_sigma_reflect():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(128)
    sigma = 3.0
    z = (x - x.mean()) / x.std()
    power = np.abs(np.fft.rfft(z)) ** 2
    radius = int(4 * sigma + 0.5)
    k = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (k / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(power, radius, mode="symmetric")  # d c b a | a b c d
    smooth = np.convolve(padded, kernel, mode="valid")
    expected = smooth / smooth.sum()
    got = normalized_power_spectrum(x, smoothing=sigma)[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_range_is_zero_to_one_on_varied_pairs():
    rng = np.random.default_rng(1)
    base = signal(1000)
    candidates = [
        rng.standard_normal((1000, 2)),
        np.cumsum(rng.standard_normal((1000, 2)), axis=0),
        base[::-1] * 7 + 3,
        np.sign(base),
        base + rng.standard_normal(base.shape),
    ]
    for y in candidates:
        for s in (0.0, 1.0, 20.0):
            d = power_spectrum_hellinger(base, y, smoothing=s, per_dimension=True)
            assert np.all((d >= 0) & (d <= 1)), d


def test_grows_monotonically_with_corruption():
    x = signal()
    noise = np.random.default_rng(2).standard_normal(x.shape)
    d = [power_spectrum_hellinger(x, x + s * noise) for s in NOISE_LEVELS]
    assert d[0] == 0.0
    assert np.all(np.diff(d) > 0), d


def test_invariant_to_offset_and_scale_of_the_generated_series():
    x = signal(1000)
    y = x + 0.3 * np.random.default_rng(3).standard_normal(x.shape)
    assert power_spectrum_hellinger(x, 5.0 * y - 2.0) == pytest.approx(
        power_spectrum_hellinger(x, y), rel=1e-10
    )


def test_unequal_lengths_truncate_to_the_shorter():
    x = signal(1000)
    y = signal(1500) + 0.1
    assert power_spectrum_hellinger(x, y) == power_spectrum_hellinger(x, y[:1000])
    assert power_spectrum_hellinger(y, x) == power_spectrum_hellinger(y[:1000], x)


def test_constant_and_nonfinite_inputs():
    x = signal(500)
    flat = x.copy()
    flat[:, 1] = 2.5  # a model sitting on a fixed point in dimension 1
    per_dim = power_spectrum_hellinger(x, flat, per_dimension=True)
    assert per_dim[0] == 0.0 and per_dim[1] == 1.0
    diverged = x.copy()
    diverged[100:, 0] = np.inf
    per_dim = power_spectrum_hellinger(x, diverged, per_dimension=True)
    assert np.isnan(per_dim[0]) and per_dim[1] == 0.0
    assert np.isnan(power_spectrum_hellinger(x, diverged))
    with pytest.raises(InputError, match="x_true"):
        power_spectrum_hellinger(flat, x)
    with pytest.raises(InputError, match="dimensions"):
        power_spectrum_hellinger(x, x[:, :1])
