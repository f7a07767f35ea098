"""Our echo state network against reservoirpy 0.4.2: forecast skill (VPT) and train + forecast time.

Both sides get the same standardised data and the same reservoir: R units, every row of W with
``degree = round(density R)`` nonzeros uniform in [-1, 1] scaled to spectral radius ``sr``
(reservoirpy: ``uniform(degree=d, direction="in")``), dense W_in uniform in ±input_scaling, bias
uniform in ±bias_scaling, leak rate ``lr``, tanh, ridge readout with a constant feature, the first
``washout`` states of the training series discarded. No squared states (reservoirpy has none);
differences that remain: reservoirpy does not penalise its readout intercept, works in float64
(ours: float32, the library default; a float64 row is printed too), and each side draws its own
random matrices from its own generator.

Task per seed: fit on ``--train`` points, then closed-loop forecasts of ``--horizon`` steps from
``--contexts`` test points (each after a teacher-forced warm-up on the ``washout`` rows before it).
VPT = valid prediction time at NRMSE threshold 0.5 (normalised by the training std, i.e. 1 after
standardisation), in Lyapunov times (λ1 = 0.906 for Lorenz-63, 1.68 for Lorenz-96 N=40, F=8);
per seed the median over the test points, reported as the median over seeds.

reservoirpy has no closed-loop generator, so its forecast is written as its documentation does:
``esn.reset()``, ``esn.run(warm-up)`` (teacher-forced), then ``y = esn.step(y)`` step by step.
Ours: ``train(model, [series], ridge)`` and a ``vmap`` of ``model.forecast`` over the contexts,
compiled once per configuration.

Timing: "cold" is the first seed in a fresh process (ours includes JAX compilation: reservoir
initialisation, harvest scan, forecast rollout); "warm" is the median over the other seeds (same
shapes, no recompilation). Needs the ``bench`` extra (a separate venv with reservoirpy):

    python3.11 -m venv .bench-venv && .bench-venv/bin/pip install -e ".[dev]" reservoirpy==0.4.2
    .bench-venv/bin/python benchmarks/esn_vs_reservoirpy.py
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.metrics import valid_prediction_time
from attractor.models import build_model, make_config
from attractor.systems import trajectory
from attractor.train import make_objective, train


@dataclasses.dataclass(frozen=True)
class Task:
    system: str
    lyapunov: float
    dt: float
    units: int
    density: float
    sr: float
    lr: float
    input_scaling: float
    bias_scaling: float
    ridge: float
    washout: int
    train: int
    contexts: int
    horizon: int


TASKS = {
    "lorenz63": Task("lorenz63", 0.906, 0.02, 500, 0.02, 0.9, 1.0, 0.5, 0.2, 1e-6, 200, 10_000,
                     20, 600),
    # A single reservoir for 40 inputs wants small inputs and a strong ridge: a scan of input
    # scaling 0.5-0.02, ridge 1e-4-100, leak 0.5/1 on our side gave VPT 0.07-0.30 Λt; this is the
    # best of it (Pathak et al. 2018 use 64 parallel reservoirs for such systems).
    "lorenz96": Task("lorenz96", 1.68, 0.02, 2000, 0.01, 0.9, 1.0, 0.02, 0.5, 1.0, 200, 10_000,
                     20, 300),
}


def data(task: Task, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardised training series and test series (a later stretch of the same orbit)."""
    n_test = task.contexts * (task.washout + task.horizon) + 1000
    x = trajectory(task.system, task.train + 1000 + n_test, dt=task.dt, n_ics=1,
                   key=jax.random.PRNGKey(100 + seed))[0]
    tr, te = x[: task.train], x[task.train + 1000 :]
    mu, sd = tr.mean(0), tr.std(0)
    return (tr - mu) / sd, (te - mu) / sd


