"""Koopman spectra with residuals: EDMD, kernel EDMD and ResDMD (Colbrook & Townsend, CPAM 2023,
"Rigorous data-driven computation of spectral properties of Koopman operators for dynamical
systems", arXiv 2111.14889).

Data: snapshot pairs ``(x_m, y_m = F(x_m))``, quadrature weights ``w_m`` (``1/M`` for samples
along an ergodic trajectory), a dictionary ``ψ_1..ψ_N`` (:mod:`attractor.analysis.dictionaries`),
``Ψ_X = [ψ_j(x_m)]``, ``Ψ_Y = [ψ_j(y_m)]``, ``W = diag(w)``.

- **EDMD** (Williams, Kevrekidis & Rowley 2015): ``K = argmin ‖W^½(Ψ_X K − Ψ_Y)‖ = G^+ A`` with
  ``G = Ψ_X^* W Ψ_X``, ``A = Ψ_X^* W Ψ_Y``; eigenpairs ``K c = λ c`` give candidate eigenfunctions
  ``g = Ψ c``. We solve it in the orthonormalised basis of a truncated SVD
  ``W^½ Ψ_X = U Σ V^*`` (singular values below ``rcond σ_max`` dropped: redundant dictionaries
  are fine): ``B = W^½ Ψ_Y V Σ^{-1}``, ``K̃ = U^* B``, ``c = V Σ^{-1} u``.
- **Residual** of an eigenpair (ResDMD):
  ``res(λ, g)² = c^*(L − λA^* − λ̄A + |λ|²G)c / c^*Gc = ‖W^½(Ψ_Y − λΨ_X)c‖² / ‖W^½Ψ_X c‖²``
  (``L = Ψ_Y^* W Ψ_Y``), which converges to ``‖(𝒦 − λ)g‖ / ‖g‖`` as ``M → ∞``. We evaluate the
  right-hand form, ``‖(B − λU)u‖ / ‖u‖``, which avoids the cancellation of the quadratic form.
  Eigenpairs with ``res <= ε`` are **verified**; the others are flagged **unverified**
  (Algorithm 1: removes spectral pollution). No eigenvalue is reported without its residual.
- **Pseudospectrum**: ``τ_N(z) = min_c res(z, Ψc)``, the square root of the smallest eigenvalue of
  ``B^*B − z B^*U − z̄ U^*B + |z|² I``; ``{z : τ_N(z) < ε}`` lies inside the true
  ε-pseudospectrum (no pollution) and converges to it as ``N`` grows (their Theorem 4.1).
- **Kernel EDMD** (Williams, Rowley & Kevrekidis, J. Comput. Dyn. 2:247, 2015): with Gram
  matrices ``Ĝ = k(X, X) = Q S² Q^T`` and ``Â = k(Y, X)``, ``K̂ = (S^+ Q^T) Â (Q S^+)``. Its
  eigenvalues come without residuals; Colbrook & Townsend's recipe is to take the span of its
  eigenfunctions as the dictionary (:class:`~attractor.analysis.dictionaries.KernelFeatures`) and
  verify with ResDMD on other data, which :func:`kernel_edmd` does when given held-out pairs.

Everything is float64 NumPy (no JAX global flag involved).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from attractor.analysis.dictionaries import (
    Dictionary,
    KernelFeatures,
    gaussian_kernel,
    median_distance,
)
from attractor.errors import InputError

#: Default residual threshold ε below which an eigenpair counts as verified.
DEFAULT_EPSILON = 0.05


@dataclasses.dataclass
class KoopmanSpectrum:
    """EDMD eigenpairs with their ResDMD residuals (module docstring).

    Attributes:
        eigenvalues: ``(r,)`` complex, sorted by residual (verified first).
        coefficients: ``(N, r)`` dictionary coefficients ``c`` of each eigenfunction (columns).
        residuals: ``(r,)`` ``res(λ, Ψc)``.
        verified: ``(r,)`` ``residuals <= epsilon``.
        epsilon: the threshold.
        n_samples, n_dictionary, rank: ``M``, ``N``, and the rank kept by the SVD.
        dictionary: what the dictionary was (for reports).
    """

    eigenvalues: np.ndarray
    coefficients: np.ndarray
    residuals: np.ndarray
    verified: np.ndarray
    epsilon: float
    n_samples: int
    n_dictionary: int
    rank: int
    dictionary: dict[str, Any]
    _bb: np.ndarray = dataclasses.field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    _ub: np.ndarray = dataclasses.field(repr=False, default_factory=lambda: np.zeros((0, 0)))

    def pseudospectrum(self, real: Any, imag: Any, *, chunk: int = 2048) -> np.ndarray:
        """``τ_N(z)`` on the grid ``z = real[j] + 1j imag[i]``, shape ``(len(imag), len(real))``."""
        re, im = np.meshgrid(np.asarray(real, float), np.asarray(imag, float))
        z = (re + 1j * im).ravel()
        out = np.empty(z.size)
        eye = np.eye(self.rank)
        for s in range(0, z.size, chunk):
            zz = z[s : s + chunk, None, None]
            mat = self._bb - zz * self._ub.conj().T - zz.conj() * self._ub + np.abs(zz) ** 2 * eye
            out[s : s + chunk] = np.linalg.eigvalsh(mat)[:, 0]
        return np.sqrt(np.maximum(out, 0.0)).reshape(re.shape)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "n_samples": self.n_samples,
            "n_dictionary": self.n_dictionary,
            "rank": self.rank,
            "dictionary": self.dictionary,
            "n_verified": int(np.sum(self.verified)),
            "eigenvalues": [
                {
                    "value": [float(v.real), float(v.imag)],
                    "modulus": float(abs(v)),
                    "angle": float(np.angle(v)),
                    "residual": float(r),
                    "verified": bool(ok),
                }
                for v, r, ok in zip(self.eigenvalues, self.residuals, self.verified, strict=True)
            ],
        }


def _weights(m: int, weights: Any) -> np.ndarray:
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, np.float64).ravel()
    if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError(f"weights: expected {m} finite non-negative numbers")
    return w


def resdmd(
    psi_x: Any,
    psi_y: Any,
    *,
    weights: Any = None,
    epsilon: float = DEFAULT_EPSILON,
    rcond: float = 1e-10,
    dictionary: dict[str, Any] | None = None,
) -> KoopmanSpectrum:
    """EDMD eigenpairs of the dictionary matrices ``Ψ_X``, ``Ψ_Y`` ``(M, N)`` with residuals."""
    psi_x = np.asarray(psi_x)
    psi_y = np.asarray(psi_y)
    if psi_x.ndim != 2 or psi_x.shape != psi_y.shape or psi_x.shape[0] < 1:
        raise InputError(f"resdmd: Ψ_X {psi_x.shape} and Ψ_Y {psi_y.shape} must be equal (M, N)")
    if not (np.all(np.isfinite(psi_x)) and np.all(np.isfinite(psi_y))):
        raise InputError("resdmd: the dictionary is not finite on the data")
    if not epsilon > 0:
        raise InputError(f"epsilon must be > 0, got {epsilon!r}")
    m, n = psi_x.shape
    sw = np.sqrt(_weights(m, weights))[:, None]
    u, s, vh = np.linalg.svd(sw * psi_x, full_matrices=False)
    r = int(np.sum(s > rcond * s[0])) if s.size and s[0] > 0 else 0
    if r == 0:
        raise InputError("resdmd: the dictionary is zero on the data")
    u, s, v = u[:, :r], s[:r], vh[:r].conj().T
    b = (sw * psi_y) @ (v / s)
    k_tilde = u.conj().T @ b
    lam, vec = np.linalg.eig(k_tilde)
    vec = vec / np.linalg.norm(vec, axis=0)
    res = np.linalg.norm(b @ vec - (u @ vec) * lam, axis=0)
    order = np.lexsort((-np.abs(lam), res))
    lam, vec, res = lam[order], vec[:, order], res[order]
    return KoopmanSpectrum(
        eigenvalues=lam,
        coefficients=(v / s) @ vec,
        residuals=res,
        verified=res <= epsilon,
        epsilon=float(epsilon),
        n_samples=m,
        n_dictionary=n,
        rank=r,
        dictionary=dict(dictionary or {}),
        _bb=b.conj().T @ b,
        _ub=u.conj().T @ b,
    )


def koopman_spectrum(
    x: Any,
    y: Any,
    dictionary: Dictionary,
    *,
    weights: Any = None,
    epsilon: float = DEFAULT_EPSILON,
    fit_on: Any = None,
    rcond: float = 1e-10,
) -> KoopmanSpectrum:
    """EDMD + ResDMD on snapshot pairs ``x`` → ``y`` ``(M, D)`` with ``dictionary``.

    The dictionary is fitted on ``fit_on`` (default ``x``); fitting it on other data than the
    residuals are measured on keeps the residuals honest for data-dependent dictionaries.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.shape != y.shape:
        raise InputError(f"koopman: x {x.shape} and y {y.shape} must have the same shape")
    dictionary.fit(x if fit_on is None else fit_on)
    return resdmd(dictionary(x), dictionary(y), weights=weights, epsilon=epsilon, rcond=rcond,
                  dictionary=dictionary.describe())


