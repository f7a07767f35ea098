"""All analyses of one trained model in one call: what ``attractor analyze`` computes.

:func:`analyze_model` generates the model's attractor (a free run from a start point, the first
``transient`` steps dropped) and runs the analyses asked for on it:

- **fixed points**: exact enumeration for piecewise-linear models with at most ``max_regions``
  region codes, the speed minimisation otherwise or when ``slow_points`` are asked for too
  (starts drawn from the generated states); when
  the data came from a catalogue flow of the same dimension, the flow's equilibria too (started
  from its own attractor) and, for each equilibrium, the nearest model fixed point in
  standardised units (``matches``);
- **cycles** of periods ``2..cycles`` (piecewise-linear models): enumeration or the SCYFI search;
- **symbolic** dynamics of the generated latent trajectory (piecewise-linear models);
- **Koopman**: EDMD + ResDMD on the generated latent states (the dictionary fitted on the first
  half of the pairs, the residuals measured on the second);
- **Lyapunov** spectrum of the model, and of the system when the data came from one.

Nothing is written; the CLI writes files and figures from the :class:`AnalysisResult`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.analysis.dictionaries import DICTIONARIES
from attractor.analysis.fixed_points import (
    FixedPointSettings,
    find_fixed_points,
    system_equilibria,
)
from attractor.analysis.flat import flat_dynamics, trajectory_states
from attractor.analysis.koopman import DEFAULT_EPSILON, KoopmanSpectrum, koopman_spectrum
from attractor.analysis.lyapunov import SpectrumComparison, compare_lyapunov
from attractor.analysis.pwl import CycleSettings, enumerate_cycles, find_cycles
from attractor.analysis.symbolic import SymbolicDynamics, symbolic_dynamics
from attractor.analysis.table import PointTable
from attractor.errors import DivergenceError, InputError
from attractor.models.capabilities import PiecewiseLinear, require


@dataclasses.dataclass(frozen=True)
class AnalysisOptions:
    """Which analyses to run and their sizes (see the module docstring)."""

    fixed_points: bool = False
    slow_points: bool = False
    cycles: int = 0
    symbolic: bool = False
    koopman: bool = False
    lyapunov: bool = False
    steps: int = 20_000
    transient: int = 1_000
    n_starts: int = 512
    max_regions: int = 4096
    dictionary: str = "rbf"
    dictionary_size: int = 200
    epsilon: float = DEFAULT_EPSILON
    koopman_samples: int = 4000
    lyapunov_steps: int = 100_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.dictionary not in DICTIONARIES:
            raise InputError(
                f"dictionary must be one of {', '.join(DICTIONARIES)}, got {self.dictionary!r}"
            )


@dataclasses.dataclass
class AnalysisResult:
    """Everything :func:`analyze_model` found; ``to_dict`` is the CLI's JSON document."""

    model: str
    trajectory: np.ndarray  # (T, N) generated observations, standardised units
    latents: np.ndarray  # (T, D) generated flat states
    fixed_points: PointTable | None = None
    fixed_point_method: str | None = None
    directions: list[np.ndarray] = dataclasses.field(default_factory=list)
    system_fixed_points: PointTable | None = None
    matches: list[dict[str, Any]] | None = None
    cycles: dict[int, PointTable] = dataclasses.field(default_factory=dict)
    symbolic: SymbolicDynamics | None = None
    koopman: KoopmanSpectrum | None = None
    lyapunov: SpectrumComparison | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model, "n_steps": int(len(self.trajectory))}
        if self.fixed_points is not None:
            doc["fixed_points"] = self.fixed_points.records()
            doc["fixed_point_method"] = self.fixed_point_method
            doc["fixed_point_settings"] = self.fixed_points.settings
        if self.system_fixed_points is not None:
            doc["system_fixed_points"] = self.system_fixed_points.records()
            doc["fixed_point_matches"] = self.matches
        if self.cycles:
            doc["cycles"] = {str(k): t.records() for k, t in self.cycles.items()}
        if self.symbolic is not None:
            doc["symbolic"] = self.symbolic.to_dict()
        if self.koopman is not None:
            doc["koopman"] = self.koopman.to_dict()
        if self.lyapunov is not None:
            doc["lyapunov"] = self.lyapunov.to_dict()
        return doc


