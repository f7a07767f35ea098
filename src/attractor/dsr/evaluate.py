"""Evaluate a trained latent model on test data with the DSR protocol.

Protocol (Hess et al., ICML 2023; :mod:`attractor.metrics.protocol`): for a test series of ``T``
steps the model generates ``ceil(1.25 T)`` steps from the **first test point** and the last ``T``
are compared with the test series: D_stsp (state-space divergence) and D_H (power-spectrum
Hellinger distance). These are the headline ``D_stsp`` and ``D_H``; medians and MADs in the paper
are over independently trained models (seeds), which the benchmark scripts compute.

Beyond the paper, the same comparison is repeated from ``n_runs`` start points
``k * T // n_runs`` (``k = 0`` is the first test point) and reported as ``D_stsp_starts_median`` /
``_mad`` and per-start lists. A model that is multistable — another attractor, cycle or fixed point
reached from some start points — shows up there even when the first start point looks fine.
Short-term accuracy is PE(20), and the largest Lyapunov exponent of the model comes from QR
iteration of its Jacobians, converted to per-time-unit by the sampling step ``dt``.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.metrics.forecast import prediction_error
from attractor.metrics.lyapunov import max_lyapunov_exponent
from attractor.metrics.protocol import evaluate_generated, generation_window
from attractor.models.alrnn import ALRNN
from attractor.models.base import DSRModel


@eqx.filter_jit
def _rollouts(model: DSRModel, starts: jax.Array, n_total: int) -> tuple[jax.Array, jax.Array]:
    """Latent and observed rollouts of ``n_total`` rows from each start observation."""
    latents = jax.vmap(lambda x0: model.rollout(model.init_state(x0), n_total))(starts)
    return latents, model.observe(latents)


def generate_runs(
    model: DSRModel, x_test: np.ndarray, n_runs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Protocol rollouts: ``(n_runs, T, N)`` observations and ``(n_runs, T, M)`` latents."""
    n_test = x_test.shape[0]
    n_total, n_drop = generation_window(n_test)
    idx = (np.arange(n_runs) * (n_test // max(n_runs, 1))).astype(int)
    starts = jnp.asarray(x_test[idx], dtype=jnp.float32)
    latents, observed = _rollouts(model, starts, int(n_total))
    return np.asarray(observed[:, n_drop:], np.float64), np.asarray(latents[:, n_drop:])


def count_subregions(model: ALRNN, latents: np.ndarray) -> int:
    """Number of distinct linear subregions (symbolic codes) visited by ``latents`` ``(T, M)``."""
    return int(np.unique(np.asarray(model.symbolic_code(jnp.asarray(latents)))).size)


def evaluate_model(
    model: DSRModel,
    x_test: np.ndarray,
    *,
    dt: float = 1.0,
    n_runs: int = 5,
    smoothing: float = 20.0,
    pe_steps: int = 20,
    lyapunov_steps: int = 100_000,
    lyapunov_transient: int = 10_000,
) -> dict[str, Any]:
    """DSR metrics of ``model`` on the (standardised) test series ``x_test`` ``(T, N)``.

    Returns a JSON-ready dict with ``D_stsp`` and ``D_H`` (the protocol run from the first test
    point), their per-start values and medians/MADs over the ``n_runs`` start points, ``PE``
    (PE(``pe_steps``)), ``lambda_max`` (per time unit, via ``dt``) and, for the AL-RNN,
    ``n_subregions`` (subregions visited by the protocol run). Diverged runs count as NaN (null in
    JSON) and are left out of the medians (``n_valid_runs`` says how many remain).
    """
    x_test = np.asarray(x_test, dtype=np.float64)
    observed, latents = generate_runs(model, x_test, n_runs)
    long_term = evaluate_generated(x_test, list(observed), smoothing=smoothing)
    predict = eqx.filter_jit(lambda xs: model.predict_ahead(xs, pe_steps))
    pe = prediction_error(
        lambda xs: np.asarray(predict(jnp.asarray(xs, jnp.float32))),
        x_test,
        n=pe_steps,
        batch_size=20_000,
    )
    z0 = np.asarray(model.init_state(jnp.asarray(x_test[0], jnp.float32)), np.float64)
    lam = max_lyapunov_exponent(
        model.step, z0, n_steps=lyapunov_steps, transient=lyapunov_transient, dt=dt
    )
    metrics: dict[str, Any] = {
        "D_stsp": long_term["d_stsp"][0],
        "D_H": long_term["d_h"][0],
        "D_stsp_starts_median": long_term["d_stsp_median"],
        "D_stsp_starts_mad": long_term["d_stsp_mad"],
        "D_H_starts_median": long_term["d_h_median"],
        "D_H_starts_mad": long_term["d_h_mad"],
        "PE": pe,
        "PE_steps": pe_steps,
        "lambda_max": lam,
        "D_stsp_starts": long_term["d_stsp"],
        "D_H_starts": long_term["d_h"],
        "n_runs": long_term["n_runs"],
        "n_valid_runs": long_term["n_valid"],
        "n_test": int(x_test.shape[0]),
        "dt": dt,
    }
    if isinstance(model, ALRNN):
        metrics["n_subregions"] = count_subregions(model, latents[0])
        metrics["max_subregions"] = 2**model.config.n_pwl
    return {k: _clean(v) for k, v in metrics.items()}


def _clean(value: Any) -> Any:
    """NaN/inf -> None so that metrics.json is strict JSON."""
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
