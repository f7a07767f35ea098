"""The one ridge (Tikhonov) solve every readout model uses: ESN, NG-RC / NVAR, EDMD, baselines.

Given features ``X`` ``(K, F)`` (one row per training step) and targets ``Y`` ``(K, N)``,

    W = argmin_W ||X W - Y||² + ridge ||W||²  =  (XᵀX + ridge I)⁻¹ XᵀY,          W: (F, N)

(Tikhonov 1963; for reservoirs: Jaeger 2001, Lukoševičius 2012, "A practical guide to applying
echo state networks", §4.1; for NG-RC: Gauthier et al. 2021). Every coefficient is penalised alike,
the constant feature included, as in those papers.

Numerics (everything in float64, on the host):

- **SVD** (default for up to :data:`SVD_MAX_FEATURES` features): ``X = U S Vᵀ`` and
  ``W = V diag(s / (s² + ridge)) Uᵀ Y``. It never forms ``XᵀX``, so it does not square the
  condition number — the NG-RC monomial features of delayed states are nearly collinear (short
  lags, high degree), and SVD least squares is the robust choice there (benchmarks.md §4, arXiv
  2505.00846). With ``ridge = 0`` this is the minimum-norm least-squares solution (singular values
  below ``rcond · s_max`` are dropped, as in ``numpy.linalg.lstsq``).
- **Scaled normal equations** (wide feature sets, e.g. reservoirs of hundreds or thousands of
  units, where the ``O(K F²)`` SVD costs several times the Gram product): with
  ``D = diag(√diag(XᵀX))`` solve ``(D⁻¹XᵀXD⁻¹ + ridge D⁻²) (D W) = D⁻¹XᵀY`` by Cholesky. The
  scaling (Jacobi preconditioning) leaves the penalty exactly ``ridge ||W||²`` but evens out the
  column norms before the factorisation; a matrix that is not numerically positive definite falls
  back to the symmetric eigendecomposition with the same regularisation.

:func:`ridge_solve_streaming` accepts the Gram products accumulated chunk by chunk, so features
that do not fit in memory at once never need to.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.linalg

from attractor.errors import InputError

#: Above this many features the scaled normal equations replace the SVD (``method="auto"``).
#: Measured on the 2-core CPU (K = 10,000 rows, N = 3, float64, one BLAS thread): QR + SVD 0.13 s
#: vs Gram + Cholesky 0.03 s at F = 100, 1.2 s vs 0.22 s at F = 500, 4.3 s vs 0.83 s at F = 1000 —
#: the SVD's robustness is worth its cost for the small, ill-conditioned polynomial libraries
#: (NG-RC: 28 features), not for reservoirs of hundreds of units.
SVD_MAX_FEATURES = 256


def ridge_solve(
    features: np.ndarray, targets: np.ndarray, ridge: float, *, method: str = "auto",
    rcond: float | None = None,
) -> np.ndarray:
    """``W`` ``(F, N)`` minimising ``||features W - targets||² + ridge ||W||²`` (float64).

    Args:
        features: ``(K, F)`` regressors, one row per sample.
        targets: ``(K, N)`` (or ``(K,)``, then ``W`` is ``(F,)``).
        ridge: Tikhonov weight ``>= 0``.
        method: ``"svd"``, ``"normal"`` (scaled normal equations) or ``"auto"`` (SVD up to
            :data:`SVD_MAX_FEATURES` features); see the module docstring.
        rcond: relative cut-off for small singular values (SVD only; default
            ``max(K, F) · eps``, as ``numpy.linalg.lstsq``).

    Raises:
        InputError: mismatched shapes, non-finite values, a negative ridge or an unknown method.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    squeeze = y.ndim == 1
    if squeeze:
        y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise InputError(
            f"ridge_solve: need features (K, F) and targets (K, N) with the same K, got "
            f"{x.shape} and {np.shape(targets)}"
        )
    if x.shape[0] == 0:
        raise InputError("ridge_solve: no samples (K = 0)")
    _check_ridge(ridge)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("ridge_solve: features or targets contain NaN or inf values")
    if method == "auto":
        method = "svd" if x.shape[1] <= SVD_MAX_FEATURES else "normal"
    if method == "svd":
        w = _svd_solve(x, y, float(ridge), rcond)
    elif method == "normal":
        w = _gram_solve(x.T @ x, x.T @ y, float(ridge))
    else:
        raise InputError(f"ridge_solve: method must be 'auto', 'svd' or 'normal', got {method!r}")
    return w[:, 0] if squeeze else w


