"""Echo state network: a fixed random leaky-tanh reservoir and a ridge readout (Jaeger 2001,
"The 'echo state' approach to analysing and training recurrent neural networks", GMD Report 148;
Lukoševičius 2012, "A practical guide to applying echo state networks", LNCS 7700).

    r_t     = (1 - a) r_{t-1} + a tanh(W r_{t-1} + W_in x_t + b),      r_{-1} = 0
    x̂_{t+1} = W_outᵀ φ(r_t, x_t),   φ = [1 ; x_t (if readout_input) ; r̃_t]

``a`` is the leak rate, ``W`` ``(R, R)`` the sparse reservoir: every row has
``degree = max(1, round(density · R))`` nonzeros at distinct random columns, drawn uniformly in
``[-1, 1]`` and rescaled so that the spectral radius of ``W`` is exactly ``spectral_radius``.
``W_in`` ``(R, N)`` is dense uniform in ``[-input_scaling, input_scaling]`` and ``b`` uniform in
``[-bias_scaling, bias_scaling]``. With ``squared_state`` (Pathak et al. 2018, PRL 120:024102;
their ``train.m`` squares every second state) the readout sees ``r̃_i = r_i²`` for the odd
0-based units ``i = 1, 3, 5, …`` and ``r̃_i = r_i`` otherwise; this breaks the odd symmetry of the
tanh reservoir (Herteux & Räth 2020, Chaos 30:123142).

Training (``fit_readout``, closed form): the reservoir is driven by each training series
(teacher forcing) in one compiled ``lax.scan``; the first ``washout`` states of each series are
discarded and ``W_out`` solves the ridge regression of ``x_{t+1}`` on ``φ(r_t, x_t)``
(:func:`attractor.models.readout.ridge_solve`). Only ``W_out`` is learned: ``W``, ``W_in`` and
``b`` are :attr:`~ESN.frozen_fields`.

Contract: the state is ``(r_t, x_t)``; ``init_state`` drives the reservoir with the whole context
(teacher-forced) from ``r = 0``, so ``observe(init_state(ctx)) == ctx[-1]``; ``step`` is the
closed loop ``x_{t+1} = x̂_{t+1}``, then ``r_{t+1}`` from it. ``context_length`` is ``washout``:
the rows the reservoir needs to forget its zero start (echo state property); a longer context is
used in full.

Speed: the reservoir product is a dense matrix product from :data:`SPARSE_BELOW_DENSITY` on and a
gather-based sparse product below it (``degree`` values and column indices per row), whichever
was faster on the 2-core CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from attractor.errors import InputError
from attractor.models.base import DynamicsModel, ModelConfig, State
from attractor.models.capabilities import ReadoutOnly
from attractor.models.features import check_autonomous, no_external_input
from attractor.models.readout import SVD_MAX_FEATURES, ridge_solve, ridge_solve_streaming
from attractor.models.registry import Recipe, register

#: Reservoirs sparser than this use a gather-based sparse product (``degree`` nonzeros per row),
#: denser ones a dense matrix. Measured per reservoir step in a compiled scan on the shared 2-core
#: CPU (µs; dense / gather / jax.experimental.sparse BCOO): R=300, density 0.03: 44 / 9 / 40;
#: R=1000, 0.02: 149 / 87 / 263; R=2000, 0.01: 3606 / 280 / 238 (BCOO ahead only there);
#: R=500, 0.1: 98 / 99 (parity).
SPARSE_BELOW_DENSITY = 0.05
#: Spectral radius: dense eigenvalues up to this many units, ARPACK above (as reservoirpy). With
#: k = 6, ncv = 64, ARPACK matched the dense spectral radius to 3e-14 (15 reservoirs of 300-1000
#: units, density 0.01-0.1) in 0.03-0.3 s, vs 0.2-1.0 s for the dense eigenvalues at 500-1000 units.
DENSE_EIG_MAX_UNITS = 300
#: Rows per chunk when the Gram products of a wide readout are accumulated.
_CHUNK = 8192


@dataclasses.dataclass(frozen=True)
class ESNConfig(ModelConfig):
    """ESN hyperparameters (see the module docstring for the equations).

    Attributes:
        units: reservoir size ``R``.
        spectral_radius: spectral radius of ``W``.
        leak_rate: ``a`` in ``(0, 1]`` (1: no leak).
        input_scaling: half-width of the uniform ``W_in`` entries.
        bias_scaling: half-width of the uniform bias entries.
        density: fraction of nonzeros per row of ``W``.
        squared_state: square every second unit in the readout features (Pathak et al. 2018).
        readout_input: also feed ``x_t`` to the readout (Lukoševičius 2012, Eq. 4).
        washout: reservoir states discarded at the start of every training series.
    """

    name: ClassVar[str] = "esn"
    non_negative: ClassVar[tuple[str, ...]] = ("input_dim", "washout")
    units: int = 300
    spectral_radius: float = 0.9
    leak_rate: float = 1.0
    input_scaling: float = 0.5
    bias_scaling: float = 0.2
    density: float = 0.1
    squared_state: bool = True
    readout_input: bool = False
    washout: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        check_autonomous(self.name, self.input_dim)
        for field, ok in [
            ("spectral_radius", self.spectral_radius >= 0),
            ("leak_rate", 0 < self.leak_rate <= 1),
            ("input_scaling", self.input_scaling >= 0),
            ("bias_scaling", self.bias_scaling >= 0),
            ("density", 0 < self.density <= 1),
        ]:
            if not ok:
                raise InputError(f"esn: {field} out of range, got {getattr(self, field)!r}")

    @property
    def degree(self) -> int:
        """Nonzeros per row of the reservoir matrix."""
        return min(self.units, max(1, round(self.density * self.units)))

    @property
    def is_sparse(self) -> bool:
        return self.density < SPARSE_BELOW_DENSITY

    @property
    def n_features(self) -> int:
        return 1 + self.obs_dim * self.readout_input + self.units


@register(
    "esn",
    family="reservoir",
    description="echo state network, sparse leaky reservoir + ridge readout (Jaeger 2001)",
    recipe=Recipe(objective="ridge", objective_options={"ridge": 1e-6}),
)
class ESN(DynamicsModel, ReadoutOnly):
    """Echo state network; see the module docstring."""

    config: ESNConfig = eqx.field(static=True)
    W: jax.Array  # (R, R) dense, or (degree, R) values of a sparse reservoir (see _recurrent)
    W_indices: jax.Array | None  # (degree, R) column indices (sparse), or None (dense)
    W_in: jax.Array
    b: jax.Array
    W_out: jax.Array

    frozen_fields: ClassVar[tuple[str, ...]] = ("W", "W_indices", "W_in", "b")

    def __init__(self, config: ESNConfig, *, key: jax.Array):
        self.config = config
        self.W, self.W_indices, self.W_in, self.b = _init_reservoir(config, key)
        self.W_out = jnp.zeros((config.n_features, config.obs_dim), self.W_in.dtype)

    # ------------------------------------------------------------------ reservoir
    def reservoir_matrix(self) -> jax.Array:
        """``W`` as a dense ``(R, R)`` array."""
        if self.W_indices is None:
            return self.W
        r = self.config.units
        rows = jnp.arange(r)[None, :]
        return jnp.zeros((r, r), self.W.dtype).at[rows, self.W_indices].set(self.W)

    def _recurrent(self, r: jax.Array) -> jax.Array:
        """``W r``: a dense product, or for a sparse reservoir ``Σ_j W[j] * r[W_indices[j]]``
        over the ``degree`` nonzeros of every row (one contiguous gather per ``j``)."""
        if self.W_indices is None:
            return self.W @ r

        def add(j: jax.Array, acc: jax.Array) -> jax.Array:
            return acc + self.W[j] * jnp.take(r, self.W_indices[j])

        return jax.lax.fori_loop(0, self.W.shape[0], add, jnp.zeros_like(r))

    def _update(self, r: jax.Array, drive: jax.Array) -> jax.Array:
        """``r' = (1 - a) r + a tanh(W r + drive)`` with ``drive = W_in x + b``."""
        a = self.config.leak_rate
        return (1.0 - a) * r + a * jnp.tanh(self._recurrent(r) + drive)

    def drive(self, x: jax.Array, r0: jax.Array | None = None) -> jax.Array:
        """Reservoir states ``(T, R)`` driven by ``x`` ``(T, N)`` (teacher-forced) from ``r0``
        (default 0); row ``t`` has seen ``x_0 … x_t``."""
        drives = x @ self.W_in.T + self.b
        r0 = jnp.zeros(self.config.units, drives.dtype) if r0 is None else r0

        def body(r: jax.Array, d: jax.Array) -> tuple[jax.Array, jax.Array]:
            r = self._update(r, d)
            return r, r

        return jax.lax.scan(body, r0, drives)[1]

    def features(self, r: jax.Array, x: jax.Array) -> jax.Array:
        """Readout features ``φ(r, x)`` ``(..., F)`` of states ``(..., R)``, inputs ``(..., N)``."""
        if self.config.squared_state:
            odd = jnp.arange(self.config.units) % 2 == 1
            r = jnp.where(odd, r * r, r)
        parts = [jnp.ones(r.shape[:-1] + (1,), r.dtype)]
        if self.config.readout_input:
            parts.append(x.astype(r.dtype))
        return jnp.concatenate(parts + [r], axis=-1)

    def harvest(self, x: Any) -> jax.Array:
        """Readout features ``(T, F)`` of the reservoir driven by ``x`` ``(T, N)`` from ``r = 0``
        (teacher forcing, one compiled scan); row ``t`` predicts ``x_{t+1}``."""
        return _harvest(self, jnp.asarray(x, self.W_in.dtype))

    # ------------------------------------------------------------------ the contract
    @property
    def context_length(self) -> int:
        return max(1, self.config.washout)

    def init_state(self, context: jax.Array) -> State:
        drives = context @ self.W_in.T + self.b

        def body(r: jax.Array, d: jax.Array) -> tuple[jax.Array, None]:
            return self._update(r, d), None

        r, _ = jax.lax.scan(body, jnp.zeros(self.config.units, drives.dtype), drives)
        return r, context[-1]

    def step(self, state: State, u: jax.Array | None = None) -> State:
        no_external_input(self.config.name, u)
        r, x = state
        x_next = self.features(r, x) @ self.W_out
        return self._update(r, self.W_in @ x_next + self.b), x_next

    def observe(self, state: State) -> jax.Array:
        return state[1]

    # ------------------------------------------------------------------ training
    def fit_readout(self, series: list[Any], ridge: float) -> ESN:
        """``W_out`` by ridge regression of ``x_{t+1}`` on ``φ(r_t, x_t)``, ``t >= washout``."""
        w = self.config.washout
        pairs = []
        for i, x in enumerate(series):
            x = np.asarray(x)
            if x.shape[0] < w + 2:
                raise InputError(
                    f"esn: training series {i} has {x.shape[0]} rows; washout {w} needs at "
                    f"least {w + 2}"
                )
            phi = np.asarray(self.harvest(x))
            pairs.append((phi[w:-1], x[w + 1 :]))
        if self.config.n_features <= SVD_MAX_FEATURES:
            w_out = ridge_solve(
                np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]),
                ridge,
            )
        else:
            w_out = ridge_solve_streaming(_chunks(pairs), ridge)
        return eqx.tree_at(lambda m: m.W_out, self, jnp.asarray(w_out, self.W_out.dtype))


