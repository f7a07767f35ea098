"""The PLRNN family: forcing, Jacobians, regions, inputs and observation models."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import (
    LatentPLRNN,
    build_model,
    get_spec,
    load_model,
    make_config,
    model_names,
    save_model,
)

FAMILY = [n for n in model_names() if issubclass(get_spec(n).model_cls, LatentPLRNN)]

OBS, LATENT = 3, 6


def _model(name: str, observation: str = "identity", seed: int = 0):
    return build_model(
        make_config(name, obs_dim=OBS, latent_dim=LATENT, observation=observation),
        key=jax.random.PRNGKey(seed),
    )


def _perturbed(model, seed: int = 1):
    """A model with all parameters moved off their initial values (so h, h1 etc. are non-zero)."""
    leaves, treedef = jax.tree_util.tree_flatten(model)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    new = [
        leaf + 0.3 * jax.random.normal(k, leaf.shape) if isinstance(leaf, jax.Array) else leaf
        for leaf, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, new)


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("observation", ["identity", "affine"])
def test_shapes_and_simulate_convention(name: str, observation: str) -> None:
    model = _model(name, observation)
    x0 = jnp.array([0.5, -1.0, 0.2])
    z0 = model.encode(x0)
    assert z0.shape == (LATENT,)
    assert model.step(z0).shape == (LATENT,)
    traj = model.simulate(x0, 25)
    assert traj.shape == (25, OBS)
    # Row 0 is the initial point; row 1 is one step later.
    np.testing.assert_allclose(traj[0], model.observe(z0), rtol=1e-6)
    np.testing.assert_allclose(traj[1], model.observe(model.step(z0)), rtol=1e-5, atol=1e-6)
    if observation == "identity":
        np.testing.assert_allclose(traj[0], x0, rtol=1e-6)


@pytest.mark.parametrize("name", FAMILY)
def test_jacobian_matches_finite_differences(name: str) -> None:
    with float64():
        model = jax.tree_util.tree_map(
            lambda v: jnp.asarray(v, jnp.float64) if isinstance(v, jax.Array) else v,
            _perturbed(_model(name)),
        )
        z = jax.random.normal(jax.random.PRNGKey(3), (LATENT,), jnp.float64)
        jac = np.asarray(model.jacobian(z))
        eps = 1e-7
        fd = np.zeros((LATENT, LATENT))
        for j in range(LATENT):
            e = jnp.zeros(LATENT, jnp.float64).at[j].set(eps)
            fd[:, j] = (np.asarray(model.step(z + e)) - np.asarray(model.step(z - e))) / (2 * eps)
    np.testing.assert_allclose(jac, fd, atol=1e-6)


# Variants whose Jacobian-transpose product has its own code path.
VARIANTS = [
    (name, latent, extra)
    for name in FAMILY
    for latent in (LATENT, 12)  # shPLRNN: full Jacobian up to M = 8, hidden slopes above
    for extra in ({}, {"clipped": False}, {"mean_centered": True})
    if not (extra.get("clipped") is False and name not in ("shplrnn", "dendplrnn"))
    and not (extra.get("mean_centered") and name != "plrnn")
]


@pytest.mark.parametrize(("name", "latent", "extra"), VARIANTS)
def test_jacobian_transpose_apply_equals_jacobian_transpose(name, latent, extra) -> None:
    with float64():
        cfg = make_config(name, obs_dim=OBS, latent_dim=latent, **extra)
        model = _perturbed(build_model(cfg, key=jax.random.PRNGKey(5)))
        model = jax.tree_util.tree_map(
            lambda v: jnp.asarray(v, jnp.float64) if isinstance(v, jax.Array) else v, model
        )
        for seed in range(3):
            z, v = jax.random.normal(jax.random.PRNGKey(10 + seed), (2, latent), jnp.float64)
            expected = model.jacobian(z).T @ v
            got = model.jacobian_transpose_apply(model.jacobian_factors(z), v)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(expected, jax.vjp(model.step, z)[1](v)[0], rtol=1e-12)


@pytest.mark.parametrize("name", FAMILY)
def test_force_interpolates(name: str) -> None:
    model = _model(name)
    z = jax.random.normal(jax.random.PRNGKey(4), (LATENT,))
    x = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(model.force(z, x, 0.0), z)
    full = model.force(z, x, 1.0)
    np.testing.assert_allclose(full[:OBS], x)
    np.testing.assert_allclose(full[OBS:], z[OBS:])  # partial forcing keeps the rest
    half = model.force(z, x, 0.25)
    np.testing.assert_allclose(half[:OBS], 0.75 * z[:OBS] + 0.25 * x, rtol=1e-6)


def test_affine_force_and_init_roundtrip() -> None:
    model = _model("shplrnn", "affine")
    x = jnp.array([0.3, -0.2, 0.9])
    np.testing.assert_allclose(model.observe(model.encode(x)), x, atol=1e-5)
    np.testing.assert_allclose(model.simulate(x, 3)[0], x, atol=1e-5)  # row 0 = the start


@pytest.mark.parametrize("name", FAMILY)
def test_save_load_roundtrip(name: str, tmp_path) -> None:
    model = _perturbed(_model(name))
    save_model(tmp_path / "m", model, {"dt": 0.01})
    loaded, meta = load_model(tmp_path / "m")
    assert meta == {"dt": 0.01}
    assert loaded.config == model.config
    x0 = jnp.array([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(loaded.simulate(x0, 50), model.simulate(x0, 50))


def test_bad_hyperparameters() -> None:
    with pytest.raises(InputError, match="no hyperparameter"):
        make_config("shplrnn", obs_dim=3, latent_dim=3, hiden_dim=5)
    with pytest.raises(InputError, match="unknown model 'shplrn'.*did you mean shplrnn"):
        make_config("shplrn", obs_dim=3, latent_dim=3)
    with pytest.raises(InputError, match="latent_dim must be int"):
        make_config("shplrnn", obs_dim=3, latent_dim=1e9)
    with pytest.raises(InputError, match="clipped must be bool"):
        make_config("shplrnn", obs_dim=3, clipped=1)
    with pytest.raises(InputError, match="parameters"):
        build_model(make_config("plrnn", obs_dim=3, latent_dim=10**5), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="latent_dim >= obs_dim"):
        _ = build_model(make_config("plrnn", obs_dim=5, latent_dim=3), key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="n_pwl"):
        make_config("alrnn", obs_dim=3, latent_dim=4, n_pwl=5)
    with pytest.raises(InputError, match="not a model directory"):
        load_model("/nonexistent-dir-for-test")


@pytest.mark.parametrize("name", FAMILY)
def test_region_system_is_the_step_inside_the_region(name: str) -> None:
    with float64():
        model = _perturbed(_model(name))
        model = jax.tree_util.tree_map(
            lambda v: jnp.asarray(v, jnp.float64) if isinstance(v, jax.Array) else v, model
        )
        for seed in range(5):
            z = 2.0 * jax.random.normal(jax.random.PRNGKey(20 + seed), (LATENT,), jnp.float64)
            jac, offset = model.region_system(z)
            y = z + 1e-7 * jax.random.normal(jax.random.PRNGKey(40 + seed), (LATENT,), jnp.float64)
            np.testing.assert_array_equal(model.region_code(y), model.region_code(z))
            np.testing.assert_allclose(model.step(y), jac @ y + offset, rtol=1e-10, atol=1e-10)
            far = 5.0 * jax.random.normal(jax.random.PRNGKey(60 + seed), (LATENT,), jnp.float64)
            if not np.array_equal(model.region_code(far), model.region_code(z)):
                # another region: the affine map of z's region generally does not hold there
                assert model.region_code(far).shape == model.region_code(z).shape


@pytest.mark.parametrize("name", FAMILY)
def test_external_input_adds_c_u(name: str) -> None:
    cfg = make_config(name, obs_dim=OBS, latent_dim=LATENT, input_dim=2)
    model = build_model(cfg, key=jax.random.PRNGKey(0))
    z, u = jnp.linspace(-1.0, 1.0, LATENT), jnp.array([0.5, -2.0])
    np.testing.assert_allclose(model.step(z, u), model.step(z) + model.C @ u, rtol=1e-5, atol=1e-6)
    states = model.rollout(z, 4, inputs=jnp.stack([u, u, u]))
    np.testing.assert_allclose(states[1], model.step(z, u), rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="input_dim"):
        _model(name).step(z, u)
