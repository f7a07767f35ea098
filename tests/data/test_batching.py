"""SubsequenceSampler: windows inside one trajectory, determinism, jit, uniformity, noise."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from attractor.data import SubsequenceSampler, TimeSeriesDataset
from attractor.errors import InputError


def _labelled(lengths: tuple[int, ...], dim: int = 2) -> list[np.ndarray]:
    """Trajectory i has column 0 = 1000 * i + t and column 1 = -t, so a row tells where it is."""
    out = []
    for i, n in enumerate(lengths):
        t = np.arange(n, dtype=np.float64)
        cols = [1000.0 * i + t, -t] + [np.full(n, float(j)) for j in range(2, dim)]
        out.append(np.stack(cols, axis=1))
    return out


def test_shape_dtype_and_windows_are_contiguous_inside_one_trajectory():
    series = _labelled((40, 7, 25))
    sampler = SubsequenceSampler(series, seq_len=10)
    batch = np.asarray(sampler.sample(jax.random.PRNGKey(0), 256))
    assert batch.shape == (256, 10, 2) and batch.dtype == np.float32
    traj = np.floor(batch[:, :, 0] / 1000.0)
    assert (traj == traj[:, :1]).all()  # never crosses a boundary
    assert set(np.unique(traj[:, 0])) == {0.0, 2.0}  # trajectory 1 (7 rows) is too short
    t = batch[:, :, 0] - 1000.0 * traj
    np.testing.assert_array_equal(np.diff(t, axis=1), 1.0)  # consecutive time steps
    np.testing.assert_array_equal(batch[:, :, 1], -t)
    assert sampler.skipped == (1,)
    assert sampler.n_windows == (40 - 10 + 1) + (25 - 10 + 1)


def test_same_key_same_batch_and_starts_match():
    sampler = SubsequenceSampler(_labelled((100,)), seq_len=5)
    key = jax.random.PRNGKey(42)
    a, b = sampler.sample(key, 16), sampler.sample(key, 16)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    c = sampler.sample(jax.random.PRNGKey(43), 16)
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    starts = np.asarray(sampler.sample_starts(key, 16))
    np.testing.assert_array_equal(np.asarray(a)[:, 0, 0], starts.astype(np.float32))


def test_jit_and_vmap_agree_with_eager():
    sampler = SubsequenceSampler(_labelled((60, 30)), seq_len=8)
    key = jax.random.PRNGKey(3)
    eager = np.asarray(sampler.sample(key, 12))
    closed = np.asarray(jax.jit(lambda k: sampler.sample(k, 12))(key))
    as_arg = np.asarray(jax.jit(lambda s, k: s.sample(k, 12))(sampler, key))
    np.testing.assert_array_equal(closed, eager)
    np.testing.assert_array_equal(as_arg, eager)
    keys = jax.random.split(key, 4)
    many = np.asarray(jax.vmap(lambda k: sampler.sample(k, 12))(keys))
    assert many.shape == (4, 12, 8, 2)
    np.testing.assert_array_equal(many[1], np.asarray(sampler.sample(keys[1], 12)))
    leaves, treedef = jax.tree_util.tree_flatten(sampler)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    np.testing.assert_array_equal(np.asarray(rebuilt.sample(key, 12)), eager)


def test_every_window_is_reachable_and_draws_are_uniform_over_windows():
    lengths, seq_len = (10, 30), 5  # 6 and 26 windows
    sampler = SubsequenceSampler(_labelled(lengths), seq_len=seq_len)
    starts = np.asarray(sampler.sample_starts(jax.random.PRNGKey(0), 64_000))
    counts = np.bincount(starts, minlength=40)
    valid = np.r_[np.arange(0, 6), 10 + np.arange(0, 26)]
    assert set(np.flatnonzero(counts)) == set(valid.tolist())  # incl. the last window of each
    expected = 64_000 / 32
    assert np.all(np.abs(counts[valid] - expected) < 5 * np.sqrt(expected))
    frac_first = counts[:10].sum() / 64_000
    assert abs(frac_first - 6 / 32) < 0.01


def test_series_weighting_picks_trajectories_uniformly():
    sampler = SubsequenceSampler(_labelled((10, 30)), seq_len=5, weighting="series")
    starts = np.asarray(sampler.sample_starts(jax.random.PRNGKey(1), 40_000))
    assert abs((starts < 10).mean() - 0.5) < 0.01
    inner = np.bincount(starts[starts < 10], minlength=6)
    assert inner[:6].min() > 0 and inner[6:].sum() == 0


def test_full_length_window_and_dataset_input():
    x = np.random.default_rng(0).normal(size=(12, 3))
    sampler = SubsequenceSampler(TimeSeriesDataset.from_arrays(x), seq_len=12)
    batch = np.asarray(sampler.sample(jax.random.PRNGKey(0), 5))
    for b in batch:
        np.testing.assert_array_equal(b, x.astype(np.float32))


def test_too_short_message_and_argument_checks():
    with pytest.raises(InputError) as info:
        SubsequenceSampler([np.zeros((5, 2)), np.zeros((7, 2))], seq_len=10)
    assert str(info.value) == (
        "series too short for the sequence length: longest series has 7 rows, need 10"
    )
    sampler = SubsequenceSampler(np.zeros((20, 2)), seq_len=4)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError, match="batch_size"):
            sampler.sample(jax.random.PRNGKey(0), bad)
    with pytest.raises(InputError, match="seq_len"):
        SubsequenceSampler(np.zeros((20, 2)), seq_len=0)
    with pytest.raises(InputError, match="weighting"):
        SubsequenceSampler(np.zeros((20, 2)), seq_len=2, weighting="time")
    with pytest.raises(InputError, match="noise_std"):
        sampler.sample(jax.random.PRNGKey(0), 2, noise_std=-0.1)
    bad = np.zeros((9, 2))
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match=r"^array\[1\]: NaN at row 3 \(column 1\)$"):
        SubsequenceSampler([np.zeros((20, 2)), bad], seq_len=4)


def test_noise_is_gaussian_with_the_given_std_and_keeps_the_windows():
    sampler = SubsequenceSampler(_labelled((500,)), seq_len=20)
    key = jax.random.PRNGKey(7)
    clean = np.asarray(sampler.sample(key, 200))
    noisy = np.asarray(sampler.sample(key, 200, noise_std=0.1))
    diff = (noisy - clean).ravel()
    assert abs(diff.std() - 0.1) < 0.005 and abs(diff.mean()) < 0.005
    assert np.abs(diff).max() < 1.0  # same windows: only the noise differs
    traced = jax.jit(lambda k, s: sampler.sample(k, 200, noise_std=s))(key, 0.1)
    np.testing.assert_allclose(np.asarray(traced), noisy, rtol=1e-6, atol=1e-6)
