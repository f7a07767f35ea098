"""Symbolic dynamics: symbol sequences, transition matrices and dwell times."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.analysis import symbolic_dynamics, symbolic_from_codes
from attractor.errors import InputError
from attractor.models import build_model, make_config


def test_counts_transitions_and_dwell_times_by_hand() -> None:
    sd = symbolic_from_codes(np.array([[0], [0], [1], [1], [1], [0]]))
    assert sd.regions == ["0", "1"]  # equal counts: ordered by code
    assert list(sd.symbols) == [0, 0, 1, 1, 1, 0]
    np.testing.assert_allclose(sd.transitions, [[0.5, 0.5], [1 / 3, 2 / 3]])
    assert sd.dwell[0] == {"mean": 1.5, "median": 1.5, "max": 2, "runs": 2}
    assert sd.dwell[1] == {"mean": 3.0, "median": 3.0, "max": 3, "runs": 1}
    doc = sd.to_dict()
    assert doc["n_regions"] == 2 and doc["frequencies"] == [0.5, 0.5]


def test_rows_are_stochastic_and_most_visited_first() -> None:
    codes = np.random.default_rng(0).integers(0, 2, (500, 3))
    codes[:300] = [1, 0, 1]
    sd = symbolic_from_codes(codes)
    assert sd.regions[0] == "101" and sd.counts[0] == sd.counts.max()
    np.testing.assert_allclose(sd.transitions.sum(axis=1), 1.0)
    only_last = symbolic_from_codes(np.array([[0], [0], [1]]))
    np.testing.assert_allclose(only_last.transitions[1], [0.0, 1.0])  # no outgoing: e_i


def test_planted_cycle_alternates_between_two_regions(planted_two_cycle) -> None:
    z = planted_two_cycle.rollout(jnp.array([0.0, 0.0, 0.9], jnp.float32), 400)[200:]
    sd = symbolic_dynamics(planted_two_cycle, z)
    assert sd.n_regions == 2
    np.testing.assert_allclose(sd.transitions, [[0.0, 1.0], [1.0, 0.0]])
    assert all(d["max"] == 1 for d in sd.dwell)


def test_smooth_models_are_refused() -> None:
    gru = build_model(make_config("gru", obs_dim=2), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="piecewise_linear"):
        symbolic_dynamics(gru, np.zeros((10, 2)))