@functools.partial(jax.jit, static_argnums=0)
def _init_reservoir(config: ESNConfig, key: jax.Array) -> tuple[Any, Any, Any, Any]:
    """``(W, W_indices, W_in, b)`` in one compiled call (eager, each op would compile alone)."""
    k_cols, k_w, k_in, k_b = jax.random.split(key, 4)
    r, n, d = config.units, config.obs_dim, config.degree
    # d distinct columns per row, uniformly: the d largest of R uniform draws (top_k: 0.14 s for
    # R = 2000 on the 2-core CPU, a full argsort 1.1 s).
    cols = jnp.sort(jax.lax.top_k(jax.random.uniform(k_cols, (r, r)), d)[1], axis=1)
    cols = cols.astype(jnp.int32)
    values = jax.random.uniform(k_w, (r, d), minval=-1.0, maxval=1.0)
    # float32 result: the callback runs on another thread, outside a scoped float64 context,
    # where JAX would canonicalise a float64 return value to float32 and refuse it.
    radius = jax.pure_callback(
        _spectral_radius, jax.ShapeDtypeStruct((), jnp.float32), cols, values,
        vmap_method="sequential",
    ).astype(values.dtype)
    values = values * jnp.where(radius > 0, config.spectral_radius / radius, 0.0)
    if config.is_sparse:  # (degree, R): row j holds the j-th nonzero of every row of W
        w, w_indices = values.T, cols.T
    else:
        w = jnp.zeros((r, r), values.dtype).at[jnp.arange(r)[:, None], cols].set(values)
        w_indices = None
    s_in, s_b = config.input_scaling, config.bias_scaling
    w_in = jax.random.uniform(k_in, (r, n), minval=-s_in, maxval=s_in)
    b = jax.random.uniform(k_b, (r,), minval=-s_b, maxval=s_b)
    return w, w_indices, w_in, b


