"""Teacher-forcing schemes for training latent models on chaotic data.

- **GTF**, generalized teacher forcing (Hess, Monfared, Brenner & Durstewitz, ICML 2023): after each
  model step the latent state is pulled towards the data-inferred state,
  ``z_tilde_t = (1 - alpha) z_t + alpha z_hat(x_t)``, with a constant ``alpha`` in [0, 1].
- **aGTF**, adaptive GTF (same paper, Algorithm 1): every ``k`` updates, ``alpha`` is re-estimated
  from Jacobians ``J_t`` of the model at the data-inferred states of the batch:
  ``kappa = max_sequences geomean_t ||J_t||_2`` ("product upper bound"),
  ``alpha_est = max(0, 1 - 1/kappa)``; ``alpha <- alpha_est`` if larger, else
  ``gamma alpha + (1 - gamma) alpha_est`` (``gamma = 0.999``); ``alpha`` starts at 1.
  The norms ``||J_t||_2`` are exact (closed form for ``M <= 3``, batched SVD otherwise) or, from
  ``M >= LANCZOS_MIN_DIM`` by default, estimated by batched Lanczos
  (:mod:`attractor.train.spectral_norm`; ``benchmarks/agtf_estimate.py`` for times and errors).
- **STF**, sparse teacher forcing (Mikhaeil, Monfared & Durstewitz, NeurIPS 2022): every ``tau``
  steps the observed units are replaced by data (``alpha = 1``), otherwise the model runs freely.

A scheme is turned into a per-step sequence of forcing weights ``alpha_t`` (length ``T``) that the
loss consumes, so all three share one compiled training step.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.train.spectral_norm import dense_gram, lanczos_spectral_norms, step_gram

ForcingMethod = Literal["gtf", "agtf", "stf"]
FORCING_METHODS: tuple[str, ...] = ("gtf", "agtf", "stf")
ALPHA_ESTIMATORS: tuple[str, ...] = ("product_upper_bound", "arithmetic_mean", "batch_maximum")
SPECTRAL_NORMS: tuple[str, ...] = ("auto", "exact", "lanczos")

#: ``spectral_norm="auto"`` uses Lanczos from this latent size on. Below it the closed forms are
#: exact and cheaper; from M = 4 on, Lanczos beat the batched SVD at every size measured (M = 4 ...
#: 100, shPLRNN / AL-RNN / PLRNN; ``benchmarks/agtf_estimate.py``), and with
#: ``min(M, LANCZOS_STEPS)`` steps it spans the whole space up to M = 12 (exact to rounding).
LANCZOS_MIN_DIM = 4
#: Lanczos applies ``J^T J`` through the dense Jacobians below this size and matrix-free (the
#: linearised step) from it on: the dense Jacobians cost ``M^2 L`` per state for the shPLRNN,
#: a matrix-free product ``4 M L``; the two cross between M = 12 and 20 (same benchmark).
MATRIX_FREE_MIN_DIM = 16


@dataclasses.dataclass(frozen=True)
class ForcingConfig:
    """Teacher-forcing settings.

    Attributes:
        method: ``"gtf"`` (constant alpha), ``"agtf"`` (adaptive alpha) or ``"stf"`` (sparse).
        alpha: the constant GTF weight, and the starting value for aGTF (paper: 1.0).
        tau: STF forcing interval in steps; ``None`` means estimate it from the data.
        update_every: aGTF re-estimation interval ``k`` in parameter updates (paper: 5).
        gamma: aGTF decay factor (paper: 0.999).
        estimator: aGTF Jacobian-norm estimator.
        spectral_norm: how aGTF gets each ``||J_t||_2``: ``"exact"`` (closed form / SVD),
            ``"lanczos"`` (batched Lanczos, a lower bound: :mod:`attractor.train.spectral_norm`) or
            ``"auto"`` (exact below ``LANCZOS_MIN_DIM``, Lanczos from there on).
    """

    method: ForcingMethod = "agtf"
    alpha: float | None = None
    tau: int | None = None
    update_every: int = 5
    gamma: float = 0.999
    estimator: str = "product_upper_bound"
    spectral_norm: str = "auto"

    def __post_init__(self) -> None:
        if self.method not in FORCING_METHODS:
            raise InputError(f"--forcing must be one of {FORCING_METHODS}, got {self.method!r}")
        if self.alpha is not None and not 0.0 <= self.alpha <= 1.0:
            raise InputError(f"--alpha must lie in [0, 1], got {self.alpha}")
        if self.tau is not None and self.tau < 1:
            raise InputError(f"--tau must be a positive integer, got {self.tau}")
        if self.estimator not in ALPHA_ESTIMATORS:
            raise InputError(f"alpha estimator must be one of {ALPHA_ESTIMATORS}")
        if self.spectral_norm not in SPECTRAL_NORMS:
            raise InputError(f"spectral_norm must be one of {SPECTRAL_NORMS}")
        if self.update_every < 1 or not 0.0 <= self.gamma < 1.0:
            raise InputError("aGTF needs update_every >= 1 and gamma in [0, 1)")

    def initial_alpha(self) -> float:
        """Starting alpha: GTF default 0.1, aGTF 1.0 (paper), STF 1.0 (full replacement)."""
        if self.alpha is not None:
            return float(self.alpha)
        return {"gtf": 0.1, "agtf": 1.0, "stf": 1.0}[self.method]


def forcing_weights(config: ForcingConfig, alpha: jax.Array, seq_len: int) -> jax.Array:
    """Per-step forcing weights ``alpha_t`` for ``t = 1..seq_len``, shape ``(seq_len,)``.

    GTF/aGTF: ``alpha`` at every step. STF: ``alpha`` at steps ``t`` with ``t % tau == 0`` (the
    state entering step ``t + 1`` is forced), zero elsewhere.
    """
    ones = jnp.ones(seq_len, dtype=jnp.result_type(alpha))
    if config.method != "stf":
        return alpha * ones
    if config.tau is None:
        raise InputError("STF needs tau; estimate it from the data before training")
    t = jnp.arange(1, seq_len + 1)
    return jnp.where(t % config.tau == 0, alpha, 0.0) * ones


def jacobian_norm_estimate(
    model: Any, batch: jax.Array, estimator: str, spectral_norm: str = "auto"
) -> jax.Array:
    """``kappa``: an estimate of the growth of Jacobian products along the data (aGTF).

    Jacobians are taken at the data-inferred states ``encode(x_t)`` of each sequence of
    ``batch`` ``(B, T, N)``. ``product_upper_bound``: geometric mean over time of the spectral
    norms ``||J_t||_2``; ``arithmetic_mean``: ``||mean_t J_t||_2``; ``batch_maximum``:
    ``max_t ||J_t||_2``. The maximum over sequences is returned. ``spectral_norm`` chooses how
    the per-state norms are obtained (see :class:`ForcingConfig`; ``arithmetic_mean`` needs only
    ``B`` norms and always takes them exactly).
    """
    z_hat = model.encode(batch)  # (B, T, M)
    if estimator == "arithmetic_mean":
        jac = jax.vmap(jax.vmap(model.jacobian))(z_hat)  # (B, T, M, M)
        return jnp.max(spectral_norms(jnp.mean(jac, axis=1)))
    norms = jacobian_norms(model, z_hat, spectral_norm)  # (B, T)
    if estimator == "batch_maximum":
        return jnp.max(norms)
    log_norms = jnp.log(jnp.maximum(norms, 1e-12))
    return jnp.max(jnp.exp(jnp.mean(log_norms, axis=1)))


def jacobian_norms(model: Any, states: jax.Array, spectral_norm: str = "auto") -> jax.Array:
    """``||J(z)||_2`` of the model's step at every state ``(..., M)`` -> ``(...)``.

    ``"exact"``: dense Jacobians and :func:`spectral_norms`. ``"lanczos"``: batched Lanczos from
    fixed random start vectors (deterministic; a lower bound, see
    :mod:`attractor.train.spectral_norm`), on the dense Jacobians below
    ``MATRIX_FREE_MIN_DIM`` and matrix-free from there on. ``"auto"``: Lanczos from
    ``M >= LANCZOS_MIN_DIM``.
    """
    if spectral_norm not in SPECTRAL_NORMS:
        raise InputError(f"spectral_norm must be one of {SPECTRAL_NORMS}, got {spectral_norm!r}")
    m = states.shape[-1]
    if spectral_norm == "exact" or (spectral_norm == "auto" and m < LANCZOS_MIN_DIM):
        jacobian = model.jacobian
        for _ in range(states.ndim - 1):
            jacobian = jax.vmap(jacobian)
        return spectral_norms(jacobian(states))
    flat = states.reshape(-1, m)
    if m >= MATRIX_FREE_MIN_DIM:
        gram = step_gram(lambda z: model.step(z), flat)
    else:
        gram = dense_gram(jax.vmap(model.jacobian)(flat))
    v0 = jax.random.normal(jax.random.PRNGKey(0), flat.shape, flat.dtype)
    return lanczos_spectral_norms(gram, v0).reshape(states.shape[:-1])


def spectral_norms(matrices: jax.Array) -> jax.Array:
    """Spectral norms ``||J||_2`` of a batch of square matrices ``(..., M, M)``.

    For ``M <= 3`` in closed form, as the square root of the largest eigenvalue of ``J^T J``
    (for ``M = 3`` by the trigonometric formula of Smith, CACM 1961): all matrices at once in a
    few fused elementwise operations, ~10x faster on CPU than the batched SVD used for larger
    ``M`` (3200 SVDs of 3x3 matrices take ~2 ms, and aGTF needs them every few updates).
    Agrees with the SVD to ~5e-7 relative in float32.
    """
    m = matrices.shape[-1]
    if m == 1:
        return jnp.abs(matrices[..., 0, 0])
    if m > 3:
        return jnp.linalg.norm(matrices, ord=2, axis=(-2, -1))
    gram = jnp.einsum("...ki,...kj->...ij", matrices, matrices)
    largest = _largest_eigenvalue_2x2(gram) if m == 2 else _largest_eigenvalue_3x3(gram)
    return jnp.sqrt(jnp.maximum(largest, 0.0))


def _largest_eigenvalue_2x2(g: jax.Array) -> jax.Array:
    """Largest eigenvalue of symmetric ``(..., 2, 2)`` matrices."""
    mean = 0.5 * (g[..., 0, 0] + g[..., 1, 1])
    half_gap = 0.5 * (g[..., 0, 0] - g[..., 1, 1])
    return mean + jnp.sqrt(half_gap**2 + g[..., 0, 1] ** 2)


def _largest_eigenvalue_3x3(g: jax.Array) -> jax.Array:
    """Largest eigenvalue of symmetric ``(..., 3, 3)`` matrices (trigonometric method).

    With ``q = tr(G)/3``, ``p = ||G - qI||_F / sqrt(6)`` and ``r = det((G - qI)/p)/2``, the
    eigenvalues are ``q + 2p cos(arccos(r)/3 + 2 pi k/3)``; ``k = 0`` is the largest.
    """
    q = jnp.trace(g, axis1=-2, axis2=-1) / 3.0
    shifted = g - q[..., None, None] * jnp.eye(3, dtype=g.dtype)
    p = jnp.sqrt(jnp.sum(shifted**2, axis=(-2, -1)) / 6.0)
    safe_p = jnp.where(p > 0, p, 1.0)
    r = jnp.clip(jnp.linalg.det(shifted / safe_p[..., None, None]) / 2.0, -1.0, 1.0)
    return jnp.where(p > 0, q + 2.0 * p * jnp.cos(jnp.arccos(r) / 3.0), q)


def alpha_from_kappa(kappa: jax.Array) -> jax.Array:
    """The forcing that contracts a Jacobian-norm estimate ``kappa`` to 1:
    ``max(0, 1 - 1/kappa)`` (Hess et al. 2023, Algorithm 1)."""
    return jnp.maximum(0.0, 1.0 - 1.0 / kappa)


def update_alpha(
    config: ForcingConfig, alpha: jax.Array, model: Any, batch: jax.Array
) -> jax.Array:
    """One aGTF update of ``alpha`` from the current batch (Hess et al. 2023, Algorithm 1)."""
    kappa = jacobian_norm_estimate(model, batch, config.estimator, config.spectral_norm)
    alpha_est = alpha_from_kappa(kappa)
    decayed = config.gamma * alpha + (1.0 - config.gamma) * alpha_est
    return jnp.where(alpha_est > alpha, alpha_est, decayed).astype(alpha.dtype)
