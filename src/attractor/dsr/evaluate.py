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
For a Gaussian-mixture D_stsp (N >= 6) the metrics also carry ``D_stsp_floor``: the same
estimate between two stretches of the test series itself, the score of a perfect model. In high
dimension it is far from zero (Lorenz-96 with N = 40: about 11), and a model's D_stsp means
something only next to it.

Short-term accuracy is PE(20), and the largest Lyapunov exponent of the model comes from QR
iteration of its Jacobians, converted to per-time-unit by the sampling step ``dt``.

Everything here works on any model of the contract: a start point is a context window of the
model's ``context_length`` rows ending at that point (one row for the PLRNN family).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.dsr.diagnostics import diagnose, null_reasons
from attractor.dsr.probes import BASIN_PROBES, count_settled, probe_lengths, probe_starts
from attractor.errors import DivergenceError
from attractor.metrics.geometry import (
    GMM_MAX_POINTS,
    MAX_BINNED_DIM,
    state_space_divergence_gmm,
)
from attractor.metrics.lyapunov import max_lyapunov_exponent
from attractor.metrics.protocol import evaluate_generated, generation_window
from attractor.models.capabilities import PiecewiseLinear


def contexts_at(model: Any, x: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Context windows ``(K, C, N)`` ending at rows ``ends`` (``C = model.context_length``).

    Rows before the series start are filled with its first row (only for ``ends < C - 1``).
    """
    c = int(model.context_length)
    idx = np.clip(np.asarray(ends)[:, None] + np.arange(1 - c, 1)[None, :], 0, len(x) - 1)
    return np.asarray(x)[idx]


@eqx.filter_jit
def _rollouts(model: Any, contexts: jax.Array, n_total: int) -> tuple[Any, jax.Array]:
    """States and observations of ``n_total``-row free runs from each context."""
    states = jax.vmap(lambda c: model.rollout(model.init_state(c), n_total))(contexts)
    return states, jax.vmap(model.observe_many)(states)


def generate_runs(
    model: Any,
    x_test: np.ndarray,
    n_runs: int,
    *,
    steps: int | None = None,
    ends: np.ndarray | None = None,
) -> tuple[np.ndarray, Any]:
    """Protocol rollouts: ``(n_runs, T, N)`` observations and the matching states.

    Run ``k`` warms up on the context ending at test row ``k * T // n_runs`` (``k = 0``: the first
    test point), or at row ``ends[k]`` when ``ends`` is given, and generates ``ceil(1.25 T)`` rows
    (``steps``, if given and longer), of which the last ``T`` are kept.
    """
    n_test = x_test.shape[0]
    n_total, n_drop = generation_window(n_test)
    if steps is not None and steps > n_total:
        n_total, n_drop = steps, steps - n_test
    if ends is None:
        ends = np.arange(n_runs) * (n_test // max(n_runs, 1))
    states, observed = _runs_from(model, x_test, ends, n_total)
    kept = jax.tree_util.tree_map(lambda s: np.asarray(s[:, n_drop:]), states)
    return np.asarray(observed[:, n_drop:], np.float64), kept


def free_runs(model: Any, x: np.ndarray, ends: np.ndarray, steps: int) -> np.ndarray:
    """Observations ``(K, steps, N)`` of free runs from the contexts ending at rows ``ends`` of
    ``x``."""
    return np.asarray(_runs_from(model, x, ends, steps)[1], np.float64)


def _runs_from(model: Any, x: np.ndarray, ends: np.ndarray, steps: int) -> tuple[Any, jax.Array]:
    contexts = jnp.asarray(contexts_at(model, x, np.asarray(ends, int)), dtype=jnp.float32)
    return _rollouts(model, contexts, int(steps))


def probe_runs(model: Any, series: np.ndarray, n: int) -> np.ndarray:
    """Basin probes ``(n, steps, N)``: free runs from ``n`` evenly spaced rows of ``series``
    (:mod:`attractor.dsr.probes`)."""
    steps, _ = probe_lengths(len(series))
    return free_runs(model, series, probe_starts(len(series), n, int(model.context_length)), steps)


def settled_probes(model: Any, series: np.ndarray, n: int = BASIN_PROBES) -> int:
    """How many of ``n`` basin probes from ``series`` ``(T, N)`` end settled on a fixed point or
    a small cycle, or diverge (:mod:`attractor.dsr.probes`); 0 for ``n = 0``."""
    return count_settled(probe_runs(model, series, n), series) if n > 0 else 0


def count_subregions(model: PiecewiseLinear, latents: np.ndarray) -> int:
    """Number of distinct linear subregions visited by ``latents`` ``(T, M)``."""
    codes = np.asarray(model.region_code(jnp.asarray(latents)))
    return int(np.unique(codes.reshape(len(codes), -1), axis=0).shape[0])


def prediction_error_n(model: Any, x: np.ndarray, n: int, *, batch_size: int = 20_000) -> float:
    """PE(n): MSE of ``n``-step forecasts from every start row with a full context
    (Hess et al. 2023; for models with ``context_length == 1`` every row but the last ``n``)."""
    c = int(model.context_length)
    ends = np.arange(c - 1, len(x) - n)
    if ends.size == 0:
        return float("nan")
    predict = eqx.filter_jit(lambda ctx: jax.vmap(lambda k: model.forecast(k, n)[-1])(ctx))
    errors = []
    for i in range(0, ends.size, batch_size):
        chunk = ends[i : i + batch_size]
        contexts = jnp.asarray(contexts_at(model, x, chunk), jnp.float32)
        pred = np.asarray(predict(contexts), np.float64)
        errors.append(np.sum((pred - x[chunk + n]) ** 2))
    return float(np.sum(errors) / (ends.size * x.shape[1]))


def model_lyapunov(
    model: Any, context: np.ndarray, *, steps: int, transient: int, dt: float
) -> float:
    """Largest Lyapunov exponent of the model's closed loop (QR over Jacobians of the step),
    per time unit. The state (any pytree) is flattened to one vector, kept in float64. ``nan``
    when the orbit diverges (a model with an unbounded direction: the other metrics of the run
    still count, and the report says why this one is missing)."""
    state = model.init_state(jnp.asarray(context, jnp.float32))
    leaves, treedef = jax.tree_util.tree_flatten(state)
    shapes = [leaf.shape for leaf in leaves]
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

    def flatten(tree: Any) -> jax.Array:
        return jnp.concatenate([jnp.ravel(x) for x in jax.tree_util.tree_leaves(tree)])

    def step(z: jax.Array) -> jax.Array:
        parts = [p.reshape(s) for p, s in zip(jnp.split(z, splits), shapes, strict=True)]
        return flatten(model.step(jax.tree_util.tree_unflatten(treedef, parts)))

    z0 = np.asarray(flatten(state), np.float64)
    try:
        return max_lyapunov_exponent(step, z0, n_steps=steps, transient=transient, dt=dt)
    except DivergenceError:
        return float("nan")


def data_floor(x_test: np.ndarray) -> float:
    """The Gaussian-mixture D_stsp of two stretches of the test series: a perfect model's score.

    That estimator compares the first ``max_points`` (10 000) rows of each series, so the rows
    ``0 .. 10 000`` against ``T/2 .. T/2 + 10 000`` are exactly what a model's run is compared
    with, drawn from the system itself. ``nan`` where the comparison would not be like-for-like:
    fewer than 6 dimensions (the binned estimator uses all ``T`` rows, and halves of the series
    hold half as many) or fewer than 20 000 rows.
    """
    n_rows, n_dim = x_test.shape
    if n_dim < MAX_BINNED_DIM or n_rows < 2 * GMM_MAX_POINTS:
        return float("nan")
    half = n_rows // 2
    return state_space_divergence_gmm(x_test[:GMM_MAX_POINTS], x_test[half : half + GMM_MAX_POINTS])


def evaluate_model(
    model: Any,
    x_test: np.ndarray,
    *,
    dt: float = 1.0,
    n_runs: int = 5,
    smoothing: float = 20.0,
    pe_steps: int = 20,
    lyapunov_steps: int = 100_000,
    lyapunov_transient: int = 10_000,
    probes: int = BASIN_PROBES,
) -> dict[str, Any]:
    """DSR metrics of ``model`` on the (standardised) test series ``x_test`` ``(T, N)``.

    Returns a JSON-ready dict with ``D_stsp`` and ``D_H`` (the protocol run from the first test
    point), their per-start values and medians/MADs over the ``n_runs`` start points, the data's
    own floor of the GMM D_stsp (``D_stsp_floor``, :func:`data_floor`), ``PE``
    (PE(``pe_steps``)), ``lambda_max`` (per time unit, via ``dt``) and, for piecewise-linear
    models, ``n_subregions`` (subregions visited by the protocol run). Diverged runs count as NaN
    (null in JSON) and are left out of the medians (``n_valid_runs`` says how many remain); every
    null has a ``"<name>_reason"`` next to it, and ``"warnings"`` lists what
    :func:`~attractor.dsr.diagnostics.diagnose` found (collapse, divergence, orbits leaving the
    data range), each a dict with ``code``, ``message``, ``cause`` and ``try`` (flags).
    ``settled_probes`` of ``n_probes`` basin probes (free runs from points spread along
    the test series, :func:`settled_probes`) ended on a fixed point or a small cycle: a spurious
    attractor that the ``n_runs`` protocol starts may miss.
    """
    x_test = np.asarray(x_test, dtype=np.float64)
    observed, states = generate_runs(model, x_test, n_runs)
    long_term = evaluate_generated(x_test, list(observed), smoothing=smoothing)
    pe = prediction_error_n(model, x_test, pe_steps)
    lam = model_lyapunov(
        model,
        contexts_at(model, x_test, np.array([0]))[0],
        steps=lyapunov_steps,
        transient=lyapunov_transient,
        dt=dt,
    )
    metrics: dict[str, Any] = {
        "D_stsp": long_term["d_stsp"][0],
        "D_H": long_term["d_h"][0],
        "D_stsp_floor": data_floor(x_test),
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
    if isinstance(model, PiecewiseLinear):
        metrics["n_subregions"] = count_subregions(model, states[0])
        n_pwl = getattr(model.config, "n_pwl", None)
        if n_pwl is not None:
            metrics["max_subregions"] = 2**n_pwl
    settled = settled_probes(model, x_test, probes)
    metrics.update(settled_probes=settled, n_probes=probes)
    warnings = diagnose(x_test, list(observed), lam, settled=(settled, probes))
    metrics = {k: _clean(v) for k, v in metrics.items()}
    metrics = null_reasons(metrics, _reasons(observed, x_test, model, pe_steps, lam))
    metrics["warnings"] = [w.to_dict() for w in warnings]
    return metrics


def _reasons(
    observed: np.ndarray, x_test: np.ndarray, model: Any, pe_steps: int, lam: float
) -> dict[str, str]:
    """Why each metric of :func:`evaluate_model` may be missing, for this evaluation."""
    finite = [bool(np.all(np.isfinite(run))) for run in observed]
    bad = [k for k, ok in enumerate(finite) if not ok]
    first = ("the protocol run from the first test point diverged (NaN/inf)" if not finite[0]
             else "the generated run is constant in some dimension (a fixed point): its "
             "spectrum or density is undefined")
    starts = f"generated run(s) {', '.join(map(str, bad))} diverged (NaN/inf)" if bad else first
    none_left = "no generated run stayed finite" if not any(finite) else first
    too_short = len(x_test) <= int(model.context_length) - 1 + pe_steps
    reasons = {
        "D_stsp_floor": (f"defined for the Gaussian-mixture D_stsp (N >= {MAX_BINNED_DIM}) of a "
                         f"test series of at least {2 * GMM_MAX_POINTS} rows, where it is like for "
                         "like"),
        "D_stsp": first, "D_H": first, "D_stsp_starts": starts, "D_H_starts": starts,
        "PE": (f"the test series ({len(x_test)} rows) is too short for {pe_steps}-step forecasts"
               if too_short else f"the {pe_steps}-step forecasts diverged (NaN/inf)"),
        "lambda_max": ("the Jacobian is singular along the orbit (a superstable fixed point): "
                       "lambda_max = -inf" if lam == -np.inf
                       else "the model's trajectory diverged during the Lyapunov estimate"),
    }
    for name in ("D_stsp", "D_H"):
        for stat in ("median", "mad"):
            reasons[f"{name}_starts_{stat}"] = none_left
    return reasons


def _clean(value: Any) -> Any:
    """NaN/inf -> None so that metrics.json is strict JSON."""
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
