"""Prepared data in delay coordinates, and partial observation of a system."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.data import DelayEmbedding, delay_embed
from attractor.dsr.data import MIN_ROWS, embed_data, file_data, system_data
from attractor.errors import InputError


def test_embed_data_embeds_every_series_and_repeats_the_standardiser(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(5.0, 2.0, size=(400, 1)), rng.normal(5.0, 2.0, size=(600, 1))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    data = file_data([tmp_path / "a.npy", tmp_path / "b.npy"])
    e = DelayEmbedding(3, 4, 1)
    out = embed_data(data, e)
    assert [x.shape for x in out.train] == [(392, 3), (472, 3)] and out.test.shape == (112, 3)
    assert out.train[0].dtype == np.float32 and out.embedding == e
    np.testing.assert_allclose(out.train[0], delay_embed(data.train[0], 3, 4), atol=1e-6)
    raw_test = data.standardizer.inverse_transform(data.test)
    np.testing.assert_allclose(out.standardizer.transform(delay_embed(raw_test, 3, 4)), out.test,
                               atol=1e-12)  # raw data: embed, then standardise
    assert out.metadata()["embedding"] == e.to_dict() and "embedding" not in data.metadata()
    with pytest.raises(InputError, match="already delay-embedded"):
        embed_data(out, e)
    with pytest.raises(InputError, match=rf"test data: 120 rows .* fewer than {MIN_ROWS}"):
        embed_data(data, DelayEmbedding(2, 30, 1))


def test_system_data_observes_some_coordinates():
    full = system_data("lorenz63", n_train=500, n_test=200, seed=3, noise=0.0)
    x = system_data("lorenz63", n_train=500, n_test=200, seed=3, noise=0.0, observe=[0, 2])
    assert x.train[0].shape == (500, 2) and x.source["observe"] == [0, 2]
    np.testing.assert_allclose(x.test, full.test[:, [0, 2]], atol=1e-12)
    assert "observe" not in full.source  # old runs keep their fingerprint
    for bad in ([3], [], [0, 0], [True]):
        with pytest.raises(InputError, match="observe"):
            system_data("lorenz63", n_train=500, n_test=200, observe=bad)