def kernel_edmd(
    x: Any,
    y: Any,
    *,
    width: float | None = None,
    rank: int | None = None,
    rcond: float = 1e-12,
) -> np.ndarray:
    """Eigenvalues of kernel EDMD with a Gaussian kernel (no residuals: unverified by
    construction; see :func:`verified_kernel_edmd`)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    width = float(width) if width else median_distance(x)
    gram = gaussian_kernel(x, x, width)
    cross = gaussian_kernel(y, x, width)
    s2, q = np.linalg.eigh(gram)
    keep = np.argsort(s2)[::-1]
    keep = keep[s2[keep] > rcond * s2.max()][: rank or None]
    inv = q[:, keep] / np.sqrt(s2[keep])
    return np.linalg.eigvals(inv.T @ cross @ inv)


def verified_kernel_edmd(
    train: tuple[Any, Any],
    test: tuple[Any, Any],
    *,
    rank: int = 50,
    width: float | None = None,
    epsilon: float = DEFAULT_EPSILON,
    seed: int = 0,
) -> KoopmanSpectrum:
    """Colbrook & Townsend's kernel recipe: the kernel EDMD eigenfunction span learned on the
    ``train`` pairs (their ``x``) as the dictionary, ResDMD residuals on the ``test`` pairs."""
    feats = KernelFeatures(rank=rank, width=width, n_fit=len(np.asarray(train[0])), seed=seed)
    return koopman_spectrum(test[0], test[1], feats, epsilon=epsilon, fit_on=train[0])


__all__ = [
    "DEFAULT_EPSILON",
    "KoopmanSpectrum",
    "kernel_edmd",
    "koopman_spectrum",
    "resdmd",
    "verified_kernel_edmd",
]
