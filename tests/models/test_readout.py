"""The ridge solve every readout model uses, and the shared delay / polynomial feature maps."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.models.features import (
    delay_vector,
    monomial_indices,
    polynomial_features,
    polynomial_size,
    sliding_windows,
    window_from_context,
)
from attractor.models.readout import ridge_solve, ridge_solve_streaming

METHODS = ["svd", "normal"]


def _data(k: int = 200, f: int = 7, n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(k, f)) * np.logspace(0, 3, f)  # very different column scales
    y = rng.normal(size=(k, n))
    return x, y


@pytest.mark.parametrize("method", METHODS)
def test_ridge_zero_is_least_squares(method: str) -> None:
    x, y = _data()
    expected = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(ridge_solve(x, y, 0.0, method=method), expected, rtol=1e-9)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ridge", [1e-6, 0.3, 50.0])
def test_ridge_matches_the_augmented_least_squares_problem(method: str, ridge: float) -> None:
    # min ||XW - Y||² + r ||W||²  ==  min ||[X; √r I] W - [Y; 0]||²
    x, y = _data()
    f = x.shape[1]
    aug_x = np.vstack([x, np.sqrt(ridge) * np.eye(f)])
    aug_y = np.vstack([y, np.zeros((f, y.shape[1]))])
    expected = np.linalg.lstsq(aug_x, aug_y, rcond=None)[0]
    np.testing.assert_allclose(ridge_solve(x, y, ridge, method=method), expected, rtol=1e-8)


def test_vector_targets_and_wide_problems() -> None:
    x, y = _data(k=5, f=9)  # fewer samples than features: minimum-norm solution
    w = ridge_solve(x, y[:, 0], 0.0, method="svd")
    assert w.shape == (9,)
    np.testing.assert_allclose(w, np.linalg.lstsq(x, y[:, 0], rcond=None)[0], atol=1e-10)


def test_rank_deficient_features_give_the_minimum_norm_solution() -> None:
    x, y = _data(f=4)
    x = np.hstack([x, x[:, :1]])  # a duplicated column
    expected = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(ridge_solve(x, y, 0.0, method="svd"), expected, rtol=1e-8)
    # the normal equations fall back to a pseudo-inverse instead of failing
    np.testing.assert_allclose(x @ ridge_solve(x, y, 0.0, method="normal"), x @ expected,
                               atol=1e-8)


def test_streaming_equals_one_solve() -> None:
    x, y = _data(k=300)
    chunks = [(x[:100], y[:100]), (x[100:250], y[100:250]), (x[250:], y[250:])]
    np.testing.assert_allclose(
        ridge_solve_streaming(chunks, 1e-3), ridge_solve(x, y, 1e-3, method="normal"), rtol=1e-9
    )


def test_ill_conditioned_polynomial_features_are_solved_accurately() -> None:
    # Monomials of delayed samples of a smooth signal: nearly collinear columns (cond ~ 4e16;
    # the normal equations leave a residual of ~2e-7 here, the SVD ~5e-15).
    t = np.linspace(0, 1, 400)
    s = np.stack([np.sin(3 * t), np.cos(2 * t)], 1)
    lin = np.hstack([s[1:], s[:-1]])
    x = polynomial_features(lin, 2, True, np)
    w_true = np.random.default_rng(1).normal(size=(x.shape[1], 2))
    y = x @ w_true
    w = ridge_solve(x, y, 0.0)  # auto: SVD for 15 features
    assert np.linalg.cond(x) > 1e8
    np.testing.assert_allclose(x @ w, y, atol=1e-9)


def test_bad_arguments_are_input_errors() -> None:
    x, y = _data()
    with pytest.raises(InputError, match="same K"):
        ridge_solve(x, y[:-1], 1.0)
    with pytest.raises(InputError, match="ridge"):
        ridge_solve(x, y, -1.0)
    with pytest.raises(InputError, match="method"):
        ridge_solve(x, y, 1.0, method="cholesky")
    x[3, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        ridge_solve(x, y, 1.0)


def test_polynomial_features_by_hand() -> None:
    v = np.array([2.0, 3.0])
    # [1, a, b, a², ab, b², a³, a²b, ab², b³]
    expected = [1, 2, 3, 4, 6, 9, 8, 12, 18, 27]
    np.testing.assert_array_equal(polynomial_features(v, 3, True, np), expected)
    assert polynomial_size(2, 3, True) == 10
    assert len(monomial_indices(6, 2)) == 21


def test_delay_vector_and_windows() -> None:
    x = np.arange(12.0).reshape(6, 2)  # rows [0,1], [2,3], ...
    windows = sliding_windows(x, 3)
    assert windows.shape == (4, 3, 2)
    np.testing.assert_array_equal(windows[1], x[1:4])
    # newest first, stride 2: x_t, x_{t-2}
    np.testing.assert_array_equal(delay_vector(windows[1], 2, 2, np), [6, 7, 2, 3])
    padded = np.asarray(window_from_context(x[:2], 4))
    np.testing.assert_array_equal(padded, [[0, 1], [0, 1], [0, 1], [2, 3]])
