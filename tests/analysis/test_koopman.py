"""EDMD, ResDMD residuals and pseudospectra: exact cases and the circle rotation."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.analysis import (
    RBF,
    Polynomial,
    RandomFourier,
    TimeDelay,
    kernel_edmd,
    koopman_spectrum,
    snapshot_pairs,
    verified_kernel_edmd,
)
from attractor.errors import InputError

A = np.array([[0.9, -0.2, 0.0], [0.2, 0.9, 0.0], [0.0, 0.1, 0.5]])  # eigenvalues 0.9 ± 0.2i, 0.5


def _linear_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).normal(size=(n, 3))
    return x, x @ A.T


def _sorted(values: np.ndarray) -> np.ndarray:
    return np.asarray(sorted(np.round(values, 9), key=lambda v: (v.real, v.imag)))


def test_edmd_of_a_linear_system_is_exact() -> None:
    x, y = _linear_data()
    lam = np.linalg.eigvals(A)
    linear = koopman_spectrum(x, y, Polynomial(order=1, constant=False))
    np.testing.assert_allclose(_sorted(linear.eigenvalues), _sorted(lam), atol=1e-10)
    assert np.all(linear.verified) and linear.residuals.max() < 1e-10
    # polynomials of degree 2 are invariant too: eigenvalues 1, λ_i and all products λ_i λ_j
    quad = koopman_spectrum(x, y, Polynomial(order=2))
    expected = [1.0, *lam, *(lam[i] * lam[j] for i in range(3) for j in range(i, 3))]
    np.testing.assert_allclose(_sorted(quad.eigenvalues), _sorted(np.array(expected)), atol=1e-9)
    assert quad.residuals.max() < 1e-9


def _rotation(omega: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    embed = lambda t: np.stack([np.cos(t), np.sin(t)], axis=1)  # noqa: E731
    return embed(theta), embed(theta + omega)


def test_resdmd_verifies_the_rotation_and_flags_spurious_eigenvalues() -> None:
    """Rotation of the circle by ω: Koopman eigenvalues e^{ikω} (eigenfunctions e^{ikθ}). An RBF
    dictionary is not invariant, so EDMD also returns spurious eigenvalues; ResDMD keeps the true
    low-frequency ones as verified and flags the others."""
    omega = 1.0
    x, y = _rotation(omega, 3000, 0)
    fit_x, _ = _rotation(omega, 3000, 1)
    spec = koopman_spectrum(x, y, RBF(n_centers=40, width=0.5), epsilon=1e-3, fit_on=fit_x)
    for k in range(-2, 3):
        target = np.exp(1j * k * omega)
        i = int(np.argmin(np.abs(spec.eigenvalues - target)))
        assert abs(spec.eigenvalues[i] - target) < 1e-4 and spec.verified[i], k
    assert np.any(~spec.verified)
    # every verified eigenvalue lies within ε of the spectrum (the unit circle: the operator is
    # unitary); the residual bounds the distance to the spectrum for normal operators
    ok = spec.verified
    assert np.all(np.abs(np.abs(spec.eigenvalues[ok]) - 1) <= spec.residuals[ok] + 1e-9)
    # the pseudospectrum is a lower envelope of the residuals: τ(λ_j) <= res_j
    lam = spec.eigenvalues[:10]
    tau = np.array([spec.pseudospectrum([v.real], [v.imag])[0, 0] for v in lam])
    assert np.all(tau <= spec.residuals[:10] + 1e-7)
    # far from the circle the pseudospectrum is large
    assert spec.pseudospectrum([0.0], [0.0])[0, 0] > 0.5


def test_kernel_dictionaries_on_the_rotation() -> None:
    omega = 0.7
    train, test = _rotation(omega, 200, 2), _rotation(omega, 1000, 3)
    spec = verified_kernel_edmd(train, test, rank=20, epsilon=1e-3)
    target = np.exp(1j * omega)
    i = int(np.argmin(np.abs(spec.eigenvalues - target)))
    assert abs(spec.eigenvalues[i] - target) < 1e-3 and spec.verified[i]
    raw = kernel_edmd(*train, rank=20)
    assert np.min(np.abs(raw - target)) < 1e-3
    fourier = koopman_spectrum(*test, RandomFourier(n_features=30, seed=1), fit_on=train[0])
    assert fourier.rank <= 31 and np.isfinite(fourier.residuals).all()


def test_time_delay_pairs() -> None:
    traj = np.arange(20.0)[:, None]
    x, y = TimeDelay(Polynomial(order=1), delays=3, stride=2).pairs(traj)
    np.testing.assert_array_equal(x[0], [4.0, 2.0, 0.0])
    np.testing.assert_array_equal(y[0], [5.0, 3.0, 1.0])
    assert len(x) == 20 - 5  # 16 windows of 5 rows, 15 pairs
    x1, y1 = snapshot_pairs([traj, traj])
    assert x1.shape == (38, 1) and np.all(y1 - x1 == 1)


def test_bad_inputs() -> None:
    x, y = _linear_data(20)
    with pytest.raises(InputError, match="same shape"):
        koopman_spectrum(x, y[:-1], Polynomial())
    with pytest.raises(InputError, match="fit"):
        RBF()(x)
    with pytest.raises(InputError, match="epsilon"):
        koopman_spectrum(x, y, Polynomial(), epsilon=0)