def _fixed_points(model: Any, states: Any, opts: AnalysisOptions,
                  standardizer: Any) -> tuple[PointTable, str]:
    if _enumerable(model, 1, opts.max_regions) and not opts.slow_points:
        table = enumerate_cycles(model, 1, max_sequences=opts.max_regions,
                                 standardizer=standardizer)
        return table, "enumeration"
    settings = FixedPointSettings(n_starts=opts.n_starts, keep_slow=opts.slow_points,
                                  seed=opts.seed)
    return find_fixed_points(model, states, settings=settings, standardizer=standardizer), "speed"


def _enumerable(model: Any, k: int, max_sequences: int) -> bool:
    """Whether exact enumeration of ``k``-cycles applies: a piecewise-linear model with a flat
    state that writes out ``code_system``, and at most ``max_sequences`` code sequences."""
    if not isinstance(model, PiecewiseLinear):
        return False
    if type(model).code_system is PiecewiseLinear.code_system:
        return False
    z0 = model.init_state(jnp.zeros((1, model.obs_dim)))
    if not (isinstance(z0, jax.Array) and z0.ndim == 1):
        return False
    return 2 ** (int(np.asarray(model.region_code(z0)).size) * k) <= max_sequences


def unstable_directions(model: Any, table: PointTable, example_state: Any) -> list[np.ndarray]:
    """For each point, its unstable eigen-directions mapped into observation space (real and
    imaginary parts of complex eigenvectors): ``(n_i, N)`` arrays of ``∂observe/∂z · v``."""
    out = []
    with float64():
        dyn = flat_dynamics(model, example_state)
        for i in range(len(table)):
            z = jnp.asarray(table.latent[i])
            lam, vecs = table.eigenvalues[i], table.eigenvectors[i]
            dirs = []
            for j in np.flatnonzero(np.abs(lam) > 1.0 if table.kind == "map" else lam.real > 0):
                for part in (vecs[:, j].real, vecs[:, j].imag):
                    if np.linalg.norm(part) > 1e-8:
                        dirs.append(np.asarray(jax.jvp(dyn.observe, (z,), (jnp.asarray(part),))[1]))
            n_obs = table.observation_standardized.shape[1]
            out.append(np.asarray(dirs) if dirs else np.zeros((0, n_obs)))
    return out


def match_equilibria(system: PointTable, model: PointTable) -> list[dict[str, Any]]:
    """For each system equilibrium the nearest model fixed point, by the largest absolute
    difference of standardised coordinates."""
    out = []
    for i in range(len(system)):
        target = system.observation_standardized[i]
        if len(model) == 0:
            out.append({"system_index": i, "model_index": None, "max_abs_difference": None})
            continue
        dist = np.max(np.abs(model.observation_standardized - target), axis=1)
        j = int(np.argmin(dist))
        lam = model.eigenvalues
        out.append(
            {
                "system_index": i,
                "model_index": j,
                "max_abs_difference": float(dist[j]),
                "system_n_unstable": int(system.n_unstable[i]),
                "model_n_unstable": int(model.n_unstable[j]),
                "model_unstable_complex": bool(np.any((np.abs(lam[j]) > 1) & (lam[j].imag != 0))),
            }
        )
    return out


