"""The hand-written reverse pass of the forced rollout equals autodiff of the plain scan."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.models import LatentPLRNN, build_model, get_spec, make_config, model_names
from attractor.models.plrnn_family import row_matmul
from attractor.train.loss import forced_mse
from attractor.train.rollout import Adjoint, AutoRollout

OBS, LATENT, STEPS, BATCH = 2, 4, 13, 3
#: The models the adjoint serves: latent models with an analytic Jacobian (the PLRNN family).
ADJOINT_MODELS = [n for n in model_names() if issubclass(get_spec(n).model_cls, LatentPLRNN)]


def _model(name: str, observation: str, seed: int = 0):
    """A float64 model with every parameter moved off its initial value (h, h1 ... non-zero)."""
    model = build_model(
        make_config(name, obs_dim=OBS, latent_dim=LATENT, observation=observation),
        key=jax.random.PRNGKey(seed),
    )
    leaves, treedef = jax.tree_util.tree_flatten(model)
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(leaves))
    moved = [
        jnp.asarray(leaf + 0.3 * jax.random.normal(k, leaf.shape), jnp.float64)
        if isinstance(leaf, jax.Array)
        else leaf
        for leaf, k in zip(leaves, keys, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, moved)


def _loss_and_grads(model, batch, alphas, *, use_adjoint: bool):
    """The loss and its gradient with respect to the parameters, the batch and the weights."""
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p, x, a):
        return forced_mse(eqx.combine(p, static), x, a, adjoint=use_adjoint)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(params, batch, alphas)


def _assert_same(reference, candidate) -> None:
    (loss_ref, grads_ref), (loss_new, grads_new) = reference, candidate
    np.testing.assert_allclose(loss_new, loss_ref, rtol=1e-12)
    leaves_ref = jax.tree_util.tree_leaves(grads_ref)
    leaves_new = jax.tree_util.tree_leaves(grads_new)
    assert len(leaves_ref) == len(leaves_new)
    for ref, new in zip(leaves_ref, leaves_new, strict=True):
        assert ref.shape == new.shape
        np.testing.assert_allclose(new, ref, rtol=1e-9, atol=1e-12)


# GTF (constant), STF (0 or 1 every few steps) and an arbitrary mixture of weights.
ALPHA_PATTERNS = {
    "gtf": np.full(STEPS, 0.3),
    "stf": np.where(np.arange(1, STEPS + 1) % 4 == 0, 1.0, 0.0),
    "mixed": np.linspace(0.0, 1.0, STEPS) ** 2,
}


@pytest.mark.parametrize("name", ADJOINT_MODELS)
@pytest.mark.parametrize("observation", ["identity", "affine"])
@pytest.mark.parametrize("pattern", sorted(ALPHA_PATTERNS))
def test_adjoint_gradient_equals_autodiff(name: str, observation: str, pattern: str) -> None:
    with float64():
        model = _model(name, observation)
        batch = jax.random.normal(jax.random.PRNGKey(7), (BATCH, STEPS + 1, OBS), jnp.float64)
        alphas = jnp.asarray(ALPHA_PATTERNS[pattern])
        reference = _loss_and_grads(model, batch, alphas, use_adjoint=False)
        _assert_same(reference, _loss_and_grads(model, batch, alphas, use_adjoint=True))
        # Every gradient is non-trivial: the comparison above cannot pass on zeros.
        grad_params = jax.tree_util.tree_leaves(reference[1][0])
        assert all(float(jnp.max(jnp.abs(g))) > 0 for g in grad_params if g.size)


def test_adjoint_with_factored_jacobians() -> None:
    """A shPLRNN above SMALL_CONTRACTION latent units stores hidden slopes, not Jacobians."""
    with float64():
        model = build_model(
            make_config("shplrnn", obs_dim=OBS, latent_dim=10, hidden_dim=7),
            key=jax.random.PRNGKey(3),
        )
        model = jax.tree_util.tree_map(
            lambda v: jnp.asarray(v, jnp.float64) if isinstance(v, jax.Array) else v, model
        )
        batch = jax.random.normal(jax.random.PRNGKey(8), (BATCH, STEPS + 1, OBS), jnp.float64)
        alphas = jnp.asarray(ALPHA_PATTERNS["mixed"])
        reference = _loss_and_grads(model, batch, alphas, use_adjoint=False)
        _assert_same(reference, _loss_and_grads(model, batch, alphas, use_adjoint=True))


def test_adjoint_forward_values_are_the_plain_rollout() -> None:
    with float64():
        model = _model("shplrnn", "identity")
        batch = jax.random.normal(jax.random.PRNGKey(9), (BATCH, STEPS + 1, OBS), jnp.float64)
        alphas = jnp.asarray(ALPHA_PATTERNS["gtf"])
        plain = forced_mse(model, batch, alphas, adjoint=False)
        np.testing.assert_allclose(forced_mse(model, batch, alphas), plain, rtol=1e-13)


@pytest.mark.parametrize("k", [1, 3, 8, 9, 20])
def test_row_matmul_is_a_matrix_product(k: int) -> None:
    with float64():
        x = jax.random.normal(jax.random.PRNGKey(k), (5, 4, k), jnp.float64)
        w = jax.random.normal(jax.random.PRNGKey(k + 1), (k, 7), jnp.float64)
        np.testing.assert_allclose(row_matmul(x, w), x @ w, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(row_matmul(x[0, 0], w), x[0, 0] @ w, rtol=1e-13, atol=1e-13)


def test_adjoint_is_the_default_for_small_models_only() -> None:
    def model(**kw):
        return build_model(make_config("shplrnn", obs_dim=3, **kw), key=jax.random.PRNGKey(0))

    def prefers_adjoint(m) -> bool:
        return isinstance(AutoRollout().choose(m), Adjoint)

    assert prefers_adjoint(model(latent_dim=3, hidden_dim=100))
    assert prefers_adjoint(
        build_model(make_config("alrnn", obs_dim=3, latent_dim=20), key=jax.random.PRNGKey(0))
    )
    assert not prefers_adjoint(model(latent_dim=64, hidden_dim=512))
