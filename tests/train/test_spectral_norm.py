"""Matrix-free Lanczos spectral norms for aGTF, checked against the exact SVD.

What must hold (:mod:`attractor.train.spectral_norm`): with ``k = M`` steps the Krylov space is the
whole space and the norm is exact; with fewer steps every estimate is a lower bound (a Ritz value),
and aGTF's ``kappa`` (geometric mean over time, maximum over sequences) is within a few 1e-3
relative at ``M = 100`` on gapless Gaussian matrices and ~1e-6 on expanding shPLRNN Jacobians;
the matrix-free product equals ``J^T J v`` of the dense Jacobian.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, make_config
from attractor.train import make_objective
from attractor.train.forcing import (
    LANCZOS_MIN_DIM,
    MATRIX_FREE_MIN_DIM,
    ForcingConfig,
    alpha_from_kappa,
    jacobian_norm_estimate,
    jacobian_norms,
    update_alpha,
)
from attractor.train.spectral_norm import (
    dense_gram,
    lanczos_spectral_norms,
    largest_tridiagonal_eigenvalue,
    step_gram,
)


def test_tridiagonal_bisection_matches_eigvalsh() -> None:
    rng = np.random.default_rng(0)
    diag, off = rng.normal(size=(300, 7)), rng.normal(size=(300, 6)) * np.array([1, 1, 0, 1, 1, 1])
    dense = np.array(
        [np.diag(d) + np.diag(e, 1) + np.diag(e, -1) for d, e in zip(diag, off, strict=True)]
    )
    with float64():
        got = largest_tridiagonal_eigenvalue(jnp.asarray(diag), jnp.asarray(off))
    np.testing.assert_allclose(got, np.linalg.eigvalsh(dense)[:, -1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("m", [4, 20, 60])
def test_full_krylov_space_is_exact(m: int) -> None:
    rng = np.random.default_rng(m)
    mats = np.concatenate([rng.normal(size=(100, m, m)), np.eye(m)[None], np.zeros((1, m, m)),
                           np.diag([2.0, 2.0] + [1.0] * (m - 2))[None]])  # fmt: skip
    exact = np.linalg.norm(mats, ord=2, axis=(-2, -1))
    with float64():
        v0 = jax.random.normal(jax.random.PRNGKey(1), mats.shape[:-1], jnp.float64)
        got = lanczos_spectral_norms(dense_gram(jnp.asarray(mats)), v0, steps=m)
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("m", [20, 100])
def test_few_steps_give_lower_bounds_and_an_accurate_geometric_mean(m: int) -> None:
    """12 steps on Gaussian matrices (B=4 sequences of T=30), the hardest case (no spectral gap
    to speak of): each estimate <= the norm (up to float32 rounding), kappa within 5e-3 relative,
    alpha = 1 - 1/kappa within 2e-3. (Trained-looking Jacobians: next tests, ~1e-6.)"""
    b, t = 4, 30
    jac = jax.random.normal(jax.random.PRNGKey(m), (b * t, m, m)) * (1.6 / np.sqrt(m))
    exact = np.linalg.norm(np.asarray(jac, np.float64), ord=2, axis=(-2, -1))
    v0 = jax.random.normal(jax.random.PRNGKey(0), (b * t, m))
    got = np.asarray(lanczos_spectral_norms(dense_gram(jac), v0), np.float64)
    assert np.all(got <= exact * (1 + 1e-6))
    kappa = np.exp(np.log(exact).reshape(b, t).mean(axis=1)).max()
    kappa_est = np.exp(np.log(got).reshape(b, t).mean(axis=1)).max()
    assert kappa_est == pytest.approx(kappa, rel=5e-3)
    assert float(alpha_from_kappa(kappa_est)) == pytest.approx(
        float(alpha_from_kappa(kappa)), abs=2e-3)


@pytest.mark.parametrize("name", ["shplrnn", "alrnn", "plrnn", "dendplrnn"])
def test_matrix_free_product_is_jt_j(name: str) -> None:
    model = build_model(make_config(name, obs_dim=3, latent_dim=12), key=jax.random.PRNGKey(3))
    z = jax.random.normal(jax.random.PRNGKey(4), (30, 12))
    v = jax.random.normal(jax.random.PRNGKey(5), (30, 12))
    dense = jax.vmap(model.jacobian)(z)
    expected = dense_gram(dense)(v)
    np.testing.assert_allclose(step_gram(lambda s: model.step(s), z)(v), expected,
                               rtol=1e-4, atol=1e-5)  # fmt: skip


def _trained_looking(m: int) -> eqx.Module:
    """A clipped shPLRNN whose Jacobians expand (kappa ~ 1.3-2.5, alpha ~ 0.2-0.6), as after
    training on chaotic data, rather than the contracting initialisation."""
    model = build_model(make_config("shplrnn", obs_dim=3, latent_dim=m, hidden_dim=100),
                        key=jax.random.PRNGKey(m))  # fmt: skip
    return eqx.tree_at(lambda mod: mod.W1, model, 5.0 * model.W1)


@pytest.mark.parametrize("m", [20, 100])
def test_alpha_from_lanczos_matches_the_svd(m: int) -> None:
    model = _trained_looking(m)
    batch = jax.random.normal(jax.random.PRNGKey(7), (3, 21, 3))
    start = jnp.zeros((), jnp.float32)  # aGTF's update from alpha = 0 returns its estimate
    for estimator in ("product_upper_bound", "batch_maximum"):
        exact = float(jacobian_norm_estimate(model, batch, estimator, "exact"))
        cheap = float(jacobian_norm_estimate(model, batch, estimator, "lanczos"))
        assert exact > 1.2  # expanding: alpha well above 0
        assert cheap <= exact * (1 + 1e-6)
        alphas = [float(update_alpha(ForcingConfig(estimator=estimator, spectral_norm=norm),
                                     start, model, batch)) for norm in ("exact", "lanczos")]
        assert alphas[1] == pytest.approx(alphas[0], rel=0.01)


def test_auto_keeps_the_exact_path_below_the_threshold() -> None:
    assert (LANCZOS_MIN_DIM, MATRIX_FREE_MIN_DIM) == (4, 16)
    batch = jax.random.normal(jax.random.PRNGKey(8), (2, 10, 3))
    small = build_model(make_config("shplrnn", obs_dim=3, latent_dim=3), key=jax.random.PRNGKey(9))
    z = small.encode(batch)
    np.testing.assert_array_equal(jacobian_norms(small, z), jacobian_norms(small, z, "exact"))
    for m, rtol in ((8, 1e-5), (20, 1e-4)):  # dense operator, full Krylov space; matrix-free
        model = build_model(
            make_config("alrnn", obs_dim=3, latent_dim=m), key=jax.random.PRNGKey(9)
        )
        z = model.encode(batch)
        auto = jacobian_norms(model, z)
        assert auto.shape == (2, 10)
        np.testing.assert_array_equal(auto, jacobian_norms(model, z, "lanczos"))
        np.testing.assert_allclose(auto, jacobian_norms(model, z, "exact"), rtol=rtol)
    with pytest.raises(InputError, match="spectral_norm"):
        jacobian_norms(model, z, "power")


def test_spectral_norm_setting() -> None:
    assert ForcingConfig().spectral_norm == "auto"
    with pytest.raises(InputError, match="spectral_norm"):
        ForcingConfig(spectral_norm="svd")
    objective = make_objective("agtf", spectral_norm="exact")
    assert objective.forcing.spectral_norm == "exact"
    assert objective.describe()["spectral_norm"] == "exact"
    with pytest.raises(InputError, match="agtf"):
        make_objective("gtf", spectral_norm="exact")
