"""D_stsp: exact zeros, hand-computed histograms, pitfalls of other ports, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.metrics import (
    state_space_divergence,
    state_space_divergence_binned,
    state_space_divergence_gmm,
)

EPS = 1e-5
NOISE_LEVELS = (0.0, 0.1, 0.3, 1.0)


def sinusoid_mixture(n_dim: int, n_steps: int = 4000) -> np.ndarray:
    """Standardised quasi-periodic signal with a nonlinear coupling, (n_steps, n_dim)."""
    t = np.arange(n_steps) * 0.05
    freqs = np.linspace(0.7, 2.3, n_dim)
    x = np.sin(freqs[None, :] * t[:, None] + np.linspace(0.0, 2.0, n_dim)[None, :])
    x[:, 0] += 0.5 * np.sin(0.31 * t) * x[:, -1]
    return (x - x.mean(0)) / x.std(0)


def kl_from_counts(h_true: np.ndarray, h_gen: np.ndarray) -> float:
    """The GTF formula on explicit (dense) histograms."""
    n_cells = h_true.size
    p = (h_true + EPS) / (h_true.sum() + EPS * n_cells)
    q = (h_gen + EPS) / (h_gen.sum() + EPS * n_cells)
    return float(np.sum(p * np.log(p / q)))


def test_identical_inputs_give_exactly_zero():
    x = sinusoid_mixture(3)
    assert state_space_divergence_binned(x, x.copy()) == 0.0
    x8 = sinusoid_mixture(8, 1000)
    assert state_space_divergence_gmm(x8, x8.copy()) == 0.0


def test_hand_computed_two_points_two_bins():
    # x_true = [0, 1]: sigma = 0.5, range [-0.05, 1.05], bins split at 0.5 -> one point per bin.
    # x_gen = [0, 0]: both points in bin 0.
    got = state_space_divergence_binned([0.0, 1.0], [0.0, 0.0], n_bins=2)
    p = 0.5  # (1 + e) / (2 + 2e)
    q0, q1 = (2 + EPS) / (2 + 2 * EPS), EPS / (2 + 2 * EPS)
    expected = p * np.log(p / q0) + p * np.log(p / q1)
    assert got == pytest.approx(expected, rel=1e-12)
    assert expected > 5.0  # the e-smoothing makes an empty generated bin expensive


def test_point_at_minimum_is_counted_in_bin_zero():
    # margin 0: the range is exactly [0, 3]; points at 0 and 3 sit on the outer edges.
    x_true = np.array([0.0, 1.0, 2.0, 3.0])
    expected = kl_from_counts(np.ones(4), np.array([4.0, 0, 0, 0]))
    got_min = state_space_divergence_binned(x_true, np.zeros(4), n_bins=4, margin=0.0)
    got_max = state_space_divergence_binned(x_true, np.full(4, 3.0), n_bins=4, margin=0.0)
    assert got_min == pytest.approx(expected, rel=1e-12)
    assert got_max == pytest.approx(expected, rel=1e-12)
    # and bin 0 of the true data is counted too: identical data is exactly 0, not nan
    assert state_space_divergence_binned(x_true, x_true, n_bins=4, margin=0.0) == 0.0


def test_counts_above_uint16_do_not_overflow():
    n_big = 70_000  # > 65535 in one bin
    x_true = np.concatenate([np.zeros(n_big), np.ones(n_big)])
    x_gen = np.concatenate([np.zeros(n_big), np.ones(10_000)])
    got = state_space_divergence_binned(x_true, x_gen, n_bins=2)
    expected = kl_from_counts(np.array([n_big, n_big]), np.array([n_big, 10_000]))
    wrapped = kl_from_counts(np.array([n_big % 65536] * 2), np.array([n_big % 65536, 10_000]))
    assert got == pytest.approx(expected, rel=1e-12)
    assert abs(got - wrapped) > 0.1


def test_sparse_sum_matches_dense_histogram():
    rng = np.random.default_rng(0)
    x_true = rng.standard_normal((3000, 2))
    x_gen = 1.3 * rng.standard_normal((2500, 2)) + 0.2
    n_bins = 12
    sd = x_true.std(0)
    edges = [
        np.linspace(x_true[:, d].min() - 0.1 * sd[d], x_true[:, d].max() + 0.1 * sd[d], n_bins + 1)
        for d in range(2)
    ]
    h_true, _ = np.histogramdd(x_true, bins=edges)
    h_gen, _ = np.histogramdd(x_gen, bins=edges)  # drops points outside, like ours
    expected = kl_from_counts(h_true, h_gen)
    got = state_space_divergence_binned(x_true, x_gen, n_bins=n_bins)
    assert got == pytest.approx(expected, rel=1e-10)


def test_out_of_range_and_nonfinite_generated_points_are_dropped():
    x_true = np.array([0.0, 1.0, 2.0, 3.0])
    x_gen = np.array([0.0, 1.0])
    base = state_space_divergence_binned(x_true, x_gen, n_bins=4)
    polluted = np.array([0.0, 1.0, 100.0, -50.0, np.nan, np.inf])
    assert state_space_divergence_binned(x_true, polluted, n_bins=4) == pytest.approx(base)
    assert np.isnan(state_space_divergence_binned(x_true, [100.0, 200.0], n_bins=4))
    assert np.isnan(state_space_divergence_binned(x_true, [np.nan, np.nan], n_bins=4))


def test_binned_grows_monotonically_with_corruption():
    x = sinusoid_mixture(3)
    noise = np.random.default_rng(1).standard_normal(x.shape)
    d = [state_space_divergence_binned(x, x + s * noise) for s in NOISE_LEVELS]
    assert d[0] == 0.0
    assert np.all(np.diff(d) > 0), d


def test_gmm_grows_monotonically_with_corruption():
    x = sinusoid_mixture(8, 2000)
    noise = np.random.default_rng(2).standard_normal(x.shape)
    d = [state_space_divergence_gmm(x, x + s * noise) for s in NOISE_LEVELS]
    assert d[0] == 0.0
    assert np.all(np.diff(d) > 0), d


@pytest.mark.parametrize("variance", [1.0, 0.5])
def test_gmm_single_gaussians_match_closed_form(variance):
    # one component each: KL(N(0, s2) || N(d, s2)) = d^2 / (2 s2)
    d = 2.0
    got = state_space_divergence_gmm([[0.0]], [[d]], scaling=variance, n_samples=20_000)
    assert got == pytest.approx(d**2 / (2 * variance), rel=0.03)


def test_gmm_mixture_weights_use_each_trajectorys_length():
    # the same two-point mixture, with each point repeated: same distribution
    x_true = np.array([[0.0], [3.0]])
    x_gen = np.array([[0.0], [0.0], [3.0], [3.0]])
    assert state_space_divergence_gmm(x_true, x_gen) == pytest.approx(0.0, abs=1e-12)
    # unequal weights are seen: q puts 3/4 of its mass at 0
    lopsided = np.array([[0.0], [0.0], [0.0], [3.0]])
    assert state_space_divergence_gmm(x_true, lopsided, n_samples=5000) > 0.05


def test_gmm_far_away_generated_orbit_is_finite_and_large():
    # the reference drops underflowing samples; log-space evaluation keeps them
    x = sinusoid_mixture(6, 500)
    got = state_space_divergence_gmm(x, x + 50.0)
    assert np.isfinite(got) and got > 1000.0


def test_gmm_is_deterministic_in_seed_and_uses_max_points():
    x = sinusoid_mixture(6, 800)
    y = x + 0.3 * np.random.default_rng(3).standard_normal(x.shape)
    a = state_space_divergence_gmm(x, y, seed=5)
    assert a == state_space_divergence_gmm(x, y, seed=5)
    assert a != state_space_divergence_gmm(x, y, seed=6)
    # only the first max_points rows enter: the tail cannot change the value
    y_tail = y.copy()
    y_tail[500:] += 100.0
    assert state_space_divergence_gmm(x, y_tail, max_points=500, seed=5) == pytest.approx(
        state_space_divergence_gmm(x, y, max_points=500, seed=5)
    )
    # with all 800 rows, q keeps only 5/8 of its mass near the data: KL ≈ a + log(8/5)
    assert state_space_divergence_gmm(x, y_tail, seed=5) == pytest.approx(
        a + np.log(8 / 5), abs=0.03
    )
    assert np.isnan(state_space_divergence_gmm(x, np.full_like(x, np.nan)))


def test_dispatch_by_dimension_and_refusal_of_binning_in_high_dimension():
    x3 = sinusoid_mixture(3, 800)
    y3 = x3 + 0.2
    assert state_space_divergence(x3, y3) == state_space_divergence_binned(x3, y3)
    x6 = sinusoid_mixture(6, 800)
    y6 = x6 + 0.2
    assert state_space_divergence(x6, y6) == state_space_divergence_gmm(x6, y6)
    with pytest.raises(InputError, match="gmm"):
        state_space_divergence_binned(x6, y6)


def test_bad_input_is_refused():
    x = sinusoid_mixture(2, 100)
    with pytest.raises(InputError, match="x_true"):
        state_space_divergence_binned(np.full((10, 2), np.nan), x)
    with pytest.raises(InputError, match="dimensions"):
        state_space_divergence_binned(x, x[:, :1])
    with pytest.raises(InputError, match="scaling"):
        state_space_divergence_gmm(x, x, scaling=0.0)
