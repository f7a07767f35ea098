"""ParaGRU / ParaLSTM: the analytic structured Jacobians are the true ones, restricted to the
structure the time-parallel solver scans; the recurrence of the cell state is exactly that."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.models import build_model, make_config

OBS, HIDDEN = 3, 6


def _model(name: str):
    model = build_model(make_config(name, obs_dim=OBS, hidden_dim=HIDDEN),
                        key=jax.random.PRNGKey(0))
    leaves, treedef = jax.tree_util.tree_flatten(model)
    keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
    moved = [jnp.asarray(v + 0.3 * jax.random.normal(k, v.shape), jnp.float64)
             for v, k in zip(leaves, keys, strict=True)]
    return jax.tree_util.tree_unflatten(treedef, moved)


@pytest.mark.parametrize("name", ["paragru", "paralstm"])
def test_structured_jacobian_is_the_true_one(name: str) -> None:
    with float64():
        model = _model(name)
        z = jax.random.normal(jax.random.PRNGKey(2), (OBS + model.state_size,), jnp.float64)
        v = jax.random.normal(jax.random.PRNGKey(3), z.shape, jnp.float64)

        @eqx.filter_jit
        def compute(m, z, v):
            transposed = m.jacobian_transpose_apply(m.jacobian_factors(z), v)
            return m.jacobian(z), m.structured_jacobian(z), transposed

        dense, structured, transposed = compute(model, z, v)
        dense = np.asarray(dense)
        kept = np.asarray(model.jacobian_structure().to_dense(structured))
        # the cell block is exactly what the structure keeps: no unit depends on another
        cell = dense[OBS:, OBS:]
        np.testing.assert_allclose(kept[OBS:, OBS:], cell, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.diagonal(kept)[:OBS], np.diagonal(dense)[:OBS], rtol=1e-12)
        per_unit = 4 if name == "paralstm" else 1  # 2 x 2 blocks / diagonal
        assert np.count_nonzero(cell) <= per_unit * model.config.hidden_dim
        # the adjoint's transpose product
        np.testing.assert_allclose(transposed, dense.T @ v, rtol=1e-12)
