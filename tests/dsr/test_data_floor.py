"""The data floor of the Gaussian-mixture D_stsp: two stretches of the test series compared."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.dsr.evaluate import data_floor
from attractor.metrics.geometry import GMM_MAX_POINTS, state_space_divergence_gmm


def _cycle(n: int, n_dim: int = 6) -> np.ndarray:
    """A periodic series, exactly 100 samples a period, in ``n_dim`` dimensions."""
    t = np.arange(n) * (2 * np.pi / 100)
    return np.stack([np.sin((k + 1) * t + k) for k in range(n_dim)], axis=1)


def test_a_periodic_series_has_a_zero_floor() -> None:
    """Both stretches hold the same points, and the estimator's samples are shared: exactly 0."""
    assert data_floor(_cycle(2 * GMM_MAX_POINTS)) == pytest.approx(0.0, abs=1e-12)


def test_the_floor_compares_what_a_models_run_is_compared_on() -> None:
    """Rows 0..10 000 against T/2..T/2 + 10 000: the rows the estimator would take from the test
    series and from a run that reproduced its second half."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30_000, 8)).cumsum(axis=0) / 100.0  # non-stationary: halves differ
    expected = state_space_divergence_gmm(x, x[15_000:])
    assert data_floor(x) == pytest.approx(expected, rel=1e-12)
    assert expected > 0.1


@pytest.mark.parametrize("shape", [(40_000, 3), (19_998, 8)])
def test_no_floor_where_it_would_not_be_like_for_like(shape: tuple[int, int]) -> None:
    """Binned D_stsp (N < 6) uses every row, and a short series gives shorter stretches."""
    assert np.isnan(data_floor(np.zeros(shape)))
