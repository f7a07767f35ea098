"""The training loop: learning, determinism, checkpoints, resume and divergence."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.models import build_model, make_config
from attractor.train.checkpoint import has_checkpoint
from attractor.train.forcing import ForcingConfig
from attractor.train.loop import TrainConfig, train


def _data(n: int = 600) -> np.ndarray:
    t = np.arange(n) * 0.1
    return np.stack([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def _model(seed: int = 0):
    cfg = make_config("shplrnn", obs_dim=2, latent_dim=2, hidden_dim=10)
    return build_model(cfg, key=jax.random.PRNGKey(seed))


CFG = TrainConfig(
    epochs=6,
    batches_per_epoch=10,
    batch_size=8,
    seq_len=20,
    lr_start=5e-3,
    lr_end=1e-3,
    forcing=ForcingConfig(method="gtf", alpha=0.2),
)


def _params(model) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model)]


def test_training_lowers_the_loss_and_is_deterministic() -> None:
    a = train(_model(), _data(), CFG, key=jax.random.PRNGKey(1))
    b = train(_model(), _data(), CFG, key=jax.random.PRNGKey(1))
    assert a.losses[-1] < 0.5 * a.losses[0]
    for x, y in zip(_params(a.model), _params(b.model), strict=True):
        np.testing.assert_array_equal(x, y)
    c = train(_model(), _data(), CFG, key=jax.random.PRNGKey(2))
    assert any(
        not np.array_equal(x, y) for x, y in zip(_params(a.model), _params(c.model), strict=True)
    )


@pytest.mark.parametrize("method", ["agtf", "stf"])
def test_other_forcing_methods_train(method: str) -> None:
    cfg = dataclasses.replace(CFG, forcing=ForcingConfig(method=method))
    res = train(_model(), _data(), cfg, key=jax.random.PRNGKey(1))
    assert np.isfinite(res.losses).all()
    if method == "stf":
        assert res.tau is not None and res.tau >= 1  # estimated from the data
    else:
        assert res.alphas[0] <= 1.0


def test_resume_equals_uninterrupted(tmp_path) -> None:
    cfg = dataclasses.replace(CFG, checkpoint_every=3)
    full = train(_model(), _data(), cfg, key=jax.random.PRNGKey(1))
    # Interrupt after epoch 3 (callback stops the run), then resume from the checkpoint.
    train(
        _model(),
        _data(),
        cfg,
        key=jax.random.PRNGKey(1),
        checkpoint_dir=tmp_path,
        callback=lambda epoch, *_: epoch == 3,
    )
    assert has_checkpoint(tmp_path)
    resumed = train(
        _model(), _data(), cfg, key=jax.random.PRNGKey(1), checkpoint_dir=tmp_path, resume=True
    )
    assert resumed.epochs_done == 6 and len(resumed.losses) == 6
    for x, y in zip(_params(full.model), _params(resumed.model), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def test_divergence_stops_with_clear_error_and_keeps_checkpoint(tmp_path) -> None:
    cfg = dataclasses.replace(CFG, epochs=2, checkpoint_every=1)
    train(_model(), _data(), cfg, key=jax.random.PRNGKey(1), checkpoint_dir=tmp_path)
    before = (tmp_path / "state.eqx").read_bytes()
    # An absurd learning rate without clipping drives the parameters to inf/NaN.
    wild = dataclasses.replace(
        cfg,
        epochs=30,
        lr_start=1e12,
        lr_end=1e12,
        grad_clip=None,
        forcing=ForcingConfig(method="gtf", alpha=0.0),
    )
    with pytest.raises(DivergenceError, match="last good checkpoint \\(epoch 2\\)"):
        train(
            _model(),
            _data() * 1e3,
            wild,
            key=jax.random.PRNGKey(1),
            checkpoint_dir=tmp_path,
            resume=True,
        )
    assert (tmp_path / "state.eqx").read_bytes() == before


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="too short"):
        train(_model(), _data(10), CFG, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="expects \\(T, 2\\)"):
        train(_model(), np.zeros((100, 3), np.float32), CFG, key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="epochs"):
        TrainConfig(epochs=0)
