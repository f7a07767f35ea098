"""The time-parallel rollout gives the values and gradients of the sequential scan; on a chaotic
PLRNN it converges with enough forcing and falls back (reported) without; the training loop and
the CLI carry its statistics."""

from __future__ import annotations

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config
from attractor.train import TrainConfig, make_objective, train
from attractor.train.rollout import Scan
from attractor.train.time_parallel import TimeParallel

OBS, LATENT, STEPS, BATCH = 2, 4, 30, 3


def _as64(model):
    return jax.tree_util.tree_map(
        lambda v: jnp.asarray(v, jnp.float64) if isinstance(v, jax.Array) else v, model
    )


def _model(name: str, **hyper):
    config = make_config(name, obs_dim=OBS, **hyper)
    return _as64(build_model(config, key=jax.random.PRNGKey(0)))


#: model, hyperparameters, forcing weight: the PLRNN family with dense analytic Jacobians (GTF;
#: affine observation: every unit forced), ParaGRU (diagonal) and ParaLSTM (2 x 2 blocks) with
#: one-step teacher forcing and with GTF (quasi-Newton: the observation's cross terms dropped).
CASES = {
    "plrnn": ("plrnn", {"latent_dim": LATENT, "observation": "affine"}, 0.5),
    "paragru": ("paragru", {"hidden_dim": 5}, 1.0),
}
SLOW_CASES = {
    "shplrnn": ("shplrnn", {"latent_dim": LATENT, "hidden_dim": 6, "observation": "affine"}, 0.5),
    "shplrnn-identity": ("shplrnn", {"latent_dim": OBS, "hidden_dim": 6}, 0.3),
    "alrnn": ("alrnn", {"latent_dim": LATENT, "observation": "affine"}, 0.5),
    "dendplrnn": ("dendplrnn", {"latent_dim": LATENT, "observation": "affine"}, 0.5),
    "paralstm": ("paralstm", {"hidden_dim": 5}, 1.0),
    "paragru-gtf": ("paragru", {"hidden_dim": 5}, 0.5),
    "paralstm-gtf": ("paralstm", {"hidden_dim": 5}, 0.5),
}
ALL_CASES = {**CASES, **SLOW_CASES}


def _loss_and_grads(model, batch, alphas, rollout):
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p, x, a):
        predictions, stats = rollout.predictions_and_stats(eqx.combine(p, static), x, a)
        return jnp.mean((predictions - x[:, 1:]) ** 2), stats

    grad = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)
    return jax.jit(grad)(params, batch, alphas)


@pytest.mark.parametrize(
    "case", [*sorted(CASES), *[pytest.param(c, marks=pytest.mark.slow) for c in SLOW_CASES]]
)
def test_values_and_gradients_equal_the_scan(case: str) -> None:
    name, hyper, alpha = ALL_CASES[case]
    with float64():
        model = _model(name, **hyper)
        batch = jax.random.normal(jax.random.PRNGKey(7), (BATCH, STEPS + 1, OBS), jnp.float64)
        alphas = jnp.full(STEPS, alpha)
        (loss_ref, _), grads_ref = _loss_and_grads(model, batch, alphas, Scan())
        (loss_new, stats), grads_new = _loss_and_grads(model, batch, alphas, TimeParallel())
        assert float(stats["newton_fallback"]) == 0  # the Newton path, not the fallback
        if not case.endswith("-gtf"):
            # Exact Newton (alpha = 1 on the forced part, or the full Jacobian): 2-4 iterations
            # here, far below the cap of 10. The "-gtf" Para cases run quasi-Newton (diagonal
            # Jacobian of a forced cell) and may take up to the cap; for them the check is that
            # they converged without the fallback (above).
            assert float(stats["newton_iterations"]) <= 5
        assert float(stats["forced_lambda"]) < 0
        np.testing.assert_allclose(loss_new, loss_ref, rtol=1e-9)
        for ref, new in zip(jax.tree_util.tree_leaves(grads_ref),
                            jax.tree_util.tree_leaves(grads_new), strict=True):
            scale = float(jnp.max(jnp.abs(ref))) if ref.size else 0.0
            np.testing.assert_allclose(new, ref, rtol=1e-6, atol=1e-9 * scale)
        assert all(float(jnp.max(jnp.abs(g))) > 0
                   for g in jax.tree_util.tree_leaves(grads_ref[0]) if g.size > 1)


