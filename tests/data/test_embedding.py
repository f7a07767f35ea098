"""Delay embedding: exact coordinates, the embedding record, and choosing τ and m."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from attractor.data import DelayEmbedding, Standardizer, choose_embedding, delay_embed
from attractor.errors import InputError


def test_delay_embed_exact_values_scalar():
    x = np.arange(10.0)
    y = delay_embed(x, 3, 2)
    assert y.shape == (6, 3)
    # row i is time t = i + 4: (x_t, x_{t-2}, x_{t-4})
    np.testing.assert_array_equal(y, np.stack([np.arange(4, 10), np.arange(2, 8),
                                               np.arange(0, 6)], axis=1))


def test_delay_embed_column_order_for_several_columns():
    t = np.arange(6.0)
    x = np.stack([t, 10 * t], axis=1)
    y = delay_embed(x, 2, 1)
    assert y.shape == (5, 4)
    # column k*d + j = coordinate j delayed by k*tau
    np.testing.assert_array_equal(y[0], [1, 10, 0, 0])
    np.testing.assert_array_equal(y[4], [5, 50, 4, 40])


@pytest.mark.parametrize(("m", "tau"), [(1, 1), (2, 5), (4, 3), (7, 1)])
def test_round_trip_recovers_the_series(m, tau):
    x = np.random.default_rng(0).normal(size=(60, 2))
    y = delay_embed(x, m, tau)
    w, d = (m - 1) * tau, 2
    assert y.shape == (60 - w, m * d)
    np.testing.assert_array_equal(y[:, :d], x[w:])  # first block: the series, shifted
    for k in range(m):
        np.testing.assert_array_equal(y[:, k * d : (k + 1) * d], x[w - k * tau : 60 - k * tau])
    # the oldest block's head and the newest block give back every row
    np.testing.assert_array_equal(np.concatenate([y[:w, -d:], y[:, :d]]), x)


@pytest.mark.parametrize(("m", "tau", "match"), [
    (0, 1, "m must be a positive integer"),
    (2, 0, "tau must be a positive integer"),
    (True, 1, "m must be a positive integer"),
    (2.0, 1, "m must be a positive integer"),
    (5, 3, "at most m=4 fits with tau=3"),
    (30, 1, "at most m=10 fits"),
])
def test_delay_embed_refuses_bad_settings(m, tau, match):
    with pytest.raises(InputError, match=match):
        delay_embed(np.arange(10.0), m, tau)


def test_delay_embed_min_rows_names_the_series():
    with pytest.raises(InputError, match=r"train: 20 rows .* fewer than 15; at most m=2"):
        delay_embed(np.arange(20.0), 3, 5, name="train", min_rows=15)
    assert delay_embed(np.arange(20.0), 2, 5, min_rows=15).shape == (15, 2)


def test_embedding_record_round_trips_through_json():
    e = DelayEmbedding(3, 17, 1, m_method="fnn", tau_method="acf-mi", scores=(0.9, 0.2, 0.01))
    back = DelayEmbedding.from_dict(json.loads(json.dumps(e.to_dict())))
    assert back == e
    assert (e.window, e.output_dim) == (34, 3)
    x = np.random.default_rng(1).normal(size=(100, 1))
    np.testing.assert_array_equal(e.apply(x), delay_embed(x, 3, 17))
    assert "m=3 (false nearest neighbours 0.9, 0.2, 0.01), tau=17" in e.describe()


@pytest.mark.parametrize("bad", [
    None, [], {"kind": "other", "m": 1, "tau": 1, "input_dim": 1},
    {"kind": "delay_embedding", "m": 2, "tau": 1},
    {"kind": "delay_embedding", "m": 0, "tau": 1, "input_dim": 1},
    {"kind": "delay_embedding", "m": 2, "tau": 1.5, "input_dim": 1},
    {"kind": "delay_embedding", "m": 2, "tau": 1, "input_dim": 1, "m_method": "magic"},
    {"kind": "delay_embedding", "m": 2, "tau": 1, "input_dim": 1, "scores": ["a"]},
])
def test_embedding_record_refuses_bad_dicts(bad):
    with pytest.raises(InputError, match="embedding"):
        DelayEmbedding.from_dict(bad)


def test_apply_checks_the_columns():
    with pytest.raises(InputError, match="data: 2 columns, but the delay embedding"):
        DelayEmbedding(2, 1, 1).apply(np.zeros((10, 2)), name="data")


def test_standardising_commutes_with_the_embedding():
    x = np.random.default_rng(2).normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(200, 2))
    e = DelayEmbedding(3, 4, 2)
    std = Standardizer().fit(x)
    np.testing.assert_allclose(e.standardizer(std).transform(e.apply(x)),
                               e.apply(std.transform(x)), atol=1e-12)


def _sine(period: float, t: int = 20_000) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(t) / period)


def test_choose_embedding_keeps_what_is_given():
    e = choose_embedding(_sine(40), m=4, tau=3)
    assert (e.m, e.tau, e.m_method, e.tau_method, e.scores) == (4, 3, "given", "given", ())


def test_choose_embedding_of_a_sine():
    e = choose_embedding(_sine(40))
    assert e.tau == math.floor(40 * math.acos(math.exp(-1)) / (2 * np.pi)) + 1  # ACF 1/e decay
    assert (e.m, e.m_method, e.tau_method) == (2, "fnn", "acf-mi")
    assert e.scores[0] > 0.3 and e.scores[1] <= 0.03
    assert choose_embedding(_sine(40), method="cao").m == 2


def test_choose_embedding_refuses_white_noise():
    x = np.random.default_rng(3).normal(size=20_000)
    with pytest.raises(InputError, match="no embedding dimension m <= 10 brings the false"):
        choose_embedding(x)


def test_choose_embedding_refuses_a_series_that_never_decorrelates():
    walk = np.cumsum(np.random.default_rng(4).normal(size=5_000))
    with pytest.raises(InputError, match="no delay found.* within 10 lags"):
        choose_embedding(walk, max_lag=10)


def test_choose_embedding_refuses_too_short_a_series():
    with pytest.raises(InputError, match="at most m=2 fits with tau=10"):
        choose_embedding(_sine(40, 115), m=3, tau=10, min_rows=100)
    with pytest.raises(InputError, match=r"m <= 1 \(all that 150 rows allow\)"):
        choose_embedding(_sine(40, 150), tau=30, min_rows=100)
    with pytest.raises(InputError, match="150 rows are too few for a delay embedding with m=2"):
        choose_embedding(_sine(40, 150), tau=60, min_rows=100)
