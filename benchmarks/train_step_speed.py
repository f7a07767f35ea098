"""Training-step throughput: shPLRNN + GTF in attractor (JAX) vs the same step in PyTorch eager.

The workload is one parameter update of the GTF recipe (Hess et al., ICML 2023) on Lorenz-63 data:
a clipped shPLRNN (M = 3 latent units, L = 50 hidden units, identity observation), a batch of 16
random windows of length T + 1 = 201, the teacher-forced rollout ``z_t = F(z~_{t-1})``,
``z~_t = (1 - alpha) z_t + alpha x_t`` on the first N = 3 units with constant alpha = 0.1, the MSE
of the un-forced one-step predictions, backpropagation through all 200 steps, global-norm gradient
clipping at 10 and one RAdam step (lr 1e-3).

Timed:

- **JAX (a)**: ``jax.jit(make_update(...))`` called once per update from Python, blocking on the
  loss each time (includes dispatch).
- **JAX (b)**: the compiled 50-update epoch ``lax.scan`` that :func:`attractor.train.loop.train`
  runs; epoch wall time / 50.
- **PyTorch eager** (``torch==2.13.0``, CPU): the same model, forward, loss, RAdam and clipping,
  written here from the equations; batch sampling included, as in the JAX update. Timed with
  ``torch.set_num_threads`` = all cores and = 1 (the ops are tiny: 16 x 3 @ 3 x 50; on a busy
  2-core machine two OpenMP threads can be many times slower than one). The target ratio is
  taken against the faster of the two.

Compile time (first call: trace + compile + one run) is excluded from the per-update figures and
printed separately. Timings are interleaved in rounds (some JAX (a) steps, one JAX epoch, some
PyTorch steps) so that load changes on a shared machine hit all three alike; per-seed figures are
medians over the timed updates, and the summary gives the median over seeds with the min-max spread.

Before timing, the script checks that both sides compute the same thing: with identical parameters
and an identical batch, the losses (relative 1e-5) and the gradients (relative 1e-4 per parameter
array) agree, and so do the parameters after each of 8 full updates (clipping + RAdam; see
:func:`check_equivalence` for the tolerances and why RAdam's rectified steps differ by ~0.2 %).
It prints PASS/FAIL and exits 1 on FAIL.

Run (PyTorch lives only in the benchmark venv)::

    .bench-venv/bin/python benchmarks/train_step_speed.py            # 3 seeds, full
    .bench-venv/bin/python benchmarks/train_step_speed.py --quick    # a smoke run (~1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import torch
from scipy.integrate import solve_ivp

from attractor.data.batching import SubsequenceSampler
from attractor.models import build_model, make_config
from attractor.train import TrainConfig, make_objective, make_optimizer
from attractor.train.forcing import forcing_weights
from attractor.train.loop import make_epoch, make_update
from attractor.train.loss import forced_mse

OBS_DIM, LATENT_DIM, HIDDEN_DIM = 3, 3, 50
BATCH, SEQ_LEN, ALPHA, LR, CLIP = 16, 200, 0.1, 1e-3, 10.0
PARAM_NAMES = ("A", "W1", "W2", "h1", "h2", "fill")

LOSS_RTOL, GRAD_RTOL = 1e-5, 1e-4  # same parameters, same batch
# After full updates, ||theta_torch - theta_jax|| / ||theta_jax - theta_0|| (all parameters):
PARAM_RTOL, PARAM_RTOL_RECTIFIED, UPDATE_LOSS_RTOL = 1e-4, 1e-2, 1e-4
RADAM_WARMUP = 5  # RAdam updates with rho_t <= 5 (no rectification)


# --------------------------------------------------------------------------------------- data


def lorenz63_data(
    n: int = 20_000, dt: float = 0.01, transient: int = 1_000, x0=(1.0, 1.0, 1.0)
) -> np.ndarray:
    """A standardised ``(n, 3)`` float32 Lorenz-63 trajectory (sigma 10, rho 28, beta 8/3)."""

    def rhs(_t: float, u: np.ndarray) -> list[float]:
        x, y, z = u
        return [10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z]

    steps = n + transient
    t_eval = np.arange(steps) * dt
    span = (0.0, t_eval[-1])
    u0 = np.asarray(x0, float)
    sol = solve_ivp(rhs, span, u0, t_eval=t_eval, method="DOP853", rtol=1e-9, atol=1e-9)
    x = sol.y.T[transient:]
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32)


# --------------------------------------------------------------------------------------- JAX side


def train_config() -> TrainConfig:
    """The GTF recipe's loop with a constant learning rate (both sides alike)."""
    return TrainConfig(
        epochs=1, batches_per_epoch=50, batch_size=BATCH, lr_start=LR, lr_end=LR, grad_clip=CLIP
    )


