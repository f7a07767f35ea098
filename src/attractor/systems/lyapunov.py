"""Lyapunov spectra by the QR (Benettin) method, with tangent maps from autodiff.

For a step map ``x_{n+1} = f(x_n)`` (a flow sampled every ``dt`` time units, a map, or a discretised
PDE), ``k`` tangent vectors ``Q_n`` (a ``(D, k)`` matrix with orthonormal columns) are pushed
forward by the Jacobian, ``J(x_n) Q_n``, computed column by column with ``jax.jvp`` (``vmap`` over
the ``k`` tangents; the full ``D x D`` Jacobian is never formed, so a 512-point PDE grid costs
``k`` Jacobian-vector products per step). Every ``qr_every`` steps the propagated vectors are
re-orthonormalised by a QR factorisation ``J Q = Q' R``; the exponents are the time averages

    lambda_i = 1 / (N dt) * sum_n log |R_n[i, i]|,

in units of inverse time for flows and PDEs (``dt`` is the sampling step) and per iteration for maps
(``dt = 1``). The whole run (transient plus measurement) is one jitted ``lax.scan`` in float64.

References:
    G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, "Lyapunov characteristic exponents for
    smooth dynamical systems and for Hamiltonian systems; a method for computing all of them",
    Meccanica 15:9-30 (1980).
    I. Shimada, T. Nagashima, "A numerical approach to ergodic problem of dissipative dynamical
    systems", Prog. Theor. Phys. 61:1605-1616 (1979).
    J. L. Kaplan, J. A. Yorke, "Chaotic behavior of multidimensional difference equations",
    Lecture Notes in Mathematics 730:204-227 (1979).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.errors import DivergenceError, InputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from attractor.systems.base import System

StepFn = Callable[[jax.Array], jax.Array]

#: default measurement length, in steps, by system kind
DEFAULT_N_STEPS: dict[str, int] = {"flow": 100_000, "map": 100_000, "pde": 20_000}
#: default number of leading exponents for PDEs (flows and maps get the full spectrum)
DEFAULT_PDE_EXPONENTS = 16
#: the running estimate is thinned to at most this many records
HISTORY_POINTS = 1_000


@dataclasses.dataclass(frozen=True)
class LyapunovResult:
    """Lyapunov exponents and what they were computed from.

    Attributes:
        exponents: ``(k,)`` float64, descending; per unit time (flows, PDEs), per iteration (maps).
        max: the largest exponent ``exponents[0]``.
        sum: the sum of the ``k`` exponents (for a full spectrum: the mean phase-space contraction).
        kaplan_yorke: Kaplan–Yorke dimension of ``exponents`` (a lower bound when ``k < dim``).
        n_steps: measurement steps actually used (a whole number of QR blocks).
        dt: time per step (1 for maps).
        transient_steps: steps discarded before measuring (the tangents align during them).
        qr_every: steps between re-orthonormalisations.
        history: ``(n_records, k)`` running estimates (``None`` unless requested).
        history_time: ``(n_records,)`` measured time (``steps * dt``) of each running estimate.
        system: name of the system, if the estimate came from one.
    """

    exponents: np.ndarray
    max: float
    sum: float
    kaplan_yorke: float
    n_steps: int
    dt: float
    transient_steps: int
    qr_every: int
    history: np.ndarray | None = None
    history_time: np.ndarray | None = None
    system: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the history is left out)."""
        return {
            "system": self.system,
            "exponents": [float(v) for v in self.exponents],
            "max": self.max,
            "sum": self.sum,
            "kaplan_yorke": self.kaplan_yorke,
            "n_steps": self.n_steps,
            "dt": self.dt,
            "transient_steps": self.transient_steps,
            "qr_every": self.qr_every,
        }


def kaplan_yorke_dimension(exponents: Any) -> float:
    """Kaplan–Yorke (Lyapunov) dimension ``D_KY = j + (λ_1 + … + λ_j) / |λ_{j+1}|``.

    ``j`` is the largest index whose partial sum ``λ_1 + … + λ_j`` is non-negative (exponents
    sorted in descending order). Returns 0 when ``λ_1 < 0`` (a stable fixed point or cycle) and
    ``n = len(exponents)`` when no partial sum becomes negative (then ``n`` is only a lower bound of
    the dimension: more exponents are needed). ``-inf`` exponents (a tangent direction contracted
    to exactly zero, e.g. a superstable point) are allowed. Kaplan & Yorke, LNM 730:204 (1979).
    """
    lam = np.sort(np.asarray(exponents, dtype=np.float64).reshape(-1))[::-1]
    if lam.size == 0:
        raise InputError("kaplan_yorke_dimension: exponents is empty")
    if np.any(np.isnan(lam) | (lam == np.inf)):
        raise InputError("kaplan_yorke_dimension: exponents contain NaN or +inf")
    if lam[0] < 0:
        return 0.0
    partial = np.cumsum(lam)
    nonneg = np.nonzero(partial >= 0)[0]
    j = int(nonneg[-1]) + 1  # number of exponents in the largest non-negative partial sum
    if j == lam.size:
        return float(lam.size)
    return float(j + partial[j - 1] / abs(lam[j]))