def ridge_solve_streaming(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], ridge: float
) -> np.ndarray:
    """:func:`ridge_solve` by the scaled normal equations, accumulating ``XᵀX`` and ``XᵀY`` over
    ``(features, targets)`` chunks (e.g. one per training series)."""
    _check_ridge(ridge)
    gram = cross = None
    for features, targets in chunks:
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(targets, dtype=np.float64)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InputError("ridge_solve: features or targets contain NaN or inf values")
        gram = x.T @ x if gram is None else gram + x.T @ x
        cross = x.T @ y if cross is None else cross + x.T @ y
    if gram is None or cross is None:
        raise InputError("ridge_solve: no samples")
    return _gram_solve(gram, cross, float(ridge))


def _check_ridge(ridge: float) -> None:
    if not (isinstance(ridge, int | float) and np.isfinite(ridge) and ridge >= 0):
        raise InputError(f"ridge must be a finite number >= 0, got {ridge!r}")


def _svd_solve(x: np.ndarray, y: np.ndarray, ridge: float, rcond: float | None) -> np.ndarray:
    """SVD route; a tall ``X`` is first reduced by one Householder QR of ``[X  Y]``: its ``R`` holds
    ``R_X`` (``F x F``) and ``Q_Xᵀ Y``, so the SVD is of ``R_X`` only (same singular values and
    right vectors as ``X``, never forming ``XᵀX``)."""
    k, f = x.shape
    if k > f + y.shape[1]:
        r = np.linalg.qr(np.concatenate([x, y], axis=1), mode="r")
        x, y = r[:f, :f], r[:f, f:]
    u, s, vt = scipy.linalg.svd(x, full_matrices=False, lapack_driver="gesdd", check_finite=False)
    if rcond is None:
        rcond = max(k, f) * np.finfo(np.float64).eps
    keep = s > rcond * (s[0] if s.size else 0.0)
    s_inv = np.zeros_like(s)
    s_inv[keep] = s[keep] / (s[keep] ** 2 + ridge)
    return vt.T @ (s_inv[:, None] * (u.T @ y))


def _gram_solve(gram: np.ndarray, cross: np.ndarray, ridge: float) -> np.ndarray:
    """Solve ``(G + ridge I) W = C`` with Jacobi scaling; eigendecomposition fallback."""
    diag = np.diag(gram).copy()
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    g = gram / scale[:, None] / scale[None, :]
    g[np.diag_indices_from(g)] += ridge / scale**2
    c = cross / scale[:, None]
    try:
        w_scaled = scipy.linalg.solve(g, c, assume_a="pos", check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        w_scaled = None
    if w_scaled is None or not np.all(np.isfinite(w_scaled)):
        # Not numerically positive definite (ridge ~ 0 and collinear features): pseudo-inverse
        # of the symmetric matrix, dropping eigenvalues at round-off level.
        evals, evecs = np.linalg.eigh(g)
        cut = max(g.shape) * np.finfo(np.float64).eps * max(float(np.max(np.abs(evals))), 1e-300)
        inv = np.where(evals > cut, 1.0 / np.where(evals > cut, evals, 1.0), 0.0)
        w_scaled = evecs @ (inv[:, None] * (evecs.T @ c))
    return w_scaled / scale[:, None]