@eqx.filter_jit
def _harvest(model: ESN, x: jax.Array) -> jax.Array:
    """Readout features ``(T, F)`` of the reservoir driven by ``x`` ``(T, N)``."""
    return model.features(model.drive(x), x)


def _chunks(pairs: list[tuple[np.ndarray, np.ndarray]]):
    for phi, y in pairs:
        for start in range(0, phi.shape[0], _CHUNK):
            yield phi[start : start + _CHUNK], y[start : start + _CHUNK]


def _one_blas_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional (comes with scikit-learn)
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _spectral_radius(cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Largest eigenvalue modulus of the sparse matrix with ``values`` at ``(row, cols)``."""
    cols, values = np.asarray(cols), np.asarray(values, dtype=np.float64)
    units, degree = values.shape
    rows = np.repeat(np.arange(units), degree)
    matrix = scipy.sparse.csr_matrix((values.ravel(), (rows, cols.ravel())), shape=(units, units))
    if units <= DENSE_EIG_MAX_UNITS:
        # One BLAS thread: on the shared 2-core CPU a threaded 300 x 300 eig took 2-4 s, not 0.07.
        with _one_blas_thread():
            eig = scipy.linalg.eigvals(matrix.toarray(), check_finite=False)
    else:
        # Several largest-modulus eigenvalues with a generous Krylov space: with k = 1 ARPACK may
        # converge to a slightly smaller one when the spectrum fills a disk (circular law).
        try:
            eig = scipy.sparse.linalg.eigs(
                matrix, k=6, ncv=64, which="LM", v0=np.ones(units), tol=0,
                return_eigenvectors=False,
            )
        except scipy.sparse.linalg.ArpackNoConvergence:
            eig = scipy.linalg.eigvals(matrix.toarray(), check_finite=False)
    return np.asarray(np.max(np.abs(eig)), dtype=np.float32)