def analyze_model(
    model: Any,
    start: Any,
    *,
    options: AnalysisOptions,
    standardizer: Any = None,
    dt: float = 1.0,
    system: str | None = None,
    state_observed: bool = True,
) -> AnalysisResult:
    """Run the analyses of ``options`` on ``model`` (module docstring).

    Args:
        model: a trained model.
        start: a context ``(T_ctx, N)`` or one observation ``(N,)``, standardised units.
        options: what to run.
        standardizer: the training data's standardisation (to report original units).
        dt: the data's sampling step (Lyapunov exponents per time unit).
        system: the catalogue system the data came from, if any.
        state_observed: whether the model observes the system's state coordinates; ``False``
            (some coordinates only, or delay coordinates) skips the comparison with the
            system's equilibria, which live in other coordinates. Lyapunov exponents are
            compared either way (a delay embedding preserves them).
    """
    if options.cycles or options.symbolic:
        require(model, PiecewiseLinear, by="--cycles" if options.cycles else "--symbolic")
    context = jnp.asarray(start, jnp.float32).reshape(-1, model.obs_dim)
    n_total = options.transient + options.steps
    states = trajectory_states(model, context[None], n_total)
    states = jax.tree_util.tree_map(lambda s: s[options.transient :], states)
    observed = np.asarray(model.observe_many(states), np.float64)
    with float64():
        example = jax.tree_util.tree_map(lambda s: s[0], states)
        latents = np.asarray(flat_dynamics(model, example).ravel_many(states))
    if not (np.all(np.isfinite(observed)) and np.all(np.isfinite(latents))):
        raise DivergenceError("the model's free run diverged (NaN/inf): nothing to analyse")
    name = getattr(getattr(model, "config", None), "name", type(model).__name__)
    result = AnalysisResult(model=name, trajectory=observed, latents=latents)

    if options.fixed_points:
        table, method = _fixed_points(model, states, options, standardizer)
        result.fixed_points, result.fixed_point_method = table, method
        result.directions = unstable_directions(model, table, example)
        sys_table = _system_table(system if state_observed else None, observed.shape[1],
                                  standardizer, options)
        if sys_table is not None:
            result.system_fixed_points = sys_table
            result.matches = match_equilibria(sys_table, table)

    for k in range(2, options.cycles + 1):
        if _enumerable(model, k, options.max_regions):
            result.cycles[k] = enumerate_cycles(model, k, max_sequences=options.max_regions,
                                                standardizer=standardizer)
        else:
            result.cycles[k] = find_cycles(model, k, latents,
                                           settings=CycleSettings(seed=options.seed),
                                           standardizer=standardizer)

    if options.symbolic:
        result.symbolic = symbolic_dynamics(model, latents)

    if options.koopman:
        result.koopman = _koopman(latents, options)

    if options.lyapunov:
        result.lyapunov = compare_lyapunov(
            model, np.asarray(context), system=system, dt=dt, n_steps=options.lyapunov_steps,
            transient=min(options.lyapunov_steps // 10, 10_000), seed=options.seed,
        )
    return result


def _system_table(system: str | None, n_obs: int, standardizer: Any,
                  options: AnalysisOptions) -> PointTable | None:
    """The flow's equilibria (started from its own attractor), if the data came from a flow
    whose state is what the model observes."""
    if system is None or standardizer is None:
        return None
    from attractor.systems import get

    spec = get(system)
    if spec.kind != "flow" or spec.dim != n_obs:
        return None
    settings = FixedPointSettings(n_starts=min(options.n_starts, 256), seed=options.seed)
    return system_equilibria(system, settings=settings, standardizer=standardizer)


def _koopman(latents: np.ndarray, options: AnalysisOptions) -> KoopmanSpectrum:
    stride = max(1, (len(latents) - 1) // (2 * options.koopman_samples))
    x, y = latents[:-1:stride], latents[1::stride]
    half = len(x) // 2
    cls = DICTIONARIES[options.dictionary]
    size_field = {"polynomial": None, "rbf": "n_centers", "fourier": "n_features",
                  "kernel": "rank"}[options.dictionary]
    kwargs: dict[str, Any] = {"seed": options.seed} if size_field else {"order": 3}
    if size_field:
        kwargs[size_field] = options.dictionary_size
    return koopman_spectrum(x[half:], y[half:], cls(**kwargs), epsilon=options.epsilon,
                            fit_on=x[:half])


__all__ = ["AnalysisOptions", "AnalysisResult", "analyze_model", "match_equilibria",
           "unstable_directions"]