#: GTF with a constant alpha (the objective the trainer runs; rollout chosen by size as usual).
OBJECTIVE = make_objective("gtf", alpha=ALPHA, seq_len=SEQ_LEN)


def jax_model(seed: int):
    cfg = make_config("shplrnn", obs_dim=OBS_DIM, latent_dim=LATENT_DIM, hidden_dim=HIDDEN_DIM)
    return build_model(cfg, key=jax.random.PRNGKey(seed))


@dataclass
class JaxSide:
    """Everything the JAX timings need: the pure update, its jitted form, the epoch, the carry."""

    config: TrainConfig
    static: Any
    step_fn: Any  # jax.jit(update)
    epoch_fn: Any  # the compiled 50-update scan of the trainer
    carry: tuple

    @classmethod
    def build(cls, model, data: np.ndarray) -> JaxSide:
        config = train_config()
        optimizer = make_optimizer(config)
        params, static = eqx.partition(model, eqx.is_inexact_array)
        sampler = SubsequenceSampler(data, OBJECTIVE.window)
        carry = (
            params,
            optimizer.init(params),
            OBJECTIVE.init_state(),
            jnp.asarray(0, dtype=jnp.int32),
            sampler,
        )
        update = make_update(OBJECTIVE, config, optimizer, static)
        epoch = make_epoch(OBJECTIVE, config, optimizer, static)
        return cls(config, static, jax.jit(update), epoch, carry)

    def with_model(self, model, data: np.ndarray) -> JaxSide:
        """Same compiled functions (the static part is identical), fresh parameters and data."""
        fresh = JaxSide.build(model, data)
        return JaxSide(self.config, self.static, self.step_fn, self.epoch_fn, fresh.carry)

    def one_step(self, key: jax.Array) -> float:
        t0 = time.perf_counter()
        self.carry, (loss, _) = self.step_fn(self.carry, key)
        loss.block_until_ready()
        return time.perf_counter() - t0

    def one_epoch(self, key: jax.Array) -> float:
        params, opt_state, alpha, step, sampler = self.carry
        t0 = time.perf_counter()
        out = self.epoch_fn(params, opt_state, alpha, step, sampler, key)
        jax.block_until_ready(out)
        elapsed = time.perf_counter() - t0
        self.carry = (*out[:4], sampler)
        return elapsed


# ----------------------------------------------------------------------------------- PyTorch side


class TorchShPLRNN(torch.nn.Module):
    """Clipped shPLRNN with an identity observation, written from the equations (Hess et al. 2023).

    ``z_t = A * z + W1 [relu(W2 z + h2) - relu(W2 z)] + h1``; read-out ``x = z[:N]``; initial state
    ``z_0 = [x_0; fill x_0]``; GTF ``z~ = (1 - alpha) z + alpha x`` on the first N units.
    Initialisation as in attractor: A = diag(K)/lambda_max(K), K = R^T R / M + I (Talathi & Vartak
    2016); W1 ~ U(+-1/sqrt(L)), W2 ~ U(+-1/sqrt(M)), h1 = 0, h2 ~ U(+-1/sqrt(L)); fill Glorot.
    """

    def __init__(self, obs_dim: int, latent_dim: int, hidden_dim: int, *, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        m, l, n = latent_dim, hidden_dim, obs_dim

        def unif(shape: tuple[int, ...], bound: float) -> torch.nn.Parameter:
            return torch.nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * bound)

        r = torch.randn(m, m, generator=g)
        k = r.T @ r / m + torch.eye(m)
        self.obs_dim, self.latent_dim = n, m
        self.A = torch.nn.Parameter(torch.diagonal(k / torch.linalg.eigvalsh(k).max()).clone())
        self.W1 = unif((m, l), 1 / l**0.5)
        self.W2 = unif((l, m), 1 / m**0.5)
        self.h1 = torch.nn.Parameter(torch.zeros(m))
        self.h2 = unif((l,), 1 / l**0.5)
        self.fill = unif((m - n, n), (6 / m) ** 0.5)  # Glorot uniform; empty when M == N

    @classmethod
    def from_jax(cls, model) -> TorchShPLRNN:
        """A copy of an attractor ``ShPLRNN`` (clipped, identity observation)."""
        cfg = model.config
        if not cfg.clipped or cfg.observation != "identity":
            raise ValueError("only the clipped shPLRNN with identity observation is mirrored")
        out = cls(cfg.obs_dim, cfg.latent_dim, cfg.hidden_dim)
        with torch.no_grad():
            for name, value in jax_arrays(model).items():
                getattr(out, name).copy_(torch.from_numpy(np.array(value)))
        return out

    def init_state(self, x0: torch.Tensor) -> torch.Tensor:
        if self.latent_dim == self.obs_dim:
            return x0
        return torch.cat([x0, x0 @ self.fill.T], dim=-1)

    def step(self, z: torch.Tensor) -> torch.Tensor:
        pre = torch.nn.functional.linear(z, self.W2)
        hidden = torch.relu(pre + self.h2) - torch.relu(pre)
        return self.A * z + torch.nn.functional.linear(hidden, self.W1, self.h1)

    def forced_mse(self, batch: torch.Tensor, alpha: float) -> torch.Tensor:
        """MSE of the un-forced one-step predictions along GTF rollouts of ``batch (B, T+1, N)``."""
        n = self.obs_dim
        z = self.init_state(batch[:, 0])
        predictions = []
        for t in range(1, batch.shape[1]):
            z = self.step(z)
            predictions.append(z[:, :n])
            forced = (1 - alpha) * z[:, :n] + alpha * batch[:, t]
            z = forced if self.latent_dim == n else torch.cat([forced, z[:, n:]], dim=-1)
        return torch.mean((torch.stack(predictions, dim=1) - batch[:, 1:]) ** 2)


