"""Lyapunov spectra of models: exact for a linear model, and the comparison table."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from attractor.analysis import compare_lyapunov, model_lyapunov_spectrum
from attractor.models import build_model, make_config


def test_linear_model_spectrum_is_log_of_eigenvalue_moduli() -> None:
    """An AL-RNN without ReLU units (P = 0) is the linear map diag(A) + W: its exponents are
    log|eig| / dt."""
    model = build_model(make_config("alrnn", obs_dim=3, latent_dim=3, n_pwl=0),
                        key=jax.random.PRNGKey(0))
    import equinox as eqx

    w = jnp.array([[0.0, -0.3, 0.0], [0.3, 0.0, 0.0], [0.0, 0.0, 0.0]])
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (jnp.array([0.9, 0.9, 0.5]), w))
    dt = 0.5
    result = model_lyapunov_spectrum(model, np.ones((1, 3)), dt=dt, n_steps=2000, transient=100)
    # the float32 parameters, exactly, in float64
    a, w64 = np.asarray(model.A, np.float64), np.asarray(model.W, np.float64)
    lam = np.linalg.eigvals(np.diag(a) + w64)
    expected = np.sort(np.log(np.abs(lam)) / dt)[::-1]
    np.testing.assert_allclose(result.exponents, expected, atol=1e-9)


def test_comparison_with_the_system_table() -> None:
    model = build_model(make_config("shplrnn", obs_dim=3, hidden_dim=8), key=jax.random.PRNGKey(0))
    comp = compare_lyapunov(model, np.array([[0.1, 0.2, 0.3]]), system="lorenz63", dt=0.01,
                            n_steps=2000, transient=100)
    doc = comp.to_dict()
    assert len(doc["table"]) == 3 and doc["system"]["system"] == "lorenz63"
    assert doc["comparison"]["n_compared"] == 3
    assert np.isfinite(doc["comparison"]["kaplan_yorke_system"])
    rows = comp.rows()
    assert rows[0]["difference"] == rows[0]["model"] - rows[0]["system"]
