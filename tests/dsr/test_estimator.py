"""The DSR façade and the evaluation protocol on small data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.dsr import DSR, count_subregions, evaluate_model, generate_runs
from attractor.errors import InputError
from attractor.models import build_model, make_config


def _circle(n: int = 3000, period: float = 40.0) -> np.ndarray:
    t = np.arange(n)
    return np.stack(
        [3 + 2 * np.sin(2 * np.pi * t / period), -1 + np.cos(2 * np.pi * t / period)], axis=1
    )


def test_fit_simulate_forecast_save_load(tmp_path) -> None:
    x = _circle()
    est = DSR(
        "shplrnn",
        latent_dim=2,
        model_params={"hidden_dim": 16},
        epochs=8,
        seed=0,
        objective="gtf",
        objective_params={"alpha": 0.2, "seq_len": 30},
        lr_start=5e-3,
    )
    assert est.fit(x) is est
    assert est.losses_[-1] < est.losses_[0]
    sim = est.simulate(100)
    assert sim.shape == (100, 2)
    np.testing.assert_allclose(sim[0], x[0], atol=1e-4)  # row 0 is the start, in data units
    fc = est.forecast(x[:50], 10)
    assert fc.shape == (10, 2)
    assert est.n_features_in_ == 2
    est.save(tmp_path / "m")
    again = DSR.load(tmp_path / "m")
    np.testing.assert_allclose(again.simulate(100), sim, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(again.forecast(x[:50], 10), fc)
    assert again.get_params() == est.get_params()  # every setting survives save / load
    score = est.score(x[:2000])
    assert isinstance(score, float) and score <= 0.0  # -D_stsp: higher is better
    assert est.evaluate(x[:2000], n_runs=2)["D_stsp"] == pytest.approx(-score, rel=1e-6)


def test_noisy_data_are_smoothed_before_fitting_unless_denoise_is_off(tmp_path) -> None:
    noisy = _circle() + 0.1 * np.random.default_rng(0).standard_normal((3000, 2))
    options = {"latent_dim": 2, "model_params": {"hidden_dim": 8}, "epochs": 1,
               "objective_params": {"seq_len": 20}}
    est = DSR(**options).fit(noisy)
    assert isinstance(est.denoise_window_, int) and est.denoise_window_ > 5  # auto: the default
    est.save(tmp_path / "m")
    assert DSR.load(tmp_path / "m").denoise_window_ == est.denoise_window_
    assert DSR(**options).fit(_circle()).denoise_window_ is None  # no noise to remove
    assert DSR(denoise=None, **options).fit(noisy).denoise_window_ is None
    assert DSR(denoise=9, **options).fit(noisy).denoise_window_ == 9


def test_the_batch_noise_puts_back_the_noise_the_smoothing_removed(tmp_path) -> None:
    noisy = _circle() + 0.1 * np.random.default_rng(0).standard_normal((3000, 2))
    options = {"latent_dim": 2, "model_params": {"hidden_dim": 8}, "epochs": 1,
               "objective_params": {"seq_len": 20}}
    assert DSR(**options).fit(noisy).batch_noise_ == 0.0  # opt-in
    est = DSR(noise_std="auto", **options).fit(noisy)
    removed = np.mean(0.1 / noisy.std(axis=0))  # the noise in standardised units
    assert est.batch_noise_ == pytest.approx(removed, rel=0.1)
    est.save(tmp_path / "m")
    assert DSR.load(tmp_path / "m").batch_noise_ == est.batch_noise_
    assert DSR(denoise=None, noise_std="auto", **options).fit(noisy).batch_noise_ == 0.0
    assert DSR(noise_std=0.02, **options).fit(noisy).batch_noise_ == 0.02


def test_scikit_learn_protocol() -> None:
    est = DSR("alrnn", latent_dim=6, model_params={"n_pwl": 2}, epochs=3)
    params = est.get_params()
    assert params["model"] == "alrnn" and params["model_params"] == {"n_pwl": 2}
    assert est.set_params(epochs=5) is est and est.epochs == 5
    with pytest.raises(InputError, match="no parameter"):
        est.set_params(hidden=3)
    base = pytest.importorskip("sklearn.base")
    copy = base.clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert not hasattr(copy, "model_")


def test_bad_calls_are_input_errors() -> None:
    est = DSR("shplrnn", latent_dim=2, model_params={"hidden_dim": 8}, epochs=1,
              objective_params={"seq_len": 20}).fit(_circle(600))
    for n in (0, -5, 5.9):
        with pytest.raises(InputError, match="n must be"):
            est.simulate(n)
    with pytest.raises(InputError, match="horizon"):
        est.forecast(_circle(50), -3)
    with pytest.raises(InputError, match="NaN"):
        est.simulate(5, x0=[np.nan, 1.0])
    with pytest.raises(InputError, match="n_runs"):
        est.evaluate(_circle(600), n_runs=0)
    with pytest.raises(InputError, match="dt"):
        DSR(dt=-1).fit(_circle(600))


def test_unfitted_and_bad_input() -> None:
    with pytest.raises(InputError, match="not fitted"):
        DSR().simulate(10)
    bad = _circle(500)
    bad[7, 1] = np.nan
    with pytest.raises(InputError, match="NaN at row 7"):
        DSR(epochs=1).fit(bad)


def test_evaluate_model_reports_all_metrics() -> None:
    x = _circle(4000) / 2
    model = build_model(
        make_config("alrnn", obs_dim=2, latent_dim=4, n_pwl=2), key=jax.random.PRNGKey(0)
    )
    m = evaluate_model(model, x, dt=0.1, n_runs=3, lyapunov_steps=2000, lyapunov_transient=100)
    for key in ("D_stsp", "D_H", "PE", "lambda_max", "n_subregions", "D_stsp_starts"):
        assert key in m
    assert m["n_runs"] == 3 and len(m["D_H_starts"]) == 3
    assert m["D_H"] == m["D_H_starts"][0]  # headline = protocol run from the first test point
    assert 0.0 <= m["D_H"] <= 1.0
    _, latents = generate_runs(model, x, 1)
    assert m["n_subregions"] == count_subregions(model, latents[0])  # codes of the protocol run


def test_longer_runs_are_scored_on_their_last_rows() -> None:
    """``steps`` lengthens each protocol run and keeps its last T rows: one T more than the
    default ceil(1.25 T) gives the T rows that follow the default run, from the same start."""
    x = _circle(800) / 2
    model = build_model(
        make_config("alrnn", obs_dim=2, latent_dim=4, n_pwl=2), key=jax.random.PRNGKey(0)
    )
    default, default_states = generate_runs(model, x, 2)
    longer, longer_states = generate_runs(model, x, 2, steps=1000 + 800)  # ceil(1.25 T) = 1000
    assert longer.shape == default.shape == (2, 800, 2)
    following = jax.vmap(model.step)(jnp.asarray(default_states[:, -1]))
    np.testing.assert_allclose(longer_states[:, 0], following, rtol=1e-5, atol=1e-6)
    shorter, _ = generate_runs(model, x, 2, steps=900)  # never shorter than the protocol's
    np.testing.assert_array_equal(shorter, default)


def test_runs_from_given_rows_match_the_evenly_spaced_ones() -> None:
    """``ends`` picks the start rows: the evenly spaced rows give the default runs, and a run
    from row 300 alone is the second of those from rows (0, 300)."""
    x = _circle(900) / 2
    model = build_model(
        make_config("alrnn", obs_dim=2, latent_dim=4, n_pwl=2), key=jax.random.PRNGKey(0)
    )
    default, _ = generate_runs(model, x, 3)
    given, _ = generate_runs(model, x, 3, ends=np.array([0, 300, 600]))
    np.testing.assert_array_equal(given, default)
    single, _ = generate_runs(model, x, 1, ends=np.array([300]))
    np.testing.assert_allclose(single[0], default[1], rtol=1e-6, atol=1e-6)


def test_count_subregions_counts_codes() -> None:
    model = build_model(
        make_config("alrnn", obs_dim=1, latent_dim=3, n_pwl=2), key=jax.random.PRNGKey(0)
    )
    z = np.array([[0, 1, 1], [0, -1, 1], [0, 1, 1], [5, -1, -1]], dtype=np.float32)
    assert count_subregions(model, z) == 3
