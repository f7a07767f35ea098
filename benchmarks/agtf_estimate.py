"""aGTF's alpha re-estimate: exact SVD norms vs matrix-free Lanczos, time and accuracy.

Adaptive GTF (Hess et al., ICML 2023, Algorithm 1) re-estimates the forcing weight every 5 updates
from ``kappa = max_sequences geomean_t ||J_t||_2`` over the Jacobians at the data-inferred states
of the batch, ``alpha_est = max(0, 1 - 1/kappa)``. The workload here is one such re-estimate,
:func:`attractor.train.forcing.jacobian_norm_estimate` jitted, on the aGTF batch of the recipe:
16 windows of 201 rows of standardised Lorenz-63 (identity observation, N = 3), for

- ``exact``: dense Jacobians and their batched SVD (closed form only for M <= 3);
- ``lanczos``: matrix-free batched Lanczos, ``min(M, 12)`` steps
  (:mod:`attractor.train.spectral_norm`), the default from ``M >= 4``.

Models: clipped shPLRNN (L = 100 hidden units), AL-RNN (P = 2) and PLRNN, each at latent sizes
``--sizes``, in three states: as initialised (contracting); "expanding" (the coupling weights
scaled up so that kappa ~ 1.3-3, alpha ~ 0.2-0.7, as after training on chaotic data); and
"trained" (``--train-epochs`` epochs of the aGTF recipe on the same Lorenz-63 data; 0 skips).
A fourth row per size uses Gaussian matrices ``N(0, 1.6²/M)`` (the dense operator; no spectral gap
to speak of, the hardest case for Lanczos).

Times are medians over ``--repeats`` interleaved rounds (exact, lanczos, exact, ...), so that the
load of a shared machine hits both alike; compile time is excluded. OpenBLAS threads matter for the
SVD path on a busy 2-core machine (two spinning threads can be ~100x slower than one):
``--blas-threads`` sets ``OPENBLAS_NUM_THREADS`` before NumPy and JAX load, and the header prints
it with the load average.

Run::

    .venv/bin/python benchmarks/agtf_estimate.py                       # M = 20, 50, 100
    .venv/bin/python benchmarks/agtf_estimate.py --sizes 4 8 12 20 --blas-threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--models", nargs="+", default=["shplrnn", "alrnn", "plrnn"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-epochs", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=None)
    return parser.parse_args()


ARGS = _parse()
if ARGS.blas_threads is not None:  # must precede the first import of NumPy / JAX
    os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.blas_threads)

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from attractor.models import build_model, make_config  # noqa: E402
from attractor.systems import trajectory  # noqa: E402
from attractor.train import TrainConfig, make_objective, train  # noqa: E402
from attractor.train.forcing import jacobian_norm_estimate, spectral_norms  # noqa: E402
from attractor.train.spectral_norm import dense_gram, lanczos_spectral_norms  # noqa: E402

BATCH, WINDOW, HIDDEN = 16, 201, 100
EXPAND = {"shplrnn": ("W1", 5.0), "alrnn": ("W", 60.0), "plrnn": ("W", 2.5)}


def lorenz_data() -> np.ndarray:
    x = trajectory("lorenz63", 20_000)
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)


def agtf_batch(data: np.ndarray) -> jax.Array:
    starts = np.random.default_rng(0).integers(0, len(data) - WINDOW, BATCH)
    return jnp.asarray(np.stack([data[s : s + WINDOW] for s in starts]))


def make_model(name: str, m: int, key: int = 1) -> Any:
    extra = {"hidden_dim": HIDDEN} if name == "shplrnn" else {}
    return build_model(make_config(name, obs_dim=3, latent_dim=m, **extra),
                       key=jax.random.PRNGKey(key))  # fmt: skip


def expanded(model: Any, name: str) -> Any:
    field, factor = EXPAND[name]
    return eqx.tree_at(lambda mod: getattr(mod, field), model, factor * getattr(model, field))


def trained(name: str, m: int, data: np.ndarray, epochs: int) -> Any:
    config = TrainConfig(epochs=epochs, batches_per_epoch=50)
    result = train(make_model(name, m), data[:10_000], make_objective("agtf"), config=config,
                   key=jax.random.PRNGKey(2))  # fmt: skip
    return result.model


def timed(fns: dict[str, Any], args: tuple, repeats: int) -> tuple[dict, dict, dict]:
    """Compile time, median run time (ms) and value of each jitted function, interleaved."""
    compile_s, values, runs = {}, {}, {k: [] for k in fns}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        values[name] = float(jax.block_until_ready(fn(*args)))
        compile_s[name] = time.perf_counter() - t0
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*args))
            runs[name].append(1e3 * (time.perf_counter() - t0))
    return compile_s, {k: statistics.median(v) for k, v in runs.items()}, values


def alpha(kappa: float) -> float:
    return max(0.0, 1.0 - 1.0 / kappa)


def gaussian_row(m: int, repeats: int) -> dict[str, Any]:
    jac = jax.random.normal(jax.random.PRNGKey(m), (BATCH, WINDOW, m, m)) * (1.6 / np.sqrt(m))

    def kappa(norms: jax.Array) -> jax.Array:
        return jnp.max(jnp.exp(jnp.mean(jnp.log(norms.reshape(BATCH, WINDOW)), axis=1)))

    flat = jac.reshape(-1, m, m)
    v0 = jax.random.normal(jax.random.PRNGKey(0), flat.shape[:-1])
    fns = {
        "exact": jax.jit(lambda j: kappa(spectral_norms(j))),
        "lanczos": jax.jit(lambda j: kappa(lanczos_spectral_norms(dense_gram(j), v0))),
    }
    _, ms, val = timed(fns, (flat,), repeats)
    return {"model": "gaussian", "state": "random", "ms": ms, "kappa": val}


def model_row(model: Any, name: str, state: str, batch: jax.Array, repeats: int) -> dict:
    fns = {norm: jax.jit(lambda mod, b, norm=norm: jacobian_norm_estimate(
        mod, b, "product_upper_bound", norm)) for norm in ("exact", "lanczos")}  # fmt: skip
    compile_s, ms, val = timed(fns, (model, batch), repeats)
    return {"model": name, "state": state, "ms": ms, "kappa": val, "compile": compile_s}


def print_row(m: int, row: dict[str, Any]) -> None:
    ke, kl = row["kappa"]["exact"], row["kappa"]["lanczos"]
    ae, al = alpha(ke), alpha(kl)
    rel_alpha = f"{(al - ae) / ae:+.1e}" if ae > 0 else "-"
    speed = row["ms"]["exact"] / row["ms"]["lanczos"]
    print(f"{m:>4} {row['model']:<9} {row['state']:<9} {row['ms']['exact']:>9.1f} "
          f"{row['ms']['lanczos']:>9.1f} {speed:>7.1f}x {ke:>8.4f} {(kl - ke) / ke:>+10.1e} "
          f"{ae:>7.4f} {al - ae:>+10.1e} {rel_alpha:>9}", flush=True)  # fmt: skip


def main() -> int:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"# aGTF alpha re-estimate, batch {BATCH} x {WINDOW}, jax {jax.__version__}, "
          f"{platform.machine()} {os.cpu_count()} cores, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load {load[0]:.1f}, "
          f"{time.strftime('%Y-%m-%d')}")  # fmt: skip
    header = ("M", "model", "state", "exact_ms", "lanczos", "speedup", "kappa", "kappa_err",
              "alpha", "alpha_err", "alpha_rel")  # fmt: skip
    widths = (4, -9, -9, 9, 9, 8, 8, 10, 7, 10, 9)
    cells = zip(header, widths, strict=True)
    print(" ".join(f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in cells))
    data = lorenz_data()
    batch = agtf_batch(data)
    for m in ARGS.sizes:
        for name in ARGS.models:
            model = make_model(name, m)
            print_row(m, model_row(model, name, "init", batch, ARGS.repeats))
            print_row(m, model_row(expanded(model, name), name, "expanding", batch, ARGS.repeats))
            if ARGS.train_epochs > 0:
                fitted = trained(name, m, data, ARGS.train_epochs)
                print_row(m, model_row(fitted, name, "trained", batch, ARGS.repeats))
        print_row(m, gaussian_row(m, ARGS.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
