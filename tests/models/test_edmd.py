"""EDMD: exact recovery of a linear system's matrix and spectrum, lifted (Koopman) evolution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config

# A stable linear map with a complex pair 0.9 e^{±0.3i} and a real eigenvalue 0.5.
_ROT = 0.9 * np.array([[np.cos(0.3), -np.sin(0.3), 0], [np.sin(0.3), np.cos(0.3), 0], [0, 0, 0]])
_ROT[2, 2] = 0.5
_BASIS = np.array([[1.0, 0.2, 0.0], [0.3, 1.0, 0.1], [0.0, 0.4, 1.0]])
A = _BASIS @ _ROT @ np.linalg.inv(_BASIS)
EIGS = np.array([0.9 * np.exp(0.3j), 0.9 * np.exp(-0.3j), 0.5])


def _edmd(**kw):
    return build_model(make_config("edmd", obs_dim=3, **kw), key=jax.random.PRNGKey(0))


def _orbits(b: np.ndarray | None = None, n: int = 60) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(4):
        x = np.empty((n, 3))
        x[0] = rng.normal(size=3)
        for t in range(n - 1):
            x[t + 1] = A @ x[t] + (0.0 if b is None else b)
        out.append(x)
    return out


def _sorted(ev: np.ndarray) -> np.ndarray:
    return ev[np.lexsort((ev.imag, ev.real))]


def test_recovers_a_linear_systems_matrix_and_eigenvalues() -> None:
    with float64():
        model = _edmd(constant=False).fit_readout(_orbits(), 0.0)
        np.testing.assert_allclose(np.asarray(model.koopman_matrix()), A, atol=1e-10)
        np.testing.assert_allclose(_sorted(model.eigenvalues()), _sorted(EIGS), atol=1e-10)
        # the free run is the linear system's orbit
        x = _orbits()[0]
        np.testing.assert_allclose(np.asarray(model.forecast(jnp.asarray(x[:5]), 20)),
                                   x[5:25], atol=1e-10)


def test_affine_system_with_the_constant_observable() -> None:
    b = np.array([0.5, -1.0, 0.2])
    with float64():
        model = _edmd().fit_readout(_orbits(b), 0.0)
        k = np.asarray(model.koopman_matrix())
        ev = model.eigenvalues()
    np.testing.assert_array_equal(k[0], [1, 0, 0, 0])  # the constant is not fitted
    np.testing.assert_allclose(k[1:, 0], b, atol=1e-9)
    np.testing.assert_allclose(k[1:, 1:], A, atol=1e-9)
    np.testing.assert_allclose(_sorted(ev), _sorted(np.r_[EIGS, 1.0]), atol=1e-9)


def test_quadratic_dictionary_of_a_linear_system_is_exactly_closed() -> None:
    # For x' = A x the products x_i x_j evolve linearly too: K's spectrum is {λ_i} ∪ {λ_i λ_j}.
    with float64():
        model = _edmd(constant=False, quadratic=True).fit_readout(_orbits(n=80), 0.0)
        ev = model.eigenvalues()
    products = [EIGS[i] * EIGS[j] for i in range(3) for j in range(i, 3)]
    assert ev.shape == (9,)
    np.testing.assert_allclose(_sorted(ev), _sorted(np.r_[EIGS, products]), atol=1e-8)


def test_delays_and_state() -> None:
    model = _edmd(delays=3)
    assert model.config.dictionary_size == 1 + 9 and model.context_length == 3
    context = jnp.arange(12.0).reshape(4, 3)
    state = model.init_state(context)
    np.testing.assert_array_equal(state, [1, 9, 10, 11, 6, 7, 8, 3, 4, 5])
    np.testing.assert_array_equal(model.observe(state), context[-1])
    with pytest.raises(InputError, match="at least 4"):
        model.fit_readout([np.zeros((3, 3))], 1e-6)