class TorchTrainer:
    """One GTF update in eager PyTorch: sample, forward, backward, clip, RAdam."""

    def __init__(self, model: TorchShPLRNN, data: np.ndarray, *, seed: int = 0):
        self.model = model
        self.params = [getattr(model, name) for name in PARAM_NAMES]
        self.optimizer = torch.optim.RAdam(self.params, lr=LR)
        self.data = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
        self.n_windows = self.data.shape[0] - (SEQ_LEN + 1) + 1
        self.offsets = torch.arange(SEQ_LEN + 1)
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self) -> torch.Tensor:
        starts = torch.randint(0, self.n_windows, (BATCH,), generator=self.generator)
        return self.data[starts[:, None] + self.offsets]  # (B, T+1, N)

    def update(self, batch: torch.Tensor | None = None) -> torch.Tensor:
        if batch is None:
            batch = self.sample()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.model.forced_mse(batch, ALPHA)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, CLIP)
        self.optimizer.step()
        return loss.detach()

    def one_step(self) -> float:
        t0 = time.perf_counter()
        self.update()
        return time.perf_counter() - t0


# ------------------------------------------------------------------------------------ equivalence


def jax_arrays(model) -> dict[str, np.ndarray]:
    return {
        "A": np.asarray(model.A),
        "W1": np.asarray(model.W1),
        "W2": np.asarray(model.W2),
        "h1": np.asarray(model.h1),
        "h2": np.asarray(model.h2),
        "fill": np.asarray(model.observation.fill),
    }


