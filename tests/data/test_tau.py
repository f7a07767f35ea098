"""Forcing-interval heuristics: autocorrelation, delayed mutual information, τ."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attractor.data import (
    autocorrelation,
    decay_lag,
    delayed_mutual_information,
    estimate_forcing_interval,
    first_local_minimum,
    forcing_interval_estimates,
)
from attractor.errors import InputError


def _sine(period: float, t: int = 20_000, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    x = np.sin(2 * np.pi * np.arange(t) / period + 0.3)
    if noise:
        x = x + noise * np.random.default_rng(seed).normal(size=t)
    return x[:, None]


@pytest.mark.parametrize("period", [16, 24, 40, 64])
def test_autocorrelation_of_a_sinusoid(period):
    r = autocorrelation(_sine(period), max_lag=period)[:, 0]
    assert r[0] == pytest.approx(1.0)
    assert first_local_minimum(r) == period // 2
    assert r[period // 2] == pytest.approx(-1.0, abs=1e-9)
    # Pearson per lag: r(k) = cos(2πk/P) up to edge effects of O(P/T)
    k = np.arange(period + 1)
    np.testing.assert_allclose(r, np.cos(2 * np.pi * k / period), atol=2e-3)
    expected_decay = math.floor(period * math.acos(math.exp(-1)) / (2 * np.pi)) + 1
    assert decay_lag(r) == expected_decay


def test_autocorrelation_equals_pearson_per_lag():
    x = np.cumsum(np.random.default_rng(1).normal(size=(400, 2)), axis=0)
    r = autocorrelation(x, 30)
    direct = np.array(
        [
            [np.corrcoef(x[: 400 - k, j], x[k:, j])[0, 1] if k else 1.0 for j in range(2)]
            for k in range(31)
        ]
    )
    np.testing.assert_allclose(r, direct, atol=1e-10)


@pytest.mark.parametrize(("period", "seed"), [(24, 0), (24, 1), (40, 0), (40, 2)])
def test_mutual_information_first_minimum_is_a_quarter_period(period, seed):
    # 5 % observation noise: for a noise-free sinusoid sampled at an integer period the pair
    # (x_t, x_{t+k}) only takes P values and the binned MI carries no information about k.
    mi = delayed_mutual_information(_sine(period, noise=0.05, seed=seed), period)[:, 0]
    assert first_local_minimum(mi) == period // 4
    assert mi[0] > mi[1] > mi[period // 4] < mi[period // 2]


def test_mutual_information_exact_values():
    alternating = np.tile([0.0, 1.0], 500)[:, None]
    mi = delayed_mutual_information(alternating, 3, n_bins=2)[:, 0]
    # x_{t+k} is a function of x_t, so I(k) = H(x_t over the n = 1000 - k pairs)
    for k in range(4):
        n = 1000 - k
        p = math.ceil(n / 2) / n
        assert mi[k] == pytest.approx(-p * math.log(p) - (1 - p) * math.log(1 - p), rel=1e-12)
    coin = np.random.default_rng(0).integers(0, 2, size=(200_000, 1)).astype(float)
    mi = delayed_mutual_information(coin, 3, n_bins=2)[:, 0]
    assert mi[0] == pytest.approx(math.log(2), rel=1e-4)
    assert np.all(mi[1:] < 1e-4)  # independent draws


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_white_noise_gives_tau_one(seed):
    x = np.random.default_rng(seed).normal(size=(4000, 3))
    tau = estimate_forcing_interval(x)
    assert tau == 1 and type(tau) is int


def test_ar1_decay_time_sets_tau():
    # AR(1) with φ = 0.9: r(k) = 0.9^k drops below 1/e at k = 10 (0.9^9 = 0.387, 0.9^10 = 0.349)
    rng = np.random.default_rng(0)
    e = rng.normal(size=50_000)
    x = np.empty(50_000)
    x[0] = 0.0
    for t in range(1, 50_000):
        x[t] = 0.9 * x[t - 1] + e[t]
    est = forcing_interval_estimates(x[:, None])
    assert est.acf_decay == (10,)
    assert est.tau == 10


def test_tau_is_min_over_criteria_and_dimensions():
    x = np.hstack([_sine(40, noise=0.05), _sine(64, noise=0.05, seed=1)])
    est = forcing_interval_estimates(x)
    assert est.acf_minimum == (20, 32)
    assert est.mi_minimum[0] == 10
    assert est.acf_decay == (8, 13)
    assert est.per_dimension[0] == 8
    assert est.tau == 8 == estimate_forcing_interval(x)


def test_constant_columns_are_ignored_and_short_series_are_clamped():
    x = np.hstack([np.full((4000, 1), 3.0), np.random.default_rng(0).normal(size=(4000, 1))])
    est = forcing_interval_estimates(x)
    assert est.per_dimension[0] is None and est.tau == 1
    assert np.isnan(autocorrelation(x, 5)[:, 0]).all()
    with pytest.raises(InputError, match="every column is constant"):
        estimate_forcing_interval(np.ones((100, 2)))
    # 30 rows: lags are limited to 15, the slow sine has no criterion inside -> the limit
    assert estimate_forcing_interval(_sine(1000, t=30)) == 15


def test_first_local_minimum_rules():
    assert first_local_minimum(np.array([3.0, 2.0, 2.0, 1.0, 5.0])) == 3  # plateau then lower
    assert first_local_minimum(np.array([3.0, 2.0, 2.0, 4.0])) == 1  # flat bottom: first lag
    assert first_local_minimum(np.array([3.0, 2.0, 1.0])) is None  # last lag never counts
    assert first_local_minimum(np.array([1.0, 2.0, 3.0])) is None
    assert decay_lag(np.array([1.0, 0.5, 0.3])) == 2
    assert decay_lag(np.array([1.0, 0.9])) is None


def test_argument_errors():
    with pytest.raises(InputError, match="max_lag must be a positive integer"):
        autocorrelation(np.zeros((10, 1)) + np.arange(10)[:, None], 0)
    with pytest.raises(InputError, match="max_lag 20 needs at least 22 rows, got 10"):
        delayed_mutual_information(np.arange(10.0), 20)
    with pytest.raises(InputError, match="n_bins"):
        delayed_mutual_information(np.arange(10.0), 2, n_bins=1)
    bad = np.arange(100.0)
    bad[5] = np.nan
    with pytest.raises(InputError, match=r"x: NaN at row 5 \(column 0\)"):
        estimate_forcing_interval(bad)