def windows(task: Task, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stride = task.washout + task.horizon
    ctx = np.stack([test[k * stride : k * stride + task.washout] for k in range(task.contexts)])
    true = np.stack([test[k * stride + task.washout : (k + 1) * stride]
                     for k in range(task.contexts)])
    return ctx, true


def vpt(task: Task, pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.median([
        valid_prediction_time(p, t, threshold=0.5, std=1.0, dt=task.dt, lyapunov=task.lyapunov)
        for p, t in zip(pred, true, strict=True)
    ]))


@eqx.filter_jit
def _forecasts(model, contexts: jax.Array, horizon: int) -> jax.Array:
    return jax.vmap(lambda c: model.forecast(c, horizon))(contexts)


def run_ours(task: Task, tr: np.ndarray, ctx: np.ndarray, seed: int, squared: bool = False):
    t0 = time.perf_counter()
    config = make_config(
        "esn", obs_dim=tr.shape[1], units=task.units, spectral_radius=task.sr,
        leak_rate=task.lr, input_scaling=task.input_scaling, bias_scaling=task.bias_scaling,
        density=task.density, washout=task.washout, squared_state=squared,
    )
    model = build_model(config, key=jax.random.PRNGKey(seed))
    model = train(model, [tr], make_objective("ridge", ridge=task.ridge),
                  key=jax.random.PRNGKey(seed)).model
    jax.block_until_ready(model.W_out)
    t1 = time.perf_counter()
    pred = np.asarray(_forecasts(model, jnp.asarray(ctx, model.W_out.dtype), task.horizon))
    t2 = time.perf_counter()
    return pred, t1 - t0, t2 - t1


def run_reservoirpy(task: Task, tr: np.ndarray, ctx: np.ndarray, seed: int):
    from reservoirpy.mat_gen import uniform
    from reservoirpy.nodes import Reservoir, Ridge

    t0 = time.perf_counter()
    degree = max(1, round(task.density * task.units))
    reservoir = Reservoir(
        task.units, lr=task.lr, sr=task.sr, input_scaling=task.input_scaling,
        input_connectivity=1.0, W=uniform(degree=degree, direction="in"), Win=uniform,
        bias=uniform(low=-task.bias_scaling, high=task.bias_scaling), seed=seed,
    )
    esn = reservoir >> Ridge(ridge=task.ridge)
    esn.fit(tr[:-1], tr[1:], warmup=task.washout)
    t1 = time.perf_counter()
    preds = np.empty((len(ctx), task.horizon, tr.shape[1]))
    for k, c in enumerate(ctx):
        esn.reset()
        y = esn.run(c)[-1]  # teacher-forced warm-up; its last output predicts the next row
        preds[k, 0] = y
        for h in range(1, task.horizon):
            y = esn.step(y)
            preds[k, h] = y
    t2 = time.perf_counter()
    return preds, t1 - t0, t2 - t1


def bench(task: Task, seeds: list[int], sides: list[str]) -> dict:
    out: dict[str, dict[str, list]] = {s: {"vpt": [], "fit": [], "forecast": []} for s in sides}
    for seed in seeds:
        tr, te = data(task, seed)
        ctx, true = windows(task, te)
        for side in sides:
            if side == "ours":
                pred, t_fit, t_fc = run_ours(task, tr, ctx, seed)
            elif side == "ours+squared":
                pred, t_fit, t_fc = run_ours(task, tr, ctx, seed, squared=True)
            elif side == "ours-f64":
                with float64():
                    pred, t_fit, t_fc = run_ours(task, tr, ctx, seed)
            else:
                pred, t_fit, t_fc = run_reservoirpy(task, tr, ctx, seed)
            rec = out[side]
            rec["vpt"].append(vpt(task, pred, true))
            rec["fit"].append(t_fit)
            rec["forecast"].append(t_fc)
            print(f"    {task.system} seed {seed} {side:13s} VPT {rec['vpt'][-1]:5.2f} Λt  "
                  f"fit {t_fit:7.2f} s  forecast {t_fc:7.2f} s", flush=True)
    return out


def summary(task: Task, out: dict) -> None:
    print(f"  {task.system}: R={task.units}, density {task.density}, sr {task.sr}, lr {task.lr}, "
          f"input {task.input_scaling}, bias {task.bias_scaling}, ridge {task.ridge:g}, washout "
          f"{task.washout}, train {task.train}, {task.contexts} forecasts x {task.horizon} steps, "
          f"dt {task.dt}")
    print(f"  {'side':13s} {'VPT med (Λt)':>12s} {'per seed':>28s} {'cold s':>8s} "
          f"{'warm s':>8s} {'warm fit':>9s} {'warm fc':>8s}")
    totals = {}
    for side, rec in out.items():
        total = np.add(rec["fit"], rec["forecast"])
        warm = total[1:] if len(total) > 1 else total
        totals[side] = (total[0], float(np.median(warm)))
        print(f"  {side:13s} {np.median(rec['vpt']):12.2f} "
              f"{' '.join(f'{v:.2f}' for v in rec['vpt']):>28s} {total[0]:8.2f} "
              f"{np.median(warm):8.2f} {np.median(rec['fit'][1:] or rec['fit']):9.2f} "
              f"{np.median(rec['forecast'][1:] or rec['forecast']):8.2f}")
    if "reservoirpy" in totals and "ours" in totals:
        rp, us = totals["reservoirpy"], totals["ours"]
        v_rp, v_us = np.median(out["reservoirpy"]["vpt"]), np.median(out["ours"]["vpt"])
        print(f"  speed-up (reservoirpy / ours): warm {rp[1] / us[1]:.1f}x, cold "
              f"{rp[0] / us[0]:.1f}x (target >= 2x); VPT ours {v_us:.2f} vs reservoirpy "
              f"{v_rp:.2f} Λt ({'no worse' if v_us >= v_rp else 'WORSE'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--sides", nargs="+", default=["ours", "reservoirpy", "ours-f64"],
                        choices=["ours", "reservoirpy", "ours-f64", "ours+squared"])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="override a task field for every system, e.g. units=300")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, jax {jax.__version__}, devices {jax.devices()}")
    for name in args.systems:
        task = TASKS[name]
        for item in args.set:
            key, value = item.split("=")
            kind = type(getattr(task, key))
            task = dataclasses.replace(task, **{key: kind(value)})
        summary(task, bench(task, args.seeds, args.sides))


if __name__ == "__main__":
    main()
