"""Best-model selection on the validation tail: the worst start point decides."""

from __future__ import annotations

import numpy as np

from attractor.dsr import selection
from attractor.dsr.selection import BestModelSelector


def _fake_runs(runs_by_model: dict[str, list[np.ndarray]]):
    """A stand-in for ``generate_runs`` that returns prepared runs for each named 'model'."""

    def generate(model: str, validation: np.ndarray, n_runs: int, steps: int | None = None):
        runs = runs_by_model[model]
        assert len(runs) == n_runs
        return np.stack(runs), None

    return generate


def test_selector_scores_the_worst_start_and_keeps_the_best_epoch(monkeypatch) -> None:
    rng = np.random.default_rng(0)
    validation = rng.normal(size=(4000, 2))
    good = [rng.normal(size=(4000, 2)) for _ in range(3)]
    elsewhere = rng.normal(size=(4000, 2)) * 0.05 + 3.0  # a second attractor far from the data
    runs = {
        "bistable": [good[0], elsewhere, good[2]],  # fine from 2 of 3 starts
        "monostable": [good[1], good[2], good[0]],
        "diverged": [good[0], np.full((4000, 2), np.nan), good[1]],
    }
    monkeypatch.setattr(selection, "generate_runs", _fake_runs(runs))
    selector = BestModelSelector(validation, every=10, n_starts=3)

    assert selector.score("diverged") == float("inf")
    bistable, monostable = selector.score("bistable"), selector.score("monostable")
    assert bistable > 10 * monostable  # one bad start makes the whole checkpoint bad

    for epoch, model in [(10, "bistable"), (15, "monostable"), (20, "monostable")]:
        assert selector(epoch, model, loss=0.0, info={}) is False
    assert selector.best_model == "monostable" and selector.best_epoch == 20  # 15 is not checked
    assert selector.best_score == monostable
    selector(30, "bistable", loss=0.0, info={})
    selector(40, "diverged", loss=0.0, info={})
    assert selector.best_epoch == 20


def test_selector_state_survives_a_resume(tmp_path, monkeypatch) -> None:
    import jax
    import jax.numpy as jnp

    from attractor.models import build_model, make_config

    model = build_model(make_config("plrnn", obs_dim=2), key=jax.random.PRNGKey(0))
    validation = np.random.default_rng(0).normal(size=(3000, 2))
    monkeypatch.setattr(selection, "generate_runs",
                        lambda m, v, n, steps=None: (np.stack([v] * n), None))
    first = BestModelSelector(validation, every=10, state_dir=tmp_path)
    first(10, model, 0.0)
    assert first.best_epoch == 10
    later = BestModelSelector(validation, every=10, state_dir=tmp_path)
    other = jax.tree_util.tree_map(jnp.zeros_like, model)
    assert later.restore(other)
    assert later.best_epoch == 10 and later.best_score == first.best_score
    np.testing.assert_array_equal(np.asarray(later.best_model.A), np.asarray(model.A))


def test_every_check_is_kept_once_across_a_resume(tmp_path, monkeypatch) -> None:
    import jax

    from attractor.models import build_model, make_config

    model = build_model(make_config("plrnn", obs_dim=2), key=jax.random.PRNGKey(0))
    scores = iter([3.0, float("inf"), 2.0, 2.5, 2.0, 1.0])
    monkeypatch.setattr(BestModelSelector, "score", lambda self, m: next(scores))
    first = BestModelSelector(np.zeros((10, 2)), every=10, state_dir=tmp_path)
    for epoch in (10, 20, 30, 40):
        first(epoch, model, 0.0)
    assert first.checks == [(10, 3.0), (20, float("inf")), (30, 2.0), (40, 2.5)]
    # a crash after the check at 40 and a training checkpoint at 30: epoch 40 runs again
    resumed = BestModelSelector(np.zeros((10, 2)), every=10, state_dir=tmp_path)
    assert resumed.restore(model) and resumed.best_epoch == 30
    assert resumed.checks == first.checks  # the diverged check comes back as inf
    resumed(40, model, 0.0)
    resumed(50, model, 0.0)
    assert resumed.checks == [(10, 3.0), (20, float("inf")), (30, 2.0), (40, 2.0), (50, 1.0)]
    assert resumed.best_epoch == 50


def test_a_run_whose_checks_all_diverged_restores_its_checks_but_no_model(tmp_path,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(BestModelSelector, "score", lambda self, m: float("inf"))
    first = BestModelSelector(np.zeros((10, 2)), every=5, state_dir=tmp_path)
    first(5, "model", 0.0)
    later = BestModelSelector(np.zeros((10, 2)), every=5, state_dir=tmp_path)
    assert later.restore("model") is False
    assert later.best_model is None and later.checks == [(5, float("inf"))]


def test_selector_by_d_h_keeps_the_right_rhythm_where_d_stsp_cannot_tell(monkeypatch) -> None:
    """Two 'models' trace the data's cycle, one 4 % too fast (a heart beating early): the
    geometry is the same circle, so D_stsp cannot tell them apart; the spectra can."""
    t = np.arange(20_000) * 0.01  # 1000 cycles of period 0.2
    rng = np.random.default_rng(1)

    def cycle(freq: float, phase: float) -> np.ndarray:
        angle = 2 * np.pi * freq * t + phase
        return np.column_stack([np.sin(angle), np.cos(angle)]) + 0.05 * rng.normal(size=(len(t), 2))

    validation = cycle(5.0, 0.0)
    runs = {"early": [cycle(5.2, p) for p in (0.3, 1.1, 2.0)],
            "on time": [cycle(5.0, p) for p in (0.5, 1.5, 2.5)]}
    monkeypatch.setattr(selection, "generate_runs", _fake_runs(runs))

    by_geometry = BestModelSelector(validation, every=10)
    by_spectrum = BestModelSelector(validation, every=10, metric="d_h")
    early, on_time = by_spectrum.score("early"), by_spectrum.score("on time")
    assert on_time < 0.1 < 0.4 < early
    # the same noisy circle: D_stsp does not favour the on-time model (here it even prefers the
    # early one), so selection by it keeps whichever checkpoint its sampling noise happens to
    assert by_geometry.score("on time") >= by_geometry.score("early")
    for epoch, model in [(10, "on time"), (20, "early")]:
        by_spectrum(epoch, model, loss=0.0, info={})
    assert by_spectrum.best_model == "on time" and by_spectrum.best_score == on_time


def test_selector_refuses_an_unknown_score() -> None:
    import pytest

    from attractor.errors import InputError

    with pytest.raises(InputError, match="d_stsp or d_h"):
        BestModelSelector(np.zeros((10, 2)), every=10, metric="mse")


def test_selector_with_long_runs_sees_a_late_escape(monkeypatch) -> None:
    """A 'model' that follows the data for 30 000 steps and then sits on a spurious fixed point:
    the default runs (1.25 x 20 000 steps) end before it leaves; runs of 125 000 steps do not."""
    rng = np.random.default_rng(2)
    validation = rng.normal(size=(20_000, 2))

    def generate(model, series, n_runs, steps=None):
        n_total = max(steps or 0, (5 * len(series) + 3) // 4)
        left = min(n_total, 30_000)
        run = np.concatenate([rng.normal(size=(left, 2)), np.full((n_total - left, 2), 3.0)])
        return np.stack([run[-len(series):]] * n_runs), None

    monkeypatch.setattr(selection, "generate_runs", generate)
    short = BestModelSelector(validation, every=10).score("escapes late")
    long = BestModelSelector(validation, every=10, steps=125_000).score("escapes late")
    assert short < 0.1 and long > 10 * short
