"""The training loop: learning, determinism, checkpoints, resume and divergence."""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import jax
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.models import build_model, make_config
from attractor.models.capabilities import ReadoutOnly
from attractor.train import FreeRunning, Ridge, TrainConfig, make_objective, train
from attractor.train.checkpoint import has_checkpoint


def _data(n: int = 600) -> np.ndarray:
    t = np.arange(n) * 0.1
    return np.stack([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def _model(seed: int = 0):
    cfg = make_config("shplrnn", obs_dim=2, latent_dim=2, hidden_dim=10)
    return build_model(cfg, key=jax.random.PRNGKey(seed))


CFG = TrainConfig(epochs=6, batches_per_epoch=10, batch_size=8, lr_start=5e-3, lr_end=1e-3)
GTF = make_objective("gtf", alpha=0.2, seq_len=20)


def _params(model) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model)]


def test_training_lowers_the_loss_and_is_deterministic() -> None:
    a = train(_model(), _data(), GTF, config=CFG, key=jax.random.PRNGKey(1))
    b = train(_model(), _data(), GTF, config=CFG, key=jax.random.PRNGKey(1))
    assert a.losses[-1] < 0.5 * a.losses[0]
    for x, y in zip(_params(a.model), _params(b.model), strict=True):
        np.testing.assert_array_equal(x, y)
    c = train(_model(), _data(), GTF, config=CFG, key=jax.random.PRNGKey(2))
    assert any(
        not np.array_equal(x, y) for x, y in zip(_params(a.model), _params(c.model), strict=True)
    )


@pytest.mark.parametrize("method", ["agtf", "stf", "onestep"])
def test_other_forcing_methods_train(method: str) -> None:
    res = train(
        _model(), _data(), make_objective(method, seq_len=20), config=CFG, key=jax.random.PRNGKey(1)
    )
    assert np.isfinite(res.losses).all() and res.losses[-1] < res.losses[0]
    if method == "stf":
        tau = res.objective.describe()["tau"]
        assert tau is not None and tau >= 1  # estimated from the data
    elif method == "agtf":
        assert 0.0 <= res.history[0]["alpha"] <= 1.0  # the objective's state, logged per epoch
    else:
        assert all(h["alpha"] == 1.0 for h in res.history)


def test_free_running_objective_lowers_the_multistep_error() -> None:
    objective = FreeRunning(warmup=5, horizon=10)
    res = train(_model(), _data(), objective, config=CFG, key=jax.random.PRNGKey(1))
    assert res.losses[-1] < 0.7 * res.losses[0]
    batch = np.stack([_data()[i : i + 15] for i in range(0, 400, 40)])
    before = float(objective.loss(_model(), batch, ()))
    after = float(objective.loss(res.model, batch, ()))
    assert after < before


def test_objective_state_checkpoints_and_optimizer_is_injectable(tmp_path) -> None:
    import optax

    agtf = make_objective("agtf", seq_len=20)
    res = train(
        _model(), _data(), agtf, config=dataclasses.replace(CFG, epochs=2, checkpoint_every=1),
        key=jax.random.PRNGKey(1), optimizer=optax.sgd(0.0), checkpoint_dir=tmp_path,
    )
    for x, y in zip(_params(res.model), _params(_model()), strict=True):
        np.testing.assert_array_equal(x, y)  # lr 0: nothing moved
    import json

    progress = json.loads((tmp_path / "progress.json").read_text())
    assert progress["history"][-1]["alpha"] == res.history[-1]["alpha"]


def test_trainable_filter_freezes_leaves() -> None:
    model = _model()
    spec = jax.tree_util.tree_map(lambda _: False, model)
    spec = eqx.tree_at(lambda m: m.W1, spec, True)
    res = train(model, _data(), GTF, config=CFG, key=jax.random.PRNGKey(1), trainable=spec)
    assert not np.array_equal(np.asarray(res.model.W1), np.asarray(model.W1))
    np.testing.assert_array_equal(np.asarray(res.model.W2), np.asarray(model.W2))
    np.testing.assert_array_equal(np.asarray(res.model.A), np.asarray(model.A))


def test_objectives_refuse_models_without_the_capability() -> None:
    assert not isinstance(_model(), ReadoutOnly)
    with pytest.raises(InputError, match="lacks the 'readout_only' capability"):
        train(_model(), _data(), Ridge(), config=CFG, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="tau applies to stf only"):
        make_objective("gtf", tau=5)
    with pytest.raises(InputError, match="unknown training objective"):
        make_objective("teacherforce")


