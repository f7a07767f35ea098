"""Smoke check of the neural forecasters: does each model, trained with its own recipe for a
CPU-sized budget, forecast Lorenz-63 for a while? A quality check, not a benchmark table.

Data: Lorenz-63, dt = 0.01, 20 000 rows after the system's transient; the first 10 000 train, the
model sees them standardised (training mean / std). Each model trains with its registered recipe
(objective, epochs, learning rates; :class:`attractor.dsr.RunSpec`), stopped early at ``--budget``
seconds of training. Test: 5 contexts of ``context_length`` rows from the held-out part (starts
1 500 rows apart), forecast 1 000 steps (9 Lyapunov times) each; VPT = leading steps with NRMSE
< 0.5 (normaliser: training std per dimension), in Lyapunov times with lambda_1 = 0.906;
the median over the 5 contexts is printed.

    .venv/bin/python benchmarks/zoo_smoke.py                        # every neural model
    .venv/bin/python benchmarks/zoo_smoke.py --models gru --objective freerun \
        --set warmup=50 --set horizon=25                            # another objective
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import numpy as np

from attractor.dsr import RunSpec
from attractor.metrics import valid_prediction_time
from attractor.models import build_model, checked_forecast, get_spec
from attractor.systems import trajectory
from attractor.train import train

MODELS = ("rnn", "lstm", "gru", "rhn", "transformer")
LYAPUNOV = 0.906
DT = 0.01
N_TRAIN = 10_000
N_CONTEXTS = 5
HORIZON = 1_000
SPACING = 1_500


def lorenz63() -> tuple[np.ndarray, np.ndarray]:
    """Standardised training and test rows (the test part uses the training statistics)."""
    x = np.asarray(trajectory("lorenz63", 2 * N_TRAIN, dt=DT))
    mean, std = x[:N_TRAIN].mean(0), x[:N_TRAIN].std(0)
    z = (x - mean) / std
    return z[:N_TRAIN], z[N_TRAIN:]


def smoke(name: str, train_x: np.ndarray, test_x: np.ndarray, args: argparse.Namespace) -> dict:
    spec = RunSpec(model=name, hyperparameters=args.hyperparameters, objective=args.objective,
                   objective_options=args.options, epochs=args.epochs, lr_start=args.lr_start,
                   seed=args.seed)
    model = build_model(spec.model_config(train_x.shape[1]), key=jax.random.PRNGKey(args.seed))
    t0, c0 = time.perf_counter(), time.process_time()
    result = train(
        model, [train_x], spec.make_objective(), config=spec.train_config(),
        key=jax.random.PRNGKey(args.seed + 1),
        callback=lambda epoch, m, loss, info: time.perf_counter() - t0 > args.budget,
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    ctx_len = result.model.context_length
    std = train_x.std(0)
    vpts = []
    for k in range(N_CONTEXTS):
        start = k * SPACING
        context = test_x[start : start + ctx_len]
        truth = test_x[start + ctx_len : start + ctx_len + HORIZON]
        try:
            pred = checked_forecast(result.model, context, HORIZON)
        except Exception:  # a diverged forecast is valid until it diverged; count it as 0
            pred = np.full_like(truth, np.nan)
        vpts.append(valid_prediction_time(pred, truth, threshold=0.5, std=std, dt=DT,
                                          lyapunov=LYAPUNOV))
    return {
        "model": name,
        "objective": result.objective.describe()["objective"],
        "epochs": result.epochs_done,
        "train_s": round(seconds, 1),
        "cpu_s": round(cpu, 1),
        "loss": round(result.losses[-1], 6),
        "vpt_median": float(np.median(vpts)),
        "vpt_all": [round(v, 2) for v in vpts],
    }


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--budget", type=float, default=60.0, help="training seconds per model")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--objective", default=None, help="default: the recipe's")
    parser.add_argument("--lr-start", type=float, default=None, help="default: the recipe's")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="objective option (e.g. seq_len=100)")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                        help="model hyperparameter (e.g. gating=additive)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.options = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    args.hyperparameters = {k: _value(v) for k, v in (s.split("=", 1) for s in args.hp)}
    print(f"machine: {platform.machine()}, jax {jax.__version__}, devices {jax.devices()}")
    train_x, test_x = lorenz63()
    print(f"{'model':12s} {'objective':10s} {'epochs':>6s} {'train s':>8s} {'cpu s':>6s} "
          f"{'loss':>10s} {'VPT (LT)':>8s}  per context")
    for name in args.models:
        get_spec(name)  # unknown names fail before any training
        r = smoke(name, train_x, test_x, args)
        print(f"{r['model']:12s} {r['objective']:10s} {r['epochs']:6d} {r['train_s']:8.1f} "
              f"{r['cpu_s']:6.1f} {r['loss']:10.3g} {r['vpt_median']:8.2f}  {r['vpt_all']}",
              flush=True)


if __name__ == "__main__":
    main()
