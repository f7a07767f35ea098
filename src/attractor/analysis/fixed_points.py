"""Fixed and slow points of any model with a step, by minimising the speed (Sussillo & Barak,
Neural Computation 25:626, 2013, "Opening the black box"; Golub & Sussillo, JOSS 3:1003, 2018).

For a map ``z_{t+1} = F(z_t)`` (a trained model's closed-loop step on its flattened state,
:mod:`attractor.analysis.flat`) the **speed** is

    q(z) = ½ ‖F(z) − z‖²            (``normalization="sum"``; ``"mean"``: ½ mean_i (F(z) − z)_i²)

and for a flow ``ż = f(z)`` it is ``½ ‖f(z)‖²``. Zeros of ``q`` are fixed points (equilibria);
local minima with small ``q > 0`` are **slow points** (ghosts of bifurcations, approximate line
attractors), where the linearisation is still informative.

Algorithm (all starts at once, float64):

1. ``n_starts`` starting states are drawn (with replacement) from states sampled along
   trajectories, plus optional Gaussian noise of std ``noise_scale``;
2. Adam on ``Σ_b q(z_b)`` (each start gets its own gradient) with the learning rate decaying
   exponentially from ``learning_rate`` to ``final_learning_rate`` over ``max_iters`` steps, stopped
   early once every start has ``q <= tol_fixed``;
3. a **Newton polish** of ``F(z) − z = 0`` (``newton_iters`` steps, each the best of the step
   lengths 1, ½, ¼, ⅛, accepted only if it lowers ``q``); for a piecewise-linear model one Newton
   step from inside a linear region lands on that region's affine fixed point, so PWL fixed points
   are found to rounding error;
4. a point is a **fixed point** when ``q <= tol_fixed``; with ``keep_slow`` points with
   ``q <= tol_slow`` are kept as slow points (``fixed = False``); others are dropped;
5. **outliers** are dropped: points whose distance to the centroid of the starts exceeds
   ``outlier_scale`` times the mean distance of the starts to that centroid, or times
   ``OUTLIER_FLOOR`` if that is larger (FixedPointFinder's rule with a floor; ``None`` keeps
   everything);
6. **duplicates** (2-norm distance ``<= tol_unique`` in state units) are merged, the slower kept;
7. Jacobians (the model's own when it has the ``jacobian`` capability, else autodiff) and their
   eigen-decompositions give stability and the number of unstable directions
   (:mod:`attractor.analysis.table`).

Deliberate differences from FixedPointFinder: float64 throughout (its default is float32); the
Newton polish (Sussillo & Barak used a second-order optimiser; FixedPointFinder has none); pytree
states such as an LSTM's ``(h, c)`` are flattened, so LSTMs are supported; Adam's learning rate
follows a fixed exponential schedule rather than a plateau rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from attractor._precision import float64
from attractor.analysis.flat import flat_dynamics
from attractor.analysis.table import PointTable, build_table, region_string
from attractor.errors import InputError
from attractor.models.capabilities import PiecewiseLinear

NORMALIZATIONS = ("sum", "mean")
#: Least spread of the starts the outlier rule uses (state units): when the trajectory has
#: settled on a stable fixed point or cycle, the starts' own spread is ~0 and would make every
#: point an outlier (the case of FixedPointFinder's rule it does not handle).
OUTLIER_FLOOR = 0.1
#: Step lengths tried by each Newton iteration (the best one that lowers q is taken).
NEWTON_STEPS = (1.0, 0.5, 0.25, 0.125)


@dataclasses.dataclass(frozen=True)
class FixedPointSettings:
    """Settings of the speed minimisation (see the module docstring for where each acts).

    Attributes:
        n_starts: starting states drawn from the given states.
        noise_scale: std of Gaussian noise added to the starts (state units).
        learning_rate, final_learning_rate: Adam's learning rate, decayed exponentially.
        max_iters: Adam iterations at most.
        newton_iters: Newton iterations of the polish (0: none).
        normalization: ``"sum"`` (½ Σ r², FixedPointFinder's q) or ``"mean"`` (½ mean r²).
        tol_fixed: speed at or below which a point is a fixed point.
        keep_slow: also report slow points (``tol_fixed < q <= tol_slow``).
        tol_slow: speed at or below which a point is a slow point.
        tol_unique: points closer than this (2-norm, state units) are one point.
        outlier_scale: outlier rule (``None``: off).
        seed: random draws of the starts.
    """

    n_starts: int = 512
    noise_scale: float = 0.0
    learning_rate: float = 1e-2
    final_learning_rate: float = 1e-4
    max_iters: int = 2000
    newton_iters: int = 20
    normalization: str = "sum"
    tol_fixed: float = 1e-14
    keep_slow: bool = False
    tol_slow: float = 1e-4
    tol_unique: float = 1e-3
    outlier_scale: float | None = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise InputError(
                f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}"
            )
        for name in ("n_starts", "max_iters"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.newton_iters, int) or self.newton_iters < 0:
            raise InputError(f"newton_iters must be an integer >= 0, got {self.newton_iters!r}")
        for name in ("learning_rate", "final_learning_rate", "tol_fixed", "tol_slow"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not (self.noise_scale >= 0 and self.tol_unique >= 0):
            raise InputError("noise_scale and tol_unique must be >= 0")
        if self.outlier_scale is not None and not self.outlier_scale > 0:
            raise InputError(f"outlier_scale must be > 0 or None, got {self.outlier_scale!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- the optimisation
Residual = Callable[[Any, jax.Array], jax.Array]


def _speed(residual: Residual, args: Any, z: jax.Array, normalization: str) -> jax.Array:
    r = residual(args, z)
    return 0.5 * (jnp.sum(r**2) if normalization == "sum" else jnp.mean(r**2))


@eqx.filter_jit
def _adam(
    residual: Residual, args: Any, starts: jax.Array, hyper: jax.Array, normalization: str
) -> jax.Array:
    """Adam on the summed speed; ``hyper = [lr, final lr, max_iters, tol_fixed]`` is traced, so
    one compilation serves every setting (and every model of the same structure)."""
    lr0, lr1, max_iters, tol = hyper[0], hyper[1], hyper[2], hyper[3]
    opt = optax.adam(lambda count: lr0 * (lr1 / lr0) ** (count / max_iters))
    speeds = jax.vmap(lambda z: _speed(residual, args, z, normalization))

    def total(z: jax.Array) -> tuple[jax.Array, jax.Array]:
        q = speeds(z)
        return jnp.sum(q), q

    def cond(carry: tuple) -> jax.Array:
        i, _, _, q = carry
        worst = jnp.max(jnp.where(jnp.isfinite(q), q, 0.0))
        return (i < max_iters) & (worst > tol)

    def body(carry: tuple) -> tuple:
        i, z, state, _ = carry
        (_, q), grad = jax.value_and_grad(total, has_aux=True)(z)
        grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
        updates, state = opt.update(grad, state, z)
        return i + 1, optax.apply_updates(z, updates), state, q

    q0 = jnp.full(starts.shape[0], jnp.inf, starts.dtype)
    _, z, _, _ = jax.lax.while_loop(cond, body, (0, starts, opt.init(starts), q0))
    return z


@eqx.filter_jit
def newton_polish(
    residual: Residual, args: Any, z: jax.Array, n_iters: int, normalization: str = "sum"
) -> jax.Array:
    """``n_iters`` damped Newton steps on ``residual(args, z) = 0`` for each row of ``z``."""
    steps = jnp.asarray(NEWTON_STEPS, z.dtype)

    def speed(y: jax.Array) -> jax.Array:
        q = _speed(residual, args, y, normalization)
        return jnp.where(jnp.isfinite(q), q, jnp.inf)

    def one(z0: jax.Array) -> jax.Array:
        def body(_: int, y: jax.Array) -> jax.Array:
            r = residual(args, y)
            jac = jax.jacfwd(lambda v: residual(args, v))(y)
            dy = jnp.linalg.solve(jac, -r)
            candidates = y[None] + steps[:, None] * dy[None]
            qs = jax.vmap(speed)(candidates)
            best = jnp.argmin(qs)
            return jnp.where(qs[best] < speed(y), candidates[best], y)

        return jax.lax.fori_loop(0, n_iters, body, z0)

    return jax.vmap(one)(z)


def minimise_speed(
    residual: Residual, args: Any, starts: jax.Array, settings: FixedPointSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2–3 of the module docstring: the optimised points ``(K, D)`` and their speeds."""
    hyper = jnp.asarray([settings.learning_rate, settings.final_learning_rate,
                         settings.max_iters, settings.tol_fixed], starts.dtype)
    z = _adam(residual, args, starts, hyper, settings.normalization)
    if settings.newton_iters:
        z = newton_polish(residual, args, z, settings.newton_iters, settings.normalization)
    q = jax.vmap(lambda y: _speed(residual, args, y, settings.normalization))(z)
    return np.asarray(z, np.float64), np.asarray(q, np.float64)


def select_points(
    z: np.ndarray, q: np.ndarray, starts: np.ndarray, settings: FixedPointSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 4–6: indices of the points kept (slowest first) and whether each is fixed."""
    ok = np.isfinite(q) & np.all(np.isfinite(z), axis=1)
    fixed = q <= settings.tol_fixed
    ok &= fixed | (settings.keep_slow & (q <= settings.tol_slow))
    if settings.outlier_scale is not None and len(starts):
        centroid = starts.mean(axis=0)
        scale = max(np.mean(np.linalg.norm(starts - centroid, axis=1)), OUTLIER_FLOOR)
        ok &= np.linalg.norm(z - centroid, axis=1) < settings.outlier_scale * scale
    kept: list[int] = []
    for i in np.flatnonzero(ok)[np.argsort(q[ok], kind="stable")]:
        if all(np.linalg.norm(z[i] - z[j]) > settings.tol_unique for j in kept):
            kept.append(int(i))
    idx = np.asarray(kept, dtype=int)
    return idx, fixed[idx]


def draw_starts(flat_states: np.ndarray, settings: FixedPointSettings) -> np.ndarray:
    """Step 1: ``n_starts`` rows of ``flat_states`` ``(K, D)`` (with replacement) plus noise."""
    flat_states = np.asarray(flat_states, np.float64)
    flat_states = flat_states[np.all(np.isfinite(flat_states), axis=1)]
    if flat_states.ndim != 2 or flat_states.shape[0] == 0:
        raise InputError("fixed points: no finite states to start from")
    rng = np.random.default_rng(settings.seed)
    rows = rng.integers(0, flat_states.shape[0], settings.n_starts)
    starts = flat_states[rows]
    if settings.noise_scale > 0:
        starts = starts + settings.noise_scale * rng.standard_normal(starts.shape)
    return starts


# ------------------------------------------------------------------------------ public entries
def _map_residual(dyn: Any, z: jax.Array) -> jax.Array:
    return dyn.step(z) - z


def find_fixed_points(
    model: Any,
    states: Any,
    *,
    settings: FixedPointSettings | None = None,
    standardizer: Any = None,
) -> PointTable:
    """Fixed (and, with ``settings.keep_slow``, slow) points of ``model``'s closed-loop step.

    Args:
        model: any :class:`~attractor.models.DynamicsModel` (autonomous).
        states: model states stacked along a leading axis (any pytree, e.g. from
            :func:`attractor.analysis.flat.trajectory_states`); starts are drawn from them.
        settings: see :class:`FixedPointSettings`.
        standardizer: the training data's standardisation (``inverse_transform``), to report
            observations in original units as well.

    Returns:
        A :class:`~attractor.analysis.table.PointTable` (map stability: ``|λ| < 1``), slowest
        first; for piecewise-linear models with a flat state, with region codes.
    """
    settings = settings or FixedPointSettings()
    with float64():
        first = jax.tree_util.tree_map(lambda s: s[0], states)
        dyn = flat_dynamics(model, first)
        flat = np.asarray(dyn.ravel_many(states))
        starts = draw_starts(flat, settings)
        z, q = minimise_speed(_map_residual, dyn, jnp.asarray(starts), settings)
        idx, fixed = select_points(z, q, starts, settings)
        return table_for(dyn, z[idx], speeds=q[idx], standardizer=standardizer, fixed=fixed,
                         settings=settings.to_dict())


@eqx.filter_jit
def _point_data(dyn: Any, pts: jax.Array, period: int) -> tuple:
    """Jacobians, observations, ``F^period`` and region codes (``None`` for smooth models) of
    the points ``(K, D)``, in one compiled call."""
    jacs = jax.vmap(dyn.jacobian)(pts)
    obs = jax.vmap(dyn.observe)(pts)
    images = jax.vmap(lambda z: jax.lax.fori_loop(0, period, lambda _, y: dyn.step(y), z))(pts)
    codes = None
    if isinstance(dyn.model, PiecewiseLinear) and dyn.is_flat:
        codes = dyn.model.region_code(pts)
    return jacs, obs, images, codes


def table_for(
    dyn: Any,
    points: np.ndarray,
    *,
    speeds: np.ndarray | None = None,
    standardizer: Any = None,
    period: int = 1,
    fixed: np.ndarray | None = None,
    settings: dict[str, Any] | None = None,
) -> PointTable:
    """The table of points of a model's flat dynamics ``dyn`` (inside ``float64()``): for
    ``period > 1`` ``points`` holds whole cycles, ``period`` consecutive rows each, and the
    eigenvalues are those of the cycle's monodromy matrix. ``speeds`` default to
    ``½‖F^period(z) − z‖²``."""
    pts = np.asarray(points, np.float64).reshape(-1, dyn.dim)
    n, n_obs = len(pts), int(dyn.model.obs_dim)
    if n:
        jacs, obs, images, codes = (
            None if a is None else np.asarray(a) for a in _point_data(dyn, jnp.asarray(pts), period)
        )
    else:
        jacs, obs = np.zeros((0, dyn.dim, dyn.dim)), np.zeros((0, n_obs))
        images = pts
        codes = np.zeros((0, 0)) if isinstance(dyn.model, PiecewiseLinear) and dyn.is_flat else None
    if period > 1 and n:
        jacs = np.stack([monodromy(jacs, s, period) for s in range(n)])
    if speeds is None:
        speeds = 0.5 * np.sum((images - pts) ** 2, axis=1)
    return build_table(
        "map",
        pts,
        speeds,
        jacs,
        lambda _: obs,
        standardizer=standardizer,
        region=None if codes is None else [region_string(c) for c in codes],
        period=np.full(n, period),
        cycle=np.arange(n) // period,
        fixed=fixed,
        settings=settings,
    )


def monodromy(jacobians: np.ndarray, row: int, period: int) -> np.ndarray:
    """``J(z_{i+k-1}) ⋯ J(z_i)`` for the cycle point in ``row`` (cycle rows are consecutive)."""
    start = (row // period) * period
    offset = row - start
    out = np.eye(jacobians.shape[1])
    for j in range(period):
        out = jacobians[start + (offset + j) % period] @ out
    return out


def _field_residual(field: Callable[[jax.Array], jax.Array], z: jax.Array) -> jax.Array:
    return field(z)


def find_equilibria(
    vector_field: Callable[[jax.Array], jax.Array],
    states: np.ndarray,
    *,
    settings: FixedPointSettings | None = None,
    standardizer: Any = None,
) -> PointTable:
    """Equilibria ``f(z*) = 0`` of a flow ``ż = f(z)`` (e.g. the system the data came from),
    starting from rows of ``states`` ``(K, D)``; stability by ``Re λ < 0`` of ``∂f/∂z``.

    ``vector_field`` maps ``(D,)`` to ``(D,)`` and must be traceable by JAX. With a
    ``standardizer``, ``observation_standardized`` is ``standardizer.transform(z*)`` (the state is
    the observation) and ``observation`` is ``z*``.
    """
    settings = settings or FixedPointSettings()
    with float64():
        starts = draw_starts(np.asarray(states, np.float64), settings)
        z, q = minimise_speed(_field_residual, vector_field, jnp.asarray(starts), settings)
        idx, fixed = select_points(z, q, starts, settings)
        pts = z[idx]
        dim = pts.shape[1]
        jacs = (np.asarray(jax.vmap(jax.jacfwd(vector_field))(jnp.asarray(pts))) if len(pts)
                else np.zeros((0, dim, dim)))
    observe = (lambda p: p) if standardizer is None or not len(pts) else standardizer.transform
    table = build_table("flow", pts, q[idx], jacs, observe, fixed=fixed,
                        settings=settings.to_dict())
    if standardizer is not None:
        table.observation = pts.copy()
    return table


def system_equilibria(
    name: str,
    *,
    states: Any = None,
    n_samples: int = 2000,
    settings: FixedPointSettings | None = None,
    standardizer: Any = None,
) -> PointTable:
    """Equilibria of a catalogue flow (``attractor.systems``), started from ``states`` ``(K, D)``
    in the system's units (default: ``n_samples`` points of its attractor); reported in the
    system's own units (``observation``) and, with a ``standardizer``, standardised ones."""
    from attractor.systems import get

    system = get(name)
    if system.kind != "flow" or system.rhs is None:
        raise InputError(f"system {name!r} is a {system.kind}, not a flow: no equilibria")
    with float64():
        if states is None:
            states = _orbit(system, n_samples)
        x = np.asarray(states, np.float64).reshape(-1, system.dim)
        params = system.jax_params()
        rhs = system.rhs
        zero = jnp.zeros((), jnp.float64)
        field = jax.tree_util.Partial(lambda p, z: rhs(z, zero, p), params)
        return find_equilibria(field, x, settings=settings, standardizer=standardizer)


def _orbit(system: Any, n: int) -> np.ndarray:
    """``n`` points of the system's orbit from its default initial condition (RK4 sampling
    steps, float64), after its recommended burn-in."""
    step = system.make_step()
    burn = int(np.ceil(system.transient / system.dt))

    def body(x: jax.Array, _: None) -> tuple:
        x = step(x)
        return x, x

    x0 = jnp.asarray(system.initial_condition, jnp.float64)
    _, xs = jax.jit(lambda x: jax.lax.scan(body, x, None, length=burn + n))(x0)
    return np.asarray(xs)[burn:]


__all__ = [
    "FixedPointSettings",
    "draw_starts",
    "find_equilibria",
    "find_fixed_points",
    "minimise_speed",
    "monodromy",
    "newton_polish",
    "select_points",
    "system_equilibria",
    "table_for",
]
