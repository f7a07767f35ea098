"""Sequential vs parallel-in-time (Newton + associative scan): forward + backward, batch 16.

Two kinds of recurrence, each timed both ways in the same process, the two sides interleaved
call by call (so machine load hits both alike), median over the calls:

``--scan`` picks how each Newton step's linear recurrence is solved (``associative``: the
``jax.lax.associative_scan``; ``auto``: a sequential loop on a CPU, see
:data:`attractor.parallel.scan.CPU_SCAN`).

- **diagonal** (hidden sizes 64, 256, 1024): the ParaGRU cell (:mod:`attractor.models.paragru`)
  driven by random inputs, ``h_t = cell(h_{t-1}, u_t)`` — ParaRNN's setting. Sequential: autodiff
  through a ``lax.scan``. Parallel: :func:`attractor.parallel.newton_solve` with the cell's
  analytic diagonal Jacobian, the guess ``cell(0, u_t)`` (ParaRNN's), the adjoint backward pass.
- **dense** (latent sizes 3, 8, 16, 32, 64): the GTF-forced PLRNN loss (alpha 0.3, identity
  observation of 3 units) on smooth data. Sequential: the default rollout
  (:class:`~attractor.train.rollout.AutoRollout`: the hand-written adjoint for these sizes).
  Parallel: :class:`~attractor.train.time_parallel.TimeParallel` (analytic dense Jacobians).

Each row is ``value_and_grad`` of a scalar loss of the whole sequence (forward + backward).
Cases whose arrays would exceed ``--memory-gb`` are skipped and listed.

    .venv/bin/python benchmarks/parallel_scan.py --quick     # T <= 4096, a few sizes, ~3 min
    .venv/bin/python benchmarks/parallel_scan.py             # the whole grid (long on 2 cores)
    .venv/bin/python benchmarks/parallel_scan.py --kind diagonal --lengths 4096 --sizes 64 256
    .venv/bin/python benchmarks/parallel_scan.py --pieces --lengths 4096 --sizes 64  # the pieces
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models import build_model, make_config
from attractor.parallel import Diagonal, NewtonConfig, newton_solve, sequential_solve
from attractor.parallel.scan import SCAN_METHODS
from attractor.train.rollout import AutoRollout
from attractor.train.time_parallel import TimeParallel

BATCH = 16
LENGTHS = (256, 1024, 4096, 16384, 65536)
SIZES = {"diagonal": (64, 256, 1024), "dense": (3, 8, 16, 32, 64)}
QUICK = {"lengths": (256, 1024, 4096), "diagonal": (64, 256, 1024), "dense": (3, 8, 16)}
#: float32 arrays of the state's size (diagonal) or of the Jacobians (dense) alive at once,
#: roughly (iterates, residuals, scan intermediates, saved states, cotangents).
LIVE_ARRAYS = 12


def interleaved_ms(
    fns: tuple[Callable[[], object], Callable[[], object]], budget_s: float
) -> tuple[float, float]:
    """Median times of two functions (ms), called alternately after one warm-up call each."""
    for fn in fns:
        jax.block_until_ready(fn())
    times: tuple[list[float], list[float]] = ([], [])
    start = time.perf_counter()
    while True:
        for fn, out in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            out.append(time.perf_counter() - t0)
        if len(times[0]) >= 30 or (len(times[0]) >= 3 and time.perf_counter() - start > budget_s):
            break
    return 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1])


def diagonal_case(hidden: int, length: int, scan: str):
    model = build_model(make_config("paragru", obs_dim=3, hidden_dim=hidden),
                        key=jax.random.PRNGKey(0))
    drive = jax.random.normal(jax.random.PRNGKey(1), (length, BATCH, 3 * hidden))
    weights = jax.random.normal(jax.random.PRNGKey(2), (length, BATCH, hidden))
    h0 = jnp.zeros((BATCH, hidden))

    def cell(a, h, u):
        return eqx.tree_at(lambda m: m.a, model, a).cell(h, u)

    def jacobian(a, h, u):
        return eqx.tree_at(lambda m: m.a, model, a).cell_jacobian(h, u)

    def sequential(a, u, w):
        return jnp.sum(sequential_solve(cell, a, h0, u) * w)

    def solve(a, u):
        guess = jax.vmap(jax.vmap(lambda v: cell(a, jnp.zeros(hidden), v)))(u)  # ParaRNN's
        return newton_solve(cell, a, h0, u, structure=Diagonal(), jacobian=jacobian,
                            init=guess, config=NewtonConfig(scan=scan), warn=False)

    def parallel(a, u, w):
        return jnp.sum(solve(a, u)[0] * w)

    seq = jax.jit(jax.value_and_grad(sequential, argnums=(0, 1)))
    par = jax.jit(jax.value_and_grad(parallel, argnums=(0, 1)))
    info = jax.jit(solve)(model.a, drive)[1]
    return (lambda: seq(model.a, drive, weights), lambda: par(model.a, drive, weights)), info


def median_ms(fn: Callable[[], object], budget_s: float) -> float:
    """Median time of ``fn`` (ms) after one warm-up call."""
    jax.block_until_ready(fn())
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 30 and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def diagonal_pieces(hidden: int, length: int, budget_s: float) -> None:
    """Where the parallel side's time goes (diagonal case), against a streaming-memory bound.

    Times each piece of the Newton solve as its own compiled program: the cell and its Jacobian
    over all ``(t, b)`` (separately and in one program), the vector-Jacobian product the backward
    pass needs, one linear solve (``h_t = a_t h_{t-1} + b_t`` by a loop), the whole forward
    solve and forward + backward, and the same for the sequential scan. The linear solve streams
    three ``T x B x H`` float32 arrays, so its time gives the memory bandwidth one core sustains.
    """
    from attractor.parallel.scan import sequential_affine

    model = build_model(make_config("paragru", obs_dim=3, hidden_dim=hidden),
                        key=jax.random.PRNGKey(0))
    shape = (length, BATCH, hidden)
    drive = jax.random.normal(jax.random.PRNGKey(1), (length, BATCH, 3 * hidden))
    weights = jax.random.normal(jax.random.PRNGKey(2), shape)
    states = 0.3 * jax.random.normal(jax.random.PRNGKey(3), shape)
    h0, a = jnp.zeros((BATCH, hidden)), model.a

    def cell(a, h, u):
        return eqx.tree_at(lambda m: m.a, model, a).cell(h, u)

    def jacobian(a, h, u):
        return eqx.tree_at(lambda m: m.a, model, a).cell_jacobian(h, u)

    over = lambda fn: jax.vmap(jax.vmap(fn, (None, 0, 0)), (None, 0, 0))  # noqa: E731
    f_all, j_all = over(cell), over(jacobian)

    def solve(a, u):
        guess = f_all(a, jnp.zeros(shape), u)
        return newton_solve(cell, a, h0, u, structure=Diagonal(), jacobian=jacobian,
                            init=guess, warn=False)[0]

    pieces = {
        "cell f over all (t, b)": (jax.jit(f_all), (a, states, drive)),
        "Jacobian over all (t, b)": (jax.jit(j_all), (a, states, drive)),
        "f and Jacobian in one program": (
            jax.jit(lambda a, h, u: (f_all(a, h, u), j_all(a, h, u))), (a, states, drive)),
        "VJP of f (params, h, u)": (
            jax.jit(lambda a, h, u, g: jax.vjp(f_all, a, h, u)[1](g)),
            (a, states, drive, weights)),
        "linear solve (loop)": (
            jax.jit(lambda j, r: sequential_affine(j, r, structure=Diagonal())),
            (states, weights)),
        "Newton forward": (jax.jit(solve), (a, drive)),
        "Newton forward + backward": (
            jax.jit(jax.grad(lambda a, u: jnp.sum(solve(a, u) * weights), argnums=(0, 1))),
            (a, drive)),
        "sequential forward": (
            jax.jit(lambda a, u: sequential_solve(cell, a, h0, u)), (a, drive)),
        "sequential forward + backward": (
            jax.jit(jax.grad(lambda a, u: jnp.sum(sequential_solve(cell, a, h0, u) * weights),
                             argnums=(0, 1))), (a, drive)),
    }
    elements = length * BATCH * hidden
    print(f"diagonal pieces, {hidden} units, T = {length}, batch {BATCH}: {elements} state "
          f"elements")
    print("| piece | ms | ns per state element |")
    print("|---|---|---|")
    measured = {}
    for name, (fn, inputs) in pieces.items():
        measured[name] = median_ms(lambda fn=fn, inputs=inputs: fn(*inputs), budget_s)
        print(f"| {name} | {measured[name]:.1f} | {1e6 * measured[name] / elements:.1f} |",
              flush=True)
    bandwidth = 3 * 4 * elements / (measured["linear solve (loop)"] * 1e-3) / 1e9
    print(f"streaming bandwidth from the linear solve: {bandwidth:.1f} GB/s (3 float32 arrays)")


def dense_case(latent: int, length: int, scan: str):
    model = build_model(make_config("plrnn", obs_dim=3, latent_dim=latent),
                        key=jax.random.PRNGKey(0))
    t = jnp.arange(length + 1) * 0.05
    phases = jnp.arange(BATCH)[:, None, None] * 0.7
    batch = jnp.stack([jnp.sin(t), jnp.cos(1.3 * t), jnp.sin(0.7 * t) * jnp.cos(t)], -1)[None]
    batch = jnp.sin(batch + phases)
    alphas = jnp.full((length,), 0.3)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(rollout, p, x):
        predictions = rollout.predictions(eqx.combine(p, static), x, alphas)
        return jnp.mean((predictions - x[:, 1:]) ** 2)

    parallel = TimeParallel(scan=scan)
    seq = jax.jit(jax.value_and_grad(lambda p, x: loss(AutoRollout(), p, x)))
    par = jax.jit(jax.value_and_grad(lambda p, x: loss(parallel, p, x)))
    stats = jax.jit(parallel.predictions_and_stats)(model, batch, alphas)[1]
    return (lambda: seq(params, batch), lambda: par(params, batch)), stats


def too_big(kind: str, size: int, length: int, memory_gb: float) -> bool:
    per_step = size if kind == "diagonal" else size * size
    return LIVE_ARRAYS * 4 * length * BATCH * per_step > memory_gb * 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T <= 4096 and fewer dense sizes")
    parser.add_argument("--kind", choices=("diagonal", "dense", "both"), default="both")
    parser.add_argument("--lengths", type=int, nargs="+", help="sequence lengths T")
    parser.add_argument("--sizes", type=int, nargs="+", help="hidden / latent sizes")
    parser.add_argument("--memory-gb", type=float, default=6.0, help="skip larger cases")
    parser.add_argument("--budget-s", type=float, default=4.0, help="timing time per case")
    parser.add_argument("--scan", default="auto", choices=SCAN_METHODS,
                        help="linear solve of each Newton step (auto: sequential on a CPU)")
    parser.add_argument("--pieces", action="store_true",
                        help="diagonal case only: time the pieces of the solve (first length "
                             "and size given)")
    args = parser.parse_args()
    if args.pieces:
        diagonal_pieces((args.sizes or (64,))[0], (args.lengths or (4096,))[0], args.budget_s)
        return
    kinds = ("diagonal", "dense") if args.kind == "both" else (args.kind,)
    lengths = args.lengths or (QUICK["lengths"] if args.quick else LENGTHS)
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}), {os.cpu_count()} CPU cores, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, batch {BATCH}, "
          f"Newton linear solves: {args.scan}")
    print("| kind | size | T | sequential ms | parallel ms | speed-up | Newton iterations |")
    print("|---|---|---|---|---|---|---|")
    skipped = []
    for kind in kinds:
        sizes = args.sizes or (QUICK[kind] if args.quick else SIZES[kind])
        for size in sizes:
            for length in lengths:
                if too_big(kind, size, length, args.memory_gb):
                    skipped.append(f"{kind} {size} T={length}")
                    continue
                make = diagonal_case if kind == "diagonal" else dense_case
                fns, info = make(size, length, args.scan)
                seq_ms, par_ms = interleaved_ms(fns, args.budget_s)
                its = (int(info.iterations) if kind == "diagonal"
                       else int(info["newton_iterations"]))
                fell = (bool(info.fell_back) if kind == "diagonal"
                        else bool(info["newton_fallback"]))
                note = " (fell back)" if fell else ""
                print(f"| {kind} | {size} | {length} | {seq_ms:.2f} | {par_ms:.2f} | "
                      f"{seq_ms / par_ms:.2f}x | {its}{note} |", flush=True)
    if skipped:
        print(f"skipped (arrays over {args.memory_gb} GB): {', '.join(skipped)}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
