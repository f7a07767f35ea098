"""Standardizer: statistics, transforms, constant columns and JSON round trip."""

from __future__ import annotations

import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.data import Standardizer, TimeSeriesDataset
from attractor.errors import InputError


def _data(seed: int = 0, t: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(t, 3)) * np.array([0.5, 2.0, 10.0]) + np.array([1.0, -3.0, 100.0])


def test_fit_gives_pooled_mean_and_population_std():
    x = _data()
    s = Standardizer().fit(x)
    np.testing.assert_allclose(s.mean_, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(s.std_, x.std(axis=0, ddof=0), rtol=1e-14)
    z = s.transform(x)
    assert z.dtype == np.float64
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-13)


def test_several_trajectories_are_pooled_row_by_row():
    a, b = _data(1, 50), _data(2, 150)
    pooled = Standardizer().fit([a, b])
    np.testing.assert_allclose(pooled.mean_, np.concatenate([a, b]).mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(pooled.std_, np.concatenate([a, b]).std(axis=0), rtol=1e-13)
    # not the mean of per-trajectory means (which would weight the short one 3x more)
    assert not np.allclose(pooled.mean_, (a.mean(axis=0) + b.mean(axis=0)) / 2)
    ds = TimeSeriesDataset.from_arrays([a, b])
    np.testing.assert_array_equal(Standardizer().fit(ds).mean_, pooled.mean_)
    out = pooled.transform(ds)
    assert isinstance(out, TimeSeriesDataset) and out.lengths == (50, 150)
    listed = pooled.transform([a, b])
    assert isinstance(listed, list)
    np.testing.assert_allclose(listed[1], (b - pooled.mean_) / pooled.std_)


def test_batched_arrays_broadcast_over_last_axis():
    x = _data()
    s = Standardizer().fit(x)
    stack = np.stack([x[:100], x[100:]])
    np.testing.assert_allclose(s.transform(stack)[1], s.transform(x[100:]))


def test_constant_column_is_an_error_naming_it():
    x = _data()
    x[:, 1] = 5.0
    with pytest.raises(InputError) as info:
        Standardizer().fit(x)
    assert "column 1 (value 5) is constant" in str(info.value)
    assert "allow_constant=True" in str(info.value)
    # constant up to float rounding counts as constant too
    x[:, 1] = 0.1 + np.zeros(200)
    with pytest.raises(InputError, match="column 1"):
        Standardizer().fit(x)


def test_allow_constant_centres_and_warns():
    x = _data()
    x[:, 0] = -2.0
    with pytest.warns(UserWarning, match="column 0"):
        s = Standardizer(allow_constant=True).fit(x)
    assert s.std_[0] == 1.0
    np.testing.assert_array_equal(s.transform(x)[:, 0], 0.0)


def test_small_but_varying_columns_are_not_constant():
    x = _data() * 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Standardizer().fit(x)
    np.testing.assert_allclose(s.transform(x).std(axis=0), 1.0, rtol=1e-10)


def test_json_round_trip_is_exact():
    s = Standardizer().fit(_data())
    d = json.loads(json.dumps(s.to_dict()))
    assert d["kind"] == "standardizer"
    t = Standardizer.from_dict(d)
    np.testing.assert_array_equal(t.mean_, s.mean_)
    np.testing.assert_array_equal(t.std_, s.std_)
    assert t.mean_.dtype == np.float64


@pytest.mark.parametrize(
    ("d", "part"),
    [
        ([1, 2], "expected a dict"),
        ({"kind": "minmax", "mean": [0.0], "std": [1.0]}, "kind is 'minmax'"),
        ({"mean": [0.0]}, "missing key(s) std"),
        ({"mean": [0.0, 1.0], "std": [1.0]}, "equal length"),
        ({"mean": [0.0], "std": [0.0]}, "std of column 0 is 0.0, must be > 0"),
        ({"mean": [float("nan")], "std": [1.0]}, "finite"),
        ({"mean": ["a"], "std": [1.0]}, "lists of numbers"),
    ],
)
def test_from_dict_rejects_bad_input(d, part):
    with pytest.raises(InputError) as info:
        Standardizer.from_dict(d)
    assert part in str(info.value)


def test_usage_errors():
    with pytest.raises(InputError, match="not fitted"):
        Standardizer().transform(np.zeros((3, 2)))
    s = Standardizer().fit(_data())
    with pytest.raises(InputError, match=r"expected 3 columns .* got shape \(4, 2\)"):
        s.transform(np.zeros((4, 2)))
    with pytest.raises(InputError, match="NaN at row 1"):
        Standardizer().fit([0.0, np.nan, 1.0])
    with pytest.raises(InputError, match="at least 2 rows"):
        Standardizer().fit(np.ones((1, 2)))


def test_jax_arrays_keep_their_dtype_and_work_under_jit():
    x = _data()
    s = Standardizer().fit(x)
    xj = jnp.asarray(x, dtype=jnp.float32)
    z = jax.jit(s.transform)(xj)
    assert isinstance(z, jax.Array) and z.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(z), s.transform(x), rtol=1e-5, atol=1e-5)
    back = jax.jit(s.inverse_transform)(z)
    np.testing.assert_allclose(np.asarray(back), x, rtol=1e-5, atol=1e-4)