def _tent_plrnn():
    """The tent map as a one-unit shPLRNN, ``y' = 2 y - 4 relu(y) + 1/2`` on [-1/2, 1/2]
    (Lyapunov exponent ln 2, ``|J| = 2`` everywhere), and data to force it towards."""
    config = make_config("shplrnn", obs_dim=1, latent_dim=1, hidden_dim=1, clipped=False)
    model = _as64(build_model(config, key=jax.random.PRNGKey(0)))
    model = eqx.tree_at(lambda m: (m.A, m.W1, m.W2, m.h1, m.h2), model,
                        (jnp.array([2.0]), jnp.array([[-4.0]]), jnp.array([[1.0]]),
                         jnp.array([0.5]), jnp.array([0.0])))
    data = jax.random.uniform(jax.random.PRNGKey(3), (2, 400, 1), jnp.float64, -0.5, 0.5)
    return model, data


@pytest.mark.parametrize("alpha", [0.6, 0.8])
def test_chaotic_plrnn_converges_with_enough_forcing(alpha: float) -> None:
    with float64():
        model, batch = _tent_plrnn()
        alphas = jnp.full(batch.shape[1] - 1, alpha)
        rollout = TimeParallel(max_iterations=20)
        predictions, stats = jax.jit(rollout.predictions_and_stats)(model, batch, alphas)
        assert float(stats["newton_fallback"]) == 0
        assert float(stats["newton_iterations"]) <= 10  # 7 (alpha 0.6) and 2 (0.8); cap 20
        # |J_t| = 2 (1 - alpha): the forced exponent is ln 2 + ln(1 - alpha) exactly.
        np.testing.assert_allclose(stats["forced_lambda"], np.log(2 * (1 - alpha)), rtol=1e-6)
        # the residual test inside the solver passed; the values are the sequential ones up to
        # chaos-free rounding (the forced recurrence contracts)
        np.testing.assert_allclose(predictions, Scan().predictions(model, batch, alphas),
                                   atol=1e-8)


def test_too_weak_forcing_falls_back_and_says_so() -> None:
    with float64():
        model, batch = _tent_plrnn()
        alphas = jnp.full(batch.shape[1] - 1, 0.2)  # forced exponent ln(1.6) > 0
        predictions, stats = jax.jit(TimeParallel().predictions_and_stats)(model, batch, alphas)
        assert float(stats["newton_fallback"]) == 1
        # the overflow guard gives up before the cap of 10 iterations
        assert float(stats["newton_iterations"]) < TimeParallel().max_iterations
        np.testing.assert_array_equal(predictions, Scan().predictions(model, batch, alphas))


def _series(n: int = 600) -> np.ndarray:
    t = np.arange(n) * 0.1
    return np.stack([np.sin(t), np.cos(1.3 * t)], 1).astype(np.float32)


def test_training_records_newton_statistics() -> None:
    model = build_model(make_config("shplrnn", obs_dim=OBS, hidden_dim=8),
                        key=jax.random.PRNGKey(0))
    objective = make_objective("gtf", alpha=0.3, seq_len=40, rollout=TimeParallel())
    result = train(model, [_series()], objective, key=jax.random.PRNGKey(1),
                   config=TrainConfig(epochs=2, batches_per_epoch=3, batch_size=4))
    last = result.history[-1]
    assert set(last) >= {"alpha", "newton_iterations", "newton_iterations_max",
                         "newton_fallbacks", "forced_lambda"}
    # Mean over the epoch's updates <= its maximum, both well under the cap of 10 (4 here).
    assert last["newton_iterations"] <= last["newton_iterations_max"] <= 6
    assert last["newton_fallbacks"] == 0 and np.isfinite(last["forced_lambda"])


def test_models_without_a_jacobian_are_refused() -> None:
    gru = build_model(make_config("gru", obs_dim=OBS), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="time-parallel.*lacks the 'jacobian' capability"):
        train(gru, [_series()], make_objective("onestep", rollout=TimeParallel()),
              key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="structure"):
        TimeParallel(structure="sparse")


@pytest.mark.slow
def test_cli_trains_with_time_parallel(tmp_path, capsys) -> None:
    from attractor.cli.main import main

    out = tmp_path / "run"
    code = 0
    try:
        main(["train", "--system", "lorenz63", "--time-parallel", "--objective", "gtf",
              "--alpha", "0.3", "--epochs", "1", "--n-train", "2000", "--n-test", "1000",
              "--seq-len", "100", "--hidden", "8", "--select-every", "off", "--no-plots",
              "--json", "--out", str(out)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    stdout, err = capsys.readouterr()
    assert code == 0, err
    metrics = json.loads(stdout)
    assert metrics["final_newton_fallbacks"] == 0 and metrics["final_newton_iterations"] >= 1
    saved = json.loads((out / "config.json").read_text())
    assert "TimeParallel" in json.dumps(saved)
