"""The Newton solver: its states and gradients are those of the sequential recurrence; it falls
back, and says so, when the recurrence is too chaotic to converge."""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.parallel import Diagonal, NewtonConfig, newton_solve, sequential_solve

T, BATCH, M, N_IN = 60, 3, 4, 2


def dense_cell(p, h, x):
    """A contracting tanh RNN: ``tanh(W h + U x + b)`` with ``||W|| < 1``."""
    return jnp.tanh(p["W"] @ h + p["U"] @ x + p["b"])


def diagonal_cell(p, h, x):
    """An elementwise cell (diagonal Jacobian)."""
    return jnp.tanh(p["a"] * h + p["U"] @ x + p["b"])


def _problem(seed: int = 0):
    k = jax.random.split(jax.random.PRNGKey(seed), 5)
    w = jax.random.normal(k[0], (M, M), jnp.float64)
    params = {
        "W": 0.8 * w / jnp.linalg.norm(w, 2),
        "U": jax.random.normal(k[1], (M, N_IN), jnp.float64),
        "b": 0.1 * jax.random.normal(k[2], (M,), jnp.float64),
        "a": jax.random.uniform(k[3], (M,), jnp.float64, -0.9, 0.9),
    }
    h0 = jax.random.normal(k[4], (BATCH, M), jnp.float64)
    xs = jax.random.normal(k[0], (T, BATCH, N_IN), jnp.float64)
    return params, h0, xs


#: cell, solver options: between them the two parallel scan methods (the CPU default, a loop, is
#: what the rollout tests use)
CELLS = {
    "dense": (dense_cell, {"config": NewtonConfig(scan="associative")}),
    "diagonal": (diagonal_cell, {"structure": Diagonal(), "config": NewtonConfig(scan="chunked")}),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_forward_equals_the_sequential_scan(cell: str) -> None:
    f, options = CELLS[cell]
    with float64():
        params, h0, xs = _problem()
        hs, info = jax.jit(lambda p, h, x: newton_solve(f, p, h, x, **options))(params, h0, xs)
        reference = jax.jit(lambda p, h, x: sequential_solve(f, p, h, x))(params, h0, xs)
        np.testing.assert_allclose(hs, reference, atol=1e-9)
        assert bool(info.converged) and not bool(info.fell_back)
        # Newton converges quadratically on a contraction: a handful of iterations (4 and 5
        # here), far below the cap of NewtonConfig().max_iterations = 10.
        assert int(info.iterations) <= 6 < NewtonConfig().max_iterations
        assert float(info.residual) < 1e-10
        assert float(info.growth) < 0  # a contraction


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradients_equal_backpropagation_through_the_loop(cell: str) -> None:
    f, options = CELLS[cell]
    with float64():
        params, h0, xs = _problem(1)
        weights = jax.random.normal(jax.random.PRNGKey(5), (T, BATCH, M), jnp.float64)

        def loss(solver, p, h, x):
            return jnp.sum(jnp.sin(solver(p, h, x)) * weights)

        def parallel(p, h, x):
            return newton_solve(f, p, h, x, **options)[0]

        def sequential(p, h, x):
            return sequential_solve(f, p, h, x)

        grads = jax.jit(jax.grad(lambda *a: loss(parallel, *a), argnums=(0, 1, 2)))
        reference = jax.jit(jax.grad(lambda *a: loss(sequential, *a), argnums=(0, 1, 2)))
        new, ref = grads(params, h0, xs), reference(params, h0, xs)
        for g_new, g_ref in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(ref),
                                strict=True):
            scale = float(jnp.max(jnp.abs(g_ref)))
            np.testing.assert_allclose(g_new, g_ref, rtol=1e-6, atol=1e-8 * scale)
        # The comparison cannot pass on zeros: every gradient that should be non-zero is.
        used = ["W" if cell == "dense" else "a", "U", "b"]
        assert all(float(jnp.max(jnp.abs(new[0][k]))) > 0 for k in used)
        assert float(jnp.max(jnp.abs(new[1]))) > 0 and float(jnp.max(jnp.abs(new[2]))) > 0


def logistic(p, h, x):
    """The logistic map ``r h (1 - h)`` at ``r = 4`` (Lyapunov exponent ln 2), nudged by ``x``."""
    return p * h * (1.0 - h) + 0.0 * x