def test_a_run_its_callback_stopped_is_finished_and_stays_stopped_on_resume(tmp_path) -> None:
    """Early stopping (the DSR pipeline's patience) ends a run like its last epoch does:
    ``resume`` of it trains nothing more. (Resuming an interrupted run: the interrupt tests.)"""
    cfg = dataclasses.replace(CFG, checkpoint_every=5)
    stopped = train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1),
                    checkpoint_dir=tmp_path, callback=lambda epoch, *_: epoch == 3)
    assert stopped.stopped_early and stopped.epochs_done == 3
    assert has_checkpoint(tmp_path)  # written at the stop, between regular checkpoints
    calls = []
    resumed = train(
        _model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1), checkpoint_dir=tmp_path,
        resume=True, callback=lambda *args: calls.append(args),
    )
    assert resumed.stopped_early and resumed.epochs_done == 3 and len(resumed.losses) == 3
    assert calls == []
    for x, y in zip(_params(stopped.model), _params(resumed.model), strict=True):
        np.testing.assert_array_equal(x, y)


def test_divergence_stops_with_clear_error_and_keeps_checkpoint(tmp_path) -> None:
    cfg = dataclasses.replace(CFG, epochs=2, checkpoint_every=1)
    train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1), checkpoint_dir=tmp_path)
    before = (tmp_path / "state.eqx").read_bytes()
    # An absurd learning rate without clipping drives the parameters to inf/NaN.
    wild = dataclasses.replace(
        cfg,
        epochs=30,
        lr_start=1e12,
        lr_end=1e12,
        grad_clip=None,
    )
    with pytest.raises(DivergenceError, match="last good checkpoint \\(epoch 2\\)"):
        train(
            _model(),
            _data() * 1e3,
            make_objective("gtf", alpha=0.0, seq_len=20),
            config=wild,
            key=jax.random.PRNGKey(1),
            checkpoint_dir=tmp_path,
            resume=True,
        )
    assert (tmp_path / "state.eqx").read_bytes() == before


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="too short"):
        train(_model(), _data(10), GTF, config=CFG, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="expects \\(T, 2\\)"):
        train(_model(), np.zeros((100, 3), np.float32), GTF, config=CFG, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="epochs"):
        TrainConfig(epochs=0)


def test_an_interrupt_keeps_every_finished_epoch_and_resumes_exactly(tmp_path) -> None:
    cfg = dataclasses.replace(CFG, checkpoint_every=50)  # no regular checkpoint before the end
    full = train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1))

    def ctrl_c(epoch, *_):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1),
              checkpoint_dir=tmp_path, callback=ctrl_c)
    import json

    saved = json.loads((tmp_path / "progress.json").read_text())
    assert saved["epoch"] == 4 and saved["seconds"] > 0
    saved["seconds"] = 1000.0  # as if the interrupted process had trained for 1000 s
    (tmp_path / "progress.json").write_text(json.dumps(saved))
    t0 = time.perf_counter()
    resumed = train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1),
                    checkpoint_dir=tmp_path, resume=True)
    # the training time counts both processes: the interrupted one's and this one's
    assert 1000.0 < resumed.seconds <= 1000.0 + (time.perf_counter() - t0)
    assert resumed.losses == full.losses
    for x, y in zip(_params(full.model), _params(resumed.model), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("checkpoint_every", [2, 50])
def test_an_interrupt_inside_the_callback_reruns_it_on_resume(tmp_path, checkpoint_every) -> None:
    """The callback (best-model selection) belongs to its epoch: interrupted inside it, at a
    checkpoint epoch or between checkpoints, the resumed run calls it again for that epoch, so
    the callback sees every epoch exactly as in an uninterrupted run."""
    cfg = dataclasses.replace(CFG, checkpoint_every=checkpoint_every)
    seen_full: list[tuple[int, float]] = []
    train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1),
          callback=lambda epoch, m, loss, info: seen_full.append((epoch, loss)))

    seen: list[tuple[int, float]] = []

    def interrupted_in_epoch_4(epoch, m, loss, info):
        if epoch == 4:
            raise KeyboardInterrupt
        seen.append((epoch, loss))

    with pytest.raises(KeyboardInterrupt):
        train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1),
              checkpoint_dir=tmp_path, callback=interrupted_in_epoch_4)
    train(_model(), _data(), GTF, config=cfg, key=jax.random.PRNGKey(1), checkpoint_dir=tmp_path,
          resume=True, callback=lambda epoch, m, loss, info: seen.append((epoch, loss)))
    assert seen == seen_full
