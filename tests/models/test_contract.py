"""Contract tests run over every registered model: the three methods, free runs, training with the
model's own recipe, save / load, determinism, divergence and capability refusal."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.models import (
    CAPABILITIES,
    build_model,
    capabilities,
    checked_forecast,
    get_spec,
    load_model,
    make_config,
    model_names,
    save_model,
)
from attractor.train import TrainConfig, make_objective, train

OBS = 3
TINY_LOOP = TrainConfig(epochs=1, batches_per_epoch=3, batch_size=4)


def _series(n: int = 400, phase: float = 0.0) -> np.ndarray:
    t = np.arange(n) * 0.1 + phase
    return np.stack([np.sin(t), np.cos(1.3 * t), np.sin(0.7 * t) * np.cos(t)], 1).astype(
        np.float32
    )


def _model(name: str, seed: int = 0):
    return build_model(make_config(name, obs_dim=OBS), key=jax.random.PRNGKey(seed))


def _objective(name: str):
    """The model's recipe objective, with short windows for a fast test."""
    recipe = get_spec(name).recipe
    options = dict(recipe.objective_options)
    if recipe.objective in ("gtf", "agtf", "stf", "onestep"):
        options["seq_len"] = 20
    if recipe.objective == "freerun":
        options.update(warmup=min(options.get("warmup", 20), 20), horizon=5)
    return make_objective(recipe.objective, **options)


@functools.cache
def _fitted(name: str, seed: int = 0):
    result = train(
        _model(name, seed), [_series()], _objective(name), config=TINY_LOOP,
        key=jax.random.PRNGKey(seed + 1),
    )
    return result.model


@pytest.mark.parametrize("name", model_names())
def test_simulate_and_forecast_convention(name: str) -> None:
    model = _model(name)
    context = jnp.asarray(_series(60))
    traj = model.simulate(context, 25)
    assert traj.shape == (25, OBS)
    state = model.init_state(context)
    # Row 0 is the model's view of the last context row; here every model reproduces it.
    np.testing.assert_allclose(traj[0], context[-1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(traj[0], model.observe(state), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(traj[1], model.observe(model.step(state)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.forecast(context, 24), traj[1:], rtol=1e-5, atol=1e-6)
    assert model.context_length >= 1


@pytest.mark.parametrize("name", model_names())
def test_fit_then_forecast_save_load_and_determinism(name: str, tmp_path) -> None:
    model = _fitted(name)
    context = _series(120, phase=3.0)
    forecast = checked_forecast(model, context, 30)
    assert forecast.shape == (30, OBS) and np.all(np.isfinite(forecast))
    save_model(tmp_path / "m", model, {"dt": 0.1})
    loaded, meta = load_model(tmp_path / "m")
    assert meta == {"dt": 0.1} and loaded.config == model.config
    np.testing.assert_array_equal(checked_forecast(loaded, context, 30), forecast)
    _fitted.cache_clear()  # the same seed trains the same model again
    np.testing.assert_array_equal(checked_forecast(_fitted(name), context, 30), forecast)


@pytest.mark.parametrize("name", model_names())
def test_training_changes_the_model(name: str) -> None:
    before = jax.tree_util.tree_leaves(_model(name))
    after = jax.tree_util.tree_leaves(_fitted(name))
    assert any(
        not np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(before, after, strict=True)
        if isinstance(a, jax.Array)
    )


@pytest.mark.parametrize("name", model_names())
def test_a_blown_up_forecast_raises_divergence(name: str) -> None:
    model = jax.tree_util.tree_map(
        lambda v: v * jnp.inf if isinstance(v, jax.Array) and v.dtype.kind == "f" else v,
        _model(name),
    )
    with pytest.raises(DivergenceError, match="diverged"):
        checked_forecast(model, _series(60), 10)


@pytest.mark.parametrize("name", model_names())
def test_bad_forecast_arguments_are_input_errors(name: str) -> None:
    model = _model(name)
    for horizon in (0, -3, 5.9, True):
        with pytest.raises(InputError, match="horizon"):
            checked_forecast(model, _series(60), horizon)
    bad = _series(60)
    bad[10, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        checked_forecast(model, bad, 5)
    with pytest.raises(InputError, match="shape"):
        checked_forecast(model, np.zeros((10, OBS + 1)), 5)


@pytest.mark.parametrize("name", model_names())
def test_objectives_refuse_models_without_a_capability(name: str) -> None:
    model = _model(name)
    caps = capabilities(model)
    assert set(caps) <= set(CAPABILITIES)
    assert get_spec(name).to_dict()["capabilities"] == caps
    needs = {
        "gtf": ["teacher_forcing"],
        "agtf": ["teacher_forcing", "jacobian"],
        "ridge": ["readout_only"],
    }
    for objective, required in needs.items():
        missing = [c for c in required if c not in caps]
        if not missing:
            continue
        with pytest.raises(InputError, match=f"lacks the '{missing[0]}' capability"):
            train(model, [_series()], make_objective(objective), config=TINY_LOOP,
                  key=jax.random.PRNGKey(0))


def test_registry_lists_every_model_with_a_recipe() -> None:
    for name in model_names():
        spec = get_spec(name).to_dict()
        assert spec["name"] == name and spec["family"] and spec["description"]
        make_objective(spec["recipe"]["objective"], **spec["recipe"]["objective_options"])


CONSTRAINED = [n for n in model_names() if "constrained" in get_spec(n).to_dict()["capabilities"]]


@pytest.mark.parametrize("name", CONSTRAINED)
def test_projection_is_idempotent_and_works_on_the_trainable_half(name: str) -> None:
    """What training relies on: projecting twice changes nothing more, the tree keeps its
    structure, and a partitioned model whose frozen leaves are ``None`` projects too."""
    model = _model(name)
    moved = jax.tree_util.tree_map(lambda x: 3.0 * x if eqx.is_inexact_array(x) else x, model)
    once = moved.project()
    twice = once.project()
    assert jax.tree_util.tree_structure(once) == jax.tree_util.tree_structure(moved)
    for a, b in zip(jax.tree_util.tree_leaves(once), jax.tree_util.tree_leaves(twice), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    leaves = jax.tree_util.tree_leaves(moved)
    first = leaves[0]  # only the first array trains; the rest are frozen (None in the half)
    params, _ = eqx.partition(moved, lambda x: x is first)
    assert jax.tree_util.tree_structure(params.project()) == jax.tree_util.tree_structure(params)