def test_fallback_fires_and_is_reported(caplog) -> None:
    with float64():
        h0 = jnp.full((2, 1), 0.3)
        xs = jnp.zeros((200, 2, 1))
        config = NewtonConfig(max_iterations=5)
        with caplog.at_level(logging.WARNING, logger="attractor.parallel.newton"):
            solve = jax.jit(lambda p, h, x: newton_solve(logistic, p, h, x, config=config))
            hs, info = solve(jnp.asarray(4.0), h0, xs)
            jax.effects_barrier()
        assert bool(info.fell_back) and not bool(info.converged)
        # The overflow guard stops it before the cap: the first iterate of the unforced
        # logistic map already leaves the float range.
        assert int(info.iterations) < config.max_iterations
        reference = jax.jit(lambda h, x: sequential_solve(logistic, 4.0, h, x))(h0, xs)
        np.testing.assert_array_equal(hs, reference)
        assert any("fell back to the sequential scan" in r.message for r in caplog.records)
        # Without the fallback the last iterate is returned, flagged as not converged.
        no_fallback = NewtonConfig(max_iterations=5, fallback=False)
        _, raw = jax.jit(lambda p, h, x: newton_solve(logistic, p, h, x, config=no_fallback,
                                                      warn=False))(jnp.asarray(4.0), h0, xs)
        assert not bool(raw.converged) and not bool(raw.fell_back)


def test_overflow_stops_the_iterations() -> None:
    """An expanding linear map with a huge guess overflows the guard at once."""
    with float64():
        xs = jnp.zeros((50, 1, 1))
        _, info = jax.jit(lambda p, h, x: newton_solve(
            lambda p, h, x: p * h + x, p, h, x, init=jnp.full((50, 1, 1), 1e9), warn=False
        ))(jnp.asarray(2.0), jnp.ones((1, 1)), xs)
        assert int(info.iterations) == 0 and bool(info.fell_back)


@pytest.mark.parametrize("bad", [{"max_iterations": 0}, {"damping": 0.0}, {"damping": 1.5},
                                 {"tol": -1.0}, {"max_abs": 0.0}])
def test_bad_settings_are_input_errors(bad: dict) -> None:
    with pytest.raises(InputError):
        NewtonConfig(**bad)


def test_matrix_products_are_traced_at_full_precision() -> None:
    """GPUs multiply float32 matrices in TF32 by default, which stalls Newton above its float32
    tolerance (every dense solve fell back on an H200): the solver's forward and adjoint products
    must carry HIGHEST precision in the traced program (on any backend)."""
    weights = 0.5 * jnp.eye(16)

    def step(w, h, x):
        return jnp.tanh(w @ h + x)

    xs = jnp.ones((8, 2, 16))

    def loss(w):
        return jnp.sum(newton_solve(step, w, jnp.zeros((2, 16)), xs, warn=False)[0])

    for program in (jax.make_jaxpr(loss)(weights), jax.make_jaxpr(jax.grad(loss))(weights)):
        # every matrix product, nested loops included, as the printed program shows it
        text = str(program)
        n_products = text.count("dot_general[")
        assert n_products >= 2
        assert text.count("precision=(Precision.HIGHEST, Precision.HIGHEST)") == n_products


def test_on_a_cpu_the_jacobians_are_a_program_of_their_own() -> None:
    """The step and its Jacobians are kept apart by an optimisation barrier on a CPU (XLA merged
    them into one loop that ran 2x slower), and the states stay those of the sequential scan."""
    def step(w, h, x):
        return jnp.tanh(w * h + x)

    w, xs = jnp.full((4,), 0.5), jnp.linspace(-1.0, 1.0, 3 * 2 * 4).reshape(3, 2, 4)

    def solve(w):
        return newton_solve(step, w, jnp.zeros((2, 4)), xs, structure=Diagonal(), warn=False)[0]

    assert jax.default_backend() == "cpu"
    assert "optimization_barrier" in str(jax.make_jaxpr(solve)(w))
    np.testing.assert_allclose(solve(w), sequential_solve(step, w, jnp.zeros((2, 4)), xs),
                               rtol=1e-6, atol=1e-6)
