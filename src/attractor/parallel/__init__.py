"""Parallel-in-time evaluation of recurrences: affine scans and a Newton (DEER / ParaRNN) solver.

- :mod:`~attractor.parallel.structure` — how the matrices of an affine recurrence are stored
  (dense, diagonal, block-diagonal, stacked parts);
- :mod:`~attractor.parallel.scan` — ``h_t = A_t h_{t-1} + b_t`` by ``jax.lax.associative_scan``
  (accelerators), in chunks, or by a loop (the CPU default: measured fastest there);
- :mod:`~attractor.parallel.newton` — ``h_t = f(h_{t-1}, x_t)`` as one system solved by Newton's
  method, with a sequential fallback and an adjoint backward pass.

Training uses it through the :class:`~attractor.train.time_parallel.TimeParallel` rollout, where
generalized teacher forcing makes chaotic recurrences contracting enough for Newton to converge.

>>> hs, info = newton_solve(lambda p, h, x: jnp.tanh(p * h + x), 0.5, h0, xs)  # doctest: +SKIP
"""

from attractor.parallel.newton import NewtonConfig, NewtonInfo, newton_solve, sequential_solve
from attractor.parallel.scan import affine_scan, chunked_scan, log_growth, sequential_affine
from attractor.parallel.structure import BlockDiagonal, Dense, Diagonal, Stacked, Structure

__all__ = [
    "BlockDiagonal",
    "Dense",
    "Diagonal",
    "NewtonConfig",
    "NewtonInfo",
    "Stacked",
    "Structure",
    "affine_scan",
    "chunked_scan",
    "log_growth",
    "newton_solve",
    "sequential_affine",
    "sequential_solve",
]