def _flat(arrays: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([arrays[name].ravel() for name in PARAM_NAMES])


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / ||b||`` (0 for two empty arrays)."""
    if b.size == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


@eqx.filter_jit
def _jax_loss_and_grads(model, batch: jax.Array, alphas: jax.Array):
    return eqx.filter_value_and_grad(forced_mse)(model, batch, alphas)


def compare_loss_and_grads(model, torch_model: TorchShPLRNN, batch: np.ndarray) -> dict[str, Any]:
    """Loss and gradients of both sides on one batch ``(B, T+1, N)``: relative errors, verdict."""
    alpha = jnp.asarray(ALPHA, dtype=jnp.float32)
    alphas = forcing_weights(OBJECTIVE.forcing, alpha, batch.shape[1] - 1)  # as the trainer
    loss_j, grads_j = _jax_loss_and_grads(model, jnp.asarray(batch), alphas)
    torch_model.zero_grad(set_to_none=True)
    loss_t = torch_model.forced_mse(torch.from_numpy(np.array(batch)), ALPHA)
    loss_t.backward()
    grads_j = jax_arrays(grads_j)
    grad_err = {}
    for name in PARAM_NAMES:
        g_t = getattr(torch_model, name).grad
        g_t = np.zeros_like(grads_j[name]) if g_t is None else g_t.numpy()
        grad_err[name] = _rel(g_t, grads_j[name])
    loss_t = float(loss_t.detach())
    loss_err = abs(loss_t - float(loss_j)) / max(abs(float(loss_j)), 1e-30)
    return {
        "loss_jax": float(loss_j),
        "loss_torch": loss_t,
        "loss_rel_err": loss_err,
        "grad_rel_err": grad_err,
        "passed": loss_err <= LOSS_RTOL and max(grad_err.values()) <= GRAD_RTOL,
    }


def check_equivalence(data: np.ndarray, seed: int = 0, n_updates: int = 8) -> dict[str, Any]:
    """Same parameters and batch on both sides: loss and gradients, then ``n_updates`` full
    updates (the JAX update samples its batch from its key, PyTorch gets that batch; clipping,
    RAdam) with the losses and parameters compared after each.

    The parameter error after update ``t`` is ``||theta_torch - theta_jax|| / ||theta_jax -
    theta_0||`` over all parameters: the disagreement relative to the distance travelled. RAdam's
    first ``RADAM_WARMUP`` updates (``rho_t <= 5``) are bias-corrected momentum on both sides and
    must agree to ``PARAM_RTOL`` (not bit-exact: float32 rounding can flip a ReLU whose input is
    ~0). From update 6 on the rectification factor ``r_t`` enters; optax evaluates it in float32
    (``1 - b2**t`` cancels: ``r_6`` is ~1 % off), PyTorch in float64, so those updates get the
    looser ``PARAM_RTOL_RECTIFIED`` (observed: ~2e-3).
    """
    model = jax_model(seed)
    torch_model = TorchShPLRNN.from_jax(model)
    side = JaxSide.build(model, data)
    sampler = side.carry[4]
    keys = jax.random.split(jax.random.PRNGKey(1000 + seed), n_updates)
    batches = [np.asarray(sampler.sample(jax.random.split(k)[0], BATCH)) for k in keys]

    # 1. loss and gradients on the first batch of the update sequence below.
    result = compare_loss_and_grads(model, torch_model, batches[0])

    # 2. full updates.
    trainer = TorchTrainer(torch_model, data, seed=seed)
    theta_0 = _flat(jax_arrays(model))
    loss_errs, param_errs = [], []
    for key, batch in zip(keys, batches, strict=True):
        side.carry, loss_j = side.step_fn(side.carry, key)
        loss_t = float(trainer.update(torch.from_numpy(np.array(batch))))
        loss_errs.append(abs(loss_t - float(loss_j)) / abs(float(loss_j)))
        theta_j = _flat(jax_arrays(eqx.combine(side.carry[0], side.static)))
        theta_t = _flat({name: getattr(torch_model, name).detach().numpy() for name in PARAM_NAMES})
        param_errs.append(_rel(theta_t - theta_0, theta_j - theta_0))
    warm = param_errs[:RADAM_WARMUP]
    rectified = param_errs[RADAM_WARMUP:] or [0.0]
    result.update(
        n_updates=n_updates,
        update_loss_rel_err=max(loss_errs),
        update_param_rel_err_momentum=max(warm),
        update_param_rel_err_rectified=max(rectified),
    )
    result["passed"] = bool(
        result["passed"]
        and max(loss_errs) <= UPDATE_LOSS_RTOL
        and max(warm) <= PARAM_RTOL
        and max(rectified) <= PARAM_RTOL_RECTIFIED
    )
    return result


# --------------------------------------------------------------------------------------- timing


@dataclass
class SeedTiming:
    """Seconds per update of one seed: JAX (a), JAX (b), and PyTorch per thread count."""

    seed: int
    jax_step: list[float] = field(default_factory=list)  # (a)
    jax_epoch: list[float] = field(default_factory=list)  # (b): epoch / 50
    torch_step: dict[int, list[float]] = field(default_factory=dict)  # threads -> times

    def medians(self) -> dict[str, float]:
        a = statistics.median(self.jax_step)
        b = statistics.median(self.jax_epoch)
        out = {"jax_a": a, "jax_b": b}
        for n, times in self.torch_step.items():
            t = statistics.median(times)
            out.update({f"torch_{n}t": t, f"ratio_a_{n}t": t / a, f"ratio_b_{n}t": t / b})
        best = min(statistics.median(times) for times in self.torch_step.values())
        out.update({"torch_best": best, "ratio_a_best": best / a, "ratio_b_best": best / b})
        return out


def time_seed(
    base: JaxSide,
    data: np.ndarray,
    seed: int,
    *,
    rounds: int,
    jax_steps: int,
    torch_steps: int,
    torch_threads: list[int],
) -> tuple[SeedTiming, list[float]]:
    """Interleaved rounds of JAX (a) steps, one JAX epoch and PyTorch steps (per thread count).

    Returns the timings and the last PyTorch losses (a sanity check that they stay finite).
    """
    side = base.with_model(jax_model(seed), data)
    trainers = {
        n: TorchTrainer(TorchShPLRNN(OBS_DIM, LATENT_DIM, HIDDEN_DIM, seed=seed), data, seed=seed)
        for n in torch_threads
    }
    key = jax.random.PRNGKey(10_000 + seed)
    key, k_warm = jax.random.split(key)
    # Warm-up (already compiled; this warms caches and allocators on both sides).
    for k in jax.random.split(k_warm, 3):
        side.one_step(k)
    side.one_epoch(k_warm)
    for n, trainer in trainers.items():
        torch.set_num_threads(n)
        for _ in range(2):
            trainer.one_step()
    timing = SeedTiming(seed, torch_step={n: [] for n in torch_threads})
    for _ in range(rounds):
        key, k_steps, k_epoch = jax.random.split(key, 3)
        for k in list(jax.random.split(k_steps, jax_steps)):
            timing.jax_step.append(side.one_step(k))
        timing.jax_epoch.append(side.one_epoch(k_epoch) / side.config.batches_per_epoch)
        for n, trainer in trainers.items():
            torch.set_num_threads(n)
            for _ in range(torch_steps):
                timing.torch_step[n].append(trainer.one_step())
    return timing, [float(trainer.update()) for trainer in trainers.values()]


def compile_times(side: JaxSide) -> dict[str, float]:
    """First-call wall times (trace + compile + one run) of the jitted update and the epoch."""
    key = jax.random.PRNGKey(12345)
    t0 = time.perf_counter()
    side.one_step(key)
    step = time.perf_counter() - t0
    t0 = time.perf_counter()
    side.one_epoch(key)
    epoch = time.perf_counter() - t0
    return {"jax_step_first_call_s": step, "jax_epoch_first_call_s": epoch}


# --------------------------------------------------------------------------------------- report


def summarise(per_seed: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Median over seeds and the min-max spread of every per-seed figure."""
    out = {}
    for name in per_seed[0]:
        if name == "seed":
            continue
        values = [row[name] for row in per_seed]
        out[name] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return out


def print_table(
    per_seed: list[dict[str, float]], summary: dict[str, dict[str, float]], threads: list[int]
) -> None:
    cols = [("JAX (a) ms", "jax_a", 1e3), ("JAX (b) ms", "jax_b", 1e3)]
    cols += [(f"torch {n}thr ms", f"torch_{n}t", 1e3) for n in threads]
    cols += [(f"{n}thr/(a)", f"ratio_a_{n}t", 1) for n in threads]
    cols += [(f"{n}thr/(b)", f"ratio_b_{n}t", 1) for n in threads]
    widths = [max(len(title), 9) for title, _, _ in cols]
    print(
        " | ".join(
            [f"{'seed':>4}"] + [f"{t:>{w}}" for (t, _, _), w in zip(cols, widths, strict=True)]
        )
    )
    for row in per_seed:
        cells = [f"{row['seed']:>4}"]
        for (_, name, scale), w in zip(cols, widths, strict=True):
            cells.append(
                f"{row[name] * scale:>{w}.3f}" if scale != 1 else f"{row[name]:>{w - 1}.1f}x"
            )
        print(" | ".join(cells))
    print("\nmedian over seeds [min-max]:")
    print(f"  JAX (a) jitted update, one call per update : {_spread_ms(summary['jax_a'])} ms")
    print(f"  JAX (b) update inside the 50-update epoch  : {_spread_ms(summary['jax_b'])} ms")
    for n in threads:
        print(
            f"  PyTorch eager update, {n} thread(s)          : "
            f"{_spread_ms(summary[f'torch_{n}t'])} ms"
        )
    for n in threads:
        print(
            f"  ratio torch({n} thr) / JAX (a)              : {_spread_x(summary[f'ratio_a_{n}t'])}"
        )
        print(
            f"  ratio torch({n} thr) / JAX (b)              : {_spread_x(summary[f'ratio_b_{n}t'])}"
        )
    print(f"  ratio fastest torch / JAX (a)              : {_spread_x(summary['ratio_a_best'])}")
    print(f"  ratio fastest torch / JAX (b)              : {_spread_x(summary['ratio_b_best'])}")


def _spread_ms(s: dict[str, float]) -> str:
    return f"{1e3 * s['median']:.3f} [{1e3 * s['min']:.3f}-{1e3 * s['max']:.3f}]"


def _spread_x(s: dict[str, float]) -> str:
    return f"{s['median']:.1f}x [{s['min']:.1f}-{s['max']:.1f}x]"


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per seed")
    parser.add_argument(
        "--torch-threads",
        type=int,
        nargs="+",
        default=sorted({os.cpu_count() or 1, 1}, reverse=True),
        help="torch.set_num_threads values to time (default: all cores, and 1)",
    )
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 8)
    jax_steps, torch_steps = (10, 2) if args.quick else (25, 5)
    threads = list(dict.fromkeys(args.torch_threads))

    load_before = _load()
    print("training-step throughput: clipped shPLRNN + GTF, M=3, L=50, batch 16, T=200")
    print(
        f"python {platform.python_version()}, jax {jax.__version__} ({jax.devices()[0].platform}), "
        f"torch {torch.__version__} (threads timed: {threads}), {os.cpu_count()} CPU cores, "
        f"load average {load_before}"
    )
    print(
        f"forcing GTF alpha={ALPHA} (constant), RAdam lr={LR}, grad clip {CLIP}; {rounds} rounds "
        f"x ({jax_steps} JAX calls + 1 epoch of 50 + {torch_steps} torch steps per thread count) "
        "per seed"
    )
    data = lorenz63_data()

    torch.set_num_threads(1)  # the check's speed does not matter; one thread is the fastest here
    eq = check_equivalence(data, seed=0)
    worst_grad = max(eq["grad_rel_err"].values())
    print(
        f"\nequivalence (same params, same batch): loss {eq['loss_jax']:.7f} (JAX) vs "
        f"{eq['loss_torch']:.7f} (torch), rel err {eq['loss_rel_err']:.1e} (tol {LOSS_RTOL:.0e}); "
        f"grad rel err max {worst_grad:.1e} (tol {GRAD_RTOL:.0e});\n  after each of "
        f"{eq['n_updates']} clipped RAdam updates: loss rel err <= "
        f"{eq['update_loss_rel_err']:.1e} (tol {UPDATE_LOSS_RTOL:.0e}), params err (rel. to "
        "distance moved) <= "
        f"{eq['update_param_rel_err_momentum']:.1e} in updates 1-{RADAM_WARMUP} (tol "
        f"{PARAM_RTOL:.0e}), <= {eq['update_param_rel_err_rectified']:.1e} after (tol "
        f"{PARAM_RTOL_RECTIFIED:.0e}; optax's rectification term is float32) -> "
        f"{'PASS' if eq['passed'] else 'FAIL'}"
    )

    base = JaxSide.build(jax_model(args.seeds[0]), data)
    compiled = compile_times(base)
    print(
        "JAX compile (first call incl. one run): jitted update "
        f"{compiled['jax_step_first_call_s']:.2f} s, 50-update epoch "
        f"{compiled['jax_epoch_first_call_s']:.2f} s\n"
    )

    per_seed = []
    for seed in args.seeds:
        timing, last_losses = time_seed(
            base,
            data,
            seed,
            rounds=rounds,
            jax_steps=jax_steps,
            torch_steps=torch_steps,
            torch_threads=threads,
        )
        if not np.all(np.isfinite(last_losses)):
            print(f"seed {seed}: a PyTorch loss is not finite: {last_losses}", file=sys.stderr)
        per_seed.append({"seed": seed, **timing.medians()})
    summary = summarise(per_seed)
    print_table(per_seed, summary, threads)
    load_after = _load()
    print(f"load average before {load_before}, after {load_after}")
    met = summary["ratio_b_best"]["median"] >= 20.0
    print(
        "target: a JAX training update (b) >= 20x faster than the fastest PyTorch eager setting: "
        f"{'MET' if met else 'NOT MET'} ({summary['ratio_b_best']['median']:.1f}x)"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "equivalence": eq,
                    "compile": compiled,
                    "per_seed": per_seed,
                    "summary": summary,
                    "torch_threads": threads,
                    "load_before": load_before,
                    "load_after": load_after,
                    "rounds": rounds,
                    "jax_steps_per_round": jax_steps,
                    "torch_steps_per_round": torch_steps,
                },
                fh,
                indent=2,
            )
    return 0 if eq["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
