"""Reverse pass of the forced loss: autodiff through the scan vs the hand-written adjoint.

For each model size, one jitted ``value_and_grad`` of :func:`attractor.train.loss.forced_mse` on a
batch of 16 random windows of length 201 (T = 200) with constant GTF weights 0.1, timed both ways
in the same process (median of 60 calls after 5 warm-up calls). The last column says which one
``forced_mse`` picks by default (:class:`attractor.train.rollout.AutoRollout`).

    .venv/bin/python benchmarks/adjoint_speed.py          # ~1 min on the 2-core CPU
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.models import build_model, make_config
from attractor.train.loss import forced_mse
from attractor.train.rollout import Adjoint, AutoRollout

CASES: list[tuple[str, dict[str, int]]] = [
    ("shplrnn", {"latent_dim": 3, "hidden_dim": 50}),
    ("shplrnn", {"latent_dim": 3, "hidden_dim": 100}),
    ("alrnn", {"latent_dim": 20, "n_pwl": 2}),
    ("alrnn", {"latent_dim": 50, "n_pwl": 5}),
    ("plrnn", {"latent_dim": 5}),
    ("plrnn", {"latent_dim": 20}),
    ("plrnn", {"latent_dim": 100}),
    ("dendplrnn", {"latent_dim": 10}),
    ("shplrnn", {"latent_dim": 10, "hidden_dim": 100}),
    ("shplrnn", {"latent_dim": 20, "hidden_dim": 200}),
    ("shplrnn", {"latent_dim": 32, "hidden_dim": 256}),
    ("shplrnn", {"latent_dim": 64, "hidden_dim": 512}),
]


def median_ms(fn: Callable[[], object], calls: int = 60, warmup: int = 5) -> float:
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def time_case(name: str, sizes: dict[str, int]) -> tuple[float, float, int, bool]:
    model = build_model(make_config(name, obs_dim=3, **sizes), key=jax.random.PRNGKey(0))
    batch = jax.random.normal(jax.random.PRNGKey(1), (16, 201, 3))
    alphas = jnp.full((200,), 0.1)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    n_params = sum(int(x.size) for x in jax.tree_util.tree_leaves(params))
    result = []
    for use_adjoint in (False, True):

        def loss(p, use_adjoint=use_adjoint):
            return forced_mse(eqx.combine(p, static), batch, alphas, adjoint=use_adjoint)

        grad_fn = jax.jit(jax.value_and_grad(loss))
        result.append(median_ms(lambda grad_fn=grad_fn: grad_fn(params)))
    return result[0], result[1], n_params, isinstance(AutoRollout().choose(model), Adjoint)


def main() -> None:
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}), {os.cpu_count()} CPU cores")
    print(
        f"{'model':<10} {'sizes':<32} {'params':>7} {'autodiff ms':>12} {'adjoint ms':>11} "
        f"{'speed-up':>9}  default"
    )
    for name, sizes in CASES:
        plain, adjoint, n_params, default_adjoint = time_case(name, sizes)
        size_text = ", ".join(f"{k}={v}" for k, v in sizes.items())
        print(
            f"{name:<10} {size_text:<32} {n_params:>7} {plain:>12.3f} {adjoint:>11.3f} "
            f"{plain / adjoint:>8.2f}x  {'adjoint' if default_adjoint else 'autodiff'}"
        )


if __name__ == "__main__":
    main()
