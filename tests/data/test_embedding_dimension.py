"""False nearest neighbours (Kennel et al. 1992) and Cao's E1/E2 (Cao 1997) on series whose
embedding dimension is known: a sine needs 2 delay coordinates, Lorenz-63's x needs 3."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.data import (
    cao,
    choose_embedding,
    estimate_forcing_interval,
    false_nearest_neighbours,
)
from attractor.errors import InputError


@pytest.fixture(scope="module")
def lorenz() -> np.ndarray:
    """20 000 clean Lorenz-63 points at dt 0.01, standardised, all three coordinates."""
    from attractor.systems import trajectory

    x = np.asarray(trajectory("lorenz63", 20_000), np.float64)
    return (x - x.mean(axis=0)) / x.std(axis=0)


def _sine(period: float, t: int = 20_000) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(t) / period)


# 50 and 50.3 repeat exactly (up to rounding) every 50 / 503 samples; 50*sqrt(2) never does
@pytest.mark.parametrize("period", [50.0, 50.3, 50 * np.sqrt(2)])
def test_fnn_of_a_sine_vanishes_at_two(period):
    fnn = false_nearest_neighbours(_sine(period), tau=int(period // 4), max_dim=4)
    assert fnn[0] > 0.3  # on a line, the two branches of the sine fold onto each other
    np.testing.assert_array_less(fnn[1:], 0.005)


def test_fnn_of_lorenz_x_vanishes_at_three(lorenz):
    x = lorenz[:, :1]
    tau = estimate_forcing_interval(x)
    assert 14 <= tau <= 18  # first minimum of the mutual information, ~0.16 time units
    fnn = false_nearest_neighbours(x, tau, max_dim=5)
    assert fnn[0] > 0.9 and fnn[1] > 0.03  # m = 1, 2: too few
    np.testing.assert_array_less(fnn[2:], 0.005)  # the known result: m = 3


def test_fnn_with_observation_noise_still_chooses_three(lorenz):
    noisy = lorenz[:, 0] + 0.05 * np.random.default_rng(0).normal(size=len(lorenz))
    e = choose_embedding(noisy)
    assert e.m == 3 and e.scores[1] > 0.1 and e.scores[2] <= 0.03


def test_fnn_of_the_full_state_is_one(lorenz):
    fnn = false_nearest_neighbours(lorenz, tau=16, max_dim=3)
    assert fnn[0] < 0.03  # three coordinates of a 3-D flow: already unfolded
    assert choose_embedding(lorenz).m == 1


def test_fnn_of_noise_never_vanishes():
    fnn = false_nearest_neighbours(np.random.default_rng(1).normal(size=20_000), 1, 6)
    assert np.all(fnn > 0.1)


def test_fnn_pools_trajectories(lorenz):
    x = lorenz[:, 0]
    whole = false_nearest_neighbours(x, 16, 4)
    split = false_nearest_neighbours([x[:10_000, None], x[10_000:, None]], 16, 4)
    np.testing.assert_allclose(split, whole, atol=0.03)
    np.testing.assert_array_less(split[2:], 0.005)


def test_cao_e1_saturates_at_the_embedding_dimension(lorenz):
    sine = cao(_sine(50 * np.sqrt(2)), tau=17, max_dim=4)
    assert sine.e1[0] < 0.2
    np.testing.assert_allclose(sine.e1[1:], 1.0, atol=0.05)
    c = cao(lorenz[:, 0], tau=16, max_dim=5)
    assert c.e1[0] < 0.2 and c.e1[1] < 0.5  # m = 1, 2: still changing
    np.testing.assert_allclose(c.e1[2:], 1.0, atol=0.15)  # m >= 3: saturated
    assert c.e2[0] < 0.5  # deterministic: E2 far from 1


def test_cao_e2_of_noise_is_one():
    c = cao(np.random.default_rng(2).normal(size=20_000), tau=1, max_dim=5)
    np.testing.assert_allclose(c.e2, 1.0, atol=0.1)
    assert np.all(c.e1 < 0.9)  # and E1 keeps growing instead of saturating


def test_stop_at_ends_the_curve_at_the_first_qualifying_m():
    fnn = false_nearest_neighbours(_sine(50.3), 12, max_dim=6, stop_at=0.01)
    assert len(fnn) == 2 and fnn[1] <= 0.01
    c = cao(_sine(50.3), 12, max_dim=6, stop_at=0.85)
    assert len(c.e1) == 2 and c.e1[1] >= 0.85


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tau": 0}, "tau must be a positive integer"),
    ({"tau": 1, "max_dim": 0}, "max_dim must be a positive integer"),
    ({"tau": 1, "theiler": -1}, "theiler must be >= 0"),
    ({"tau": 50, "max_dim": 4}, "too few rows"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(InputError, match=match):
        false_nearest_neighbours(np.arange(200.0), **kwargs)