def _tangent_step(step: StepFn, x: jax.Array, q: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(f(x), J_f(x) @ q)`` for ``q`` of shape ``(D, k)``: ``k`` JVPs sharing one primal pass."""

    def one(v: jax.Array) -> tuple[jax.Array, jax.Array]:
        y, tangent = jax.jvp(step, (x,), (v,))
        return y.astype(x.dtype), tangent.astype(x.dtype)

    return jax.vmap(one, in_axes=1, out_axes=(None, 1))(q)


#: QR blocks per compiled call. The run is a Python loop over calls of this many blocks (plus one
#: shorter call for the remainder: at most two compilations), waiting for each: a Python signal
#: handler only runs between calls into XLA, so Ctrl-C / SIGTERM stop a long measurement after
#: at most one chunk (Lorenz-63 at dt = 0.01: ~0.1 s) instead of at its end. The result is the
#: same as one long scan; the cost is one dispatch per chunk.
CHUNK_BLOCKS = 5_000


def _make_runner(
    step: StepFn, *, qr_every: int, n_transient: int, n_blocks: int, keep_logs: bool
) -> Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array, jax.Array]]:
    """``(x0, Q0) -> (x_end, sum of log|diag R| after transient, per-block logs)``, run as jitted
    chunks of :data:`CHUNK_BLOCKS` QR blocks."""

    def propagate(x: jax.Array, q: jax.Array) -> tuple[jax.Array, jax.Array]:
        if qr_every == 1:
            return _tangent_step(step, x, q)
        return jax.lax.fori_loop(0, qr_every, lambda _, c: _tangent_step(step, *c), (x, q))

    def block(carry: tuple, _: None) -> tuple[tuple, jax.Array]:
        x, q, total, i = carry
        x, q = propagate(x, q)
        q, r = jnp.linalg.qr(q)
        logs = jnp.log(jnp.abs(jnp.diagonal(r)))
        total = total + jnp.where(i >= n_transient, logs, 0.0)
        return (x, q, total, i + 1), (logs if keep_logs else None)

    @functools.partial(jax.jit, static_argnames="length")
    def advance(carry: tuple, length: int) -> tuple[tuple, jax.Array | None]:
        return jax.lax.scan(block, carry, None, length=length)

    def run(x0: jax.Array, q0: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        carry = (x0, q0, jnp.zeros(q0.shape[1], x0.dtype), jnp.asarray(0, jnp.int32))
        remaining, parts = n_transient + n_blocks, []
        while remaining > 0:
            length = min(CHUNK_BLOCKS, remaining)
            carry, logs = advance(carry, length=length)
            carry = jax.block_until_ready(carry)  # wait here, where a signal can interrupt
            if keep_logs:
                parts.append(logs)
            remaining -= length
        x, _, total, _ = carry
        if parts:
            return x, total, jnp.concatenate(parts)
        return x, total, jnp.zeros((0, q0.shape[1]), x0.dtype)

    return run


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive_float(name: str, value: Any) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def lyapunov_spectrum_from_step(
    step: StepFn,
    x0: Any,
    *,
    n_exponents: int | None = None,
    dt: float = 1.0,
    n_steps: int = 20_000,
    transient_steps: int = 2_000,
    qr_every: int = 1,
    key: jax.Array | None = None,
    return_history: bool = False,
    name: str | None = None,
) -> LyapunovResult:
    """Leading Lyapunov exponents of any JAX step map ``x -> x_next`` (QR / Benettin method).

    Args:
        step: pure, differentiable function of a ``(D,)`` state; a trained model's latent step
            works as well as a system's step map. Constants it closes over may be float32; the
            orbit and tangents are carried in float64.
        x0: ``(D,)`` initial state; the first ``transient_steps`` steps are discarded.
        n_exponents: number ``k <= D`` of leading exponents (default: all ``D``).
        dt: time per step (time units per step for sampled flows; 1 for maps: per iteration).
        n_steps: measurement steps (rounded down to a whole number of ``qr_every`` blocks).
        transient_steps: steps run first (orbit onto the attractor, tangents onto the Lyapunov
            vectors) and not averaged; rounded down to whole blocks.
        qr_every: steps between QR re-orthonormalisations; raise it only for cheap steps with small
            exponents (tangent norms grow like ``exp(λ_1 dt qr_every)`` in between).
        key: JAX PRNG key for the random orthonormal initial tangents (default ``PRNGKey(0)``).
        return_history: also return the running estimates (``HISTORY_POINTS`` records at most).
        name: label stored in the result.

    An exponent is ``-inf`` when the map contracts a tangent direction to exactly zero (a
    superstable point, a ReLU unit switched off); that is a result, not an error.

    Raises:
        InputError: bad arguments.
        DivergenceError: the orbit became NaN/inf, or the tangent vectors NaN/+inf.
    """
    qr_every = _positive_int("qr_every", qr_every)
    n_steps = _positive_int("n_steps", n_steps, minimum=qr_every)
    transient_steps = _positive_int("transient_steps", transient_steps, minimum=0)
    if not (
        isinstance(dt, int | float | np.integer | np.floating) and math.isfinite(dt) and dt > 0
    ):
        raise InputError(f"dt must be a positive number, got {dt!r}")
    n_blocks, n_transient = n_steps // qr_every, transient_steps // qr_every
    if n_blocks + n_transient >= 2**31:  # the block counter is int32
        raise InputError(
            f"n_steps + transient_steps is {n_steps + transient_steps} steps = "
            f"{n_blocks + n_transient} QR blocks; at most 2**31 - 1 blocks are supported"
        )
    with float64():
        x = jnp.asarray(x0, dtype=jnp.float64)
        if x.ndim != 1 or x.shape[0] == 0:
            raise InputError(f"x0 must be a non-empty 1-D state vector, got shape {x.shape}")
        dim = int(x.shape[0])
        k = dim if n_exponents is None else _positive_int("n_exponents", n_exponents)
        if k > dim:
            raise InputError(f"n_exponents={k} exceeds the state dimension {dim}")
        if not bool(jnp.all(jnp.isfinite(x))):
            raise InputError("x0 contains NaN or inf")
        out = jax.eval_shape(step, x)
        if getattr(out, "shape", None) != x.shape:
            raise InputError(
                f"step must map a state of shape {x.shape} to the same shape, "
                f"got {getattr(out, 'shape', type(out).__name__)}"
            )
        key = jax.random.PRNGKey(0) if key is None else key
        q0, _ = jnp.linalg.qr(jax.random.normal(key, (dim, k), dtype=jnp.float64))
        runner = _make_runner(
            step,
            qr_every=qr_every,
            n_transient=n_transient,
            n_blocks=n_blocks,
            keep_logs=return_history,
        )
        x_end, total, logs = runner(x, q0)
        x_end, total, logs = np.asarray(x_end), np.asarray(total), np.asarray(logs)
    if not np.all(np.isfinite(x_end)):
        raise DivergenceError(
            f"{name or 'step map'}: the orbit diverged (NaN/inf state) while computing Lyapunov "
            "exponents; check x0, dt and the parameters"
        )
    if np.any(np.isnan(total) | (total == np.inf)):
        raise DivergenceError(
            f"{name or 'step map'}: tangent vectors overflowed or collapsed; lower qr_every "
            f"(now {qr_every}) or dt"
        )
    time = n_blocks * qr_every * float(dt)
    exponents = np.sort(total / time)[::-1].astype(np.float64)
    history = history_time = None
    if return_history:
        history, history_time = _running_estimate(logs[n_transient:], qr_every * float(dt))
    return LyapunovResult(
        exponents=exponents,
        max=float(exponents[0]),
        sum=float(exponents.sum()),
        kaplan_yorke=kaplan_yorke_dimension(exponents),
        n_steps=n_blocks * qr_every,
        dt=float(dt),
        transient_steps=n_transient * qr_every,
        qr_every=qr_every,
        history=history,
        history_time=history_time,
        system=name,
    )


def _running_estimate(logs: np.ndarray, block_time: float) -> tuple[np.ndarray, np.ndarray]:
    """Running averages ``cumsum(logs) / t`` thinned to at most ``HISTORY_POINTS`` records."""
    cumulative = np.cumsum(logs, axis=0)
    n = cumulative.shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, HISTORY_POINTS)).round().astype(int))
    t = (idx + 1) * block_time
    return np.sort(cumulative[idx] / t[:, None], axis=1)[:, ::-1], t


def _orbit_only(step: StepFn, x0: jax.Array, n: int) -> jax.Array:
    """``step`` applied ``n`` times (no tangents): the burn-in onto the attractor."""

    def body(_: int, x: jax.Array) -> jax.Array:
        return step(x).astype(x.dtype)

    return jax.jit(lambda x: jax.lax.fori_loop(0, n, body, x))(x0)


def lyapunov_spectrum(
    system: System | str,
    *,
    n_exponents: int | None = None,
    dt: float | None = None,
    n_steps: int | None = None,
    transient_steps: int | None = None,
    qr_every: int = 1,
    params: Mapping[str, Any] | None = None,
    x0: Any = None,
    key: jax.Array | None = None,
    return_history: bool = False,
) -> LyapunovResult:
    """Lyapunov spectrum of a catalogue system (flow, map or PDE) by the QR method.

    The step map is ``system.make_step(dt, params)`` (RK4 substeps for flows, the map itself for
    maps, ETDRK4 for Kuramoto–Sivashinsky), built in float64; tangents come from ``jax.jvp``.

    Args:
        system: a :class:`~attractor.systems.base.System` or a registry name (``"lorenz63"``).
        n_exponents: leading exponents to compute (default: all for flows and maps,
            ``min(dim, DEFAULT_PDE_EXPONENTS)`` for PDEs).
        dt: time between tangent steps (default ``system.dt``; maps: always 1 per iteration).
        n_steps: measured steps (default ``DEFAULT_N_STEPS[kind]``: 10^5 steps for flows and
            maps, 2·10^4 for PDEs; Lorenz-63 at ``dt = 0.01`` measures over 1000 time units).
        transient_steps: steps run with tangents but not averaged (default ``n_steps // 10``,
            for the tangents to align). When left at ``None``, the system's recommended burn-in
            ``system.transient`` is run first, orbit only (no tangents: cheap).
        qr_every: steps between re-orthonormalisations.
        params: parameter overrides (names must exist in ``system.params``).
        x0: initial condition (default ``system.initial_condition``).
        key: PRNG key of the random initial tangent vectors.
        return_history: keep the running estimate (for convergence plots).

    Raises:
        InputError: delay systems (infinite-dimensional state: unsupported) and bad arguments.
        DivergenceError: the orbit blows up.
    """
    if isinstance(system, str):
        from attractor.systems.registry import get  # lazy: the registry imports this layer

        system = get(system)
    if system.kind == "delay":
        raise InputError(
            f"lyapunov_spectrum: {system.name!r} is a delay system; its state is infinite-"
            "dimensional and the QR method on a step map does not apply (unsupported)"
        )
    if system.kind == "map":
        if dt not in (None, 1, 1.0):
            raise InputError(f"lyapunov_spectrum: {system.name!r} is a map; dt must be 1 or None")
        step_dt = 1.0
    else:
        step_dt = float(system.dt) if dt is None else _positive_float("dt", dt)
    if n_exponents is None and system.kind == "pde":
        n_exponents = min(system.dim, DEFAULT_PDE_EXPONENTS)
    n_steps = DEFAULT_N_STEPS[system.kind] if n_steps is None else n_steps
    burn_in = 0
    if transient_steps is None:
        burn = float(getattr(system, "transient", 0.0)) / step_dt
        if not burn < 2**31:
            raise InputError(
                f"dt={step_dt!r} is too small: the burn-in of {system.name!r} "
                f"({system.transient} time units) would take more than 2**31 steps"
            )
        burn_in = math.ceil(burn)
        transient_steps = n_steps // 10 if isinstance(n_steps, int) else 0
    with float64():
        step = system.make_step(step_dt, params)
        try:
            start = jnp.asarray(
                system.initial_condition if x0 is None else x0, dtype=jnp.float64
            )
        except (TypeError, ValueError):
            raise InputError(f"x0 must be a numeric vector of length {system.dim}") from None
        if start.shape != (system.dim,):
            raise InputError(
                f"x0 must have shape ({system.dim},) for {system.name!r}, got {start.shape}"
            )
        if burn_in > 0 and start.shape == (system.dim,) and bool(jnp.all(jnp.isfinite(start))):
            start = _orbit_only(step, start, burn_in)
            if not bool(jnp.all(jnp.isfinite(start))):
                raise DivergenceError(
                    f"{system.name}: the orbit diverged during the burn-in of {burn_in} steps"
                )
    return lyapunov_spectrum_from_step(
        step,
        start,
        n_exponents=n_exponents,
        dt=step_dt,
        n_steps=n_steps,
        transient_steps=transient_steps,
        qr_every=qr_every,
        key=key,
        return_history=return_history,
        name=system.name,
    )


__all__ = [
    "LyapunovResult",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "lyapunov_spectrum_from_step",
]
