"""Basin probes find a spurious attractor beside the data's, and selection passes such a model over.

The model here is exact: a rotation of the plane whose radius is attracted to the unit circle
from outside ``threshold`` and to the origin from inside it. The data run on the unit circle,
with a few rows inside the threshold, each at a probe's start.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.dsr import selection
from attractor.dsr.diagnostics import diagnose
from attractor.dsr.evaluate import settled_probes
from attractor.dsr.probes import (
    SETTLED_SPREAD,
    count_settled,
    probe_lengths,
    probe_starts,
    reference_spread,
)
from attractor.dsr.selection import BestModelSelector

ANGLE = 2 * np.pi / 50  # 50 rows per turn


class Bistable(eqx.Module):
    """``z -> R(ANGLE) (r' / r) z`` with ``r' = 1 + (r - 1) / 2`` for ``r > threshold`` (the unit
    circle attracts) and ``r' = r / 2`` inside (the origin attracts): with ``threshold = 0`` only
    the circle."""

    threshold: float
    context_length: int = eqx.field(static=True, default=1)

    def init_state(self, context: jax.Array) -> jax.Array:
        return context[-1]

    def rollout(self, z: jax.Array, n: int) -> jax.Array:
        c, s = np.cos(ANGLE), np.sin(ANGLE)
        rotation = jnp.array([[c, -s], [s, c]], jnp.float32)

        def step(z, _):
            r = jnp.linalg.norm(z)
            target = jnp.where(r > self.threshold, 1.0 + (r - 1.0) / 2, r / 2)
            z = rotation @ (z * target / jnp.maximum(r, 1e-30))
            return z, z

        return jax.lax.scan(step, z, None, length=n)[1]

    def observe_many(self, states: jax.Array) -> jax.Array:
        return states


def circle(n: int) -> np.ndarray:
    angle = ANGLE * np.arange(n)
    return np.column_stack([np.cos(angle), np.sin(angle)])


def data_with_inner_rows(n_rows: int, n_probes: int, inner: list[int]) -> np.ndarray:
    """The unit circle, with the start rows of probes ``inner`` moved to radius 0.2."""
    x = circle(n_rows)
    starts = probe_starts(n_rows, n_probes)
    x[starts[inner]] *= 0.2
    return x


def test_runs_on_the_data_pass_and_settled_or_diverged_runs_count() -> None:
    x = circle(8000)
    steps, tail = probe_lengths(len(x))
    assert (steps, tail) == (8000, 3200)  # as long as the series, the last 40 % judged
    on_data = np.stack([circle(steps + k)[k:] for k in range(5)])
    assert count_settled(on_data, x) == 0
    fixed_point = np.full((1, steps, 2), 0.3)
    small_cycle = 0.2 * on_data[:1]  # spread 0.2 of the data's: settled
    wide_cycle = 0.8 * on_data[:1]
    diverged = on_data[:1].copy()
    diverged[0, -1] = np.nan
    runs = np.concatenate([on_data, fixed_point, small_cycle, wide_cycle, diverged])
    assert count_settled(runs, x) == 3
    # the threshold is relative to the data's own stretches of the judged length
    assert reference_spread(x, tail) == pytest.approx(np.sqrt(0.5), rel=1e-3)
    assert SETTLED_SPREAD * reference_spread(x, tail) > 0.2 * np.sqrt(0.5)


def test_a_short_stretch_of_slow_data_is_not_called_settled() -> None:
    """Probes of a short series judge only a part of a turn: the data's stretches of that length
    are as narrow, so a run that follows the data still passes."""
    x = circle(60)  # 1.2 turns; stretches of 6 rows cover an eighth of a turn
    steps, _ = probe_lengths(len(x))
    runs = np.stack([circle(steps + k)[k:] for k in range(0, 40, 5)])
    assert count_settled(runs, x) == 0


def test_probes_count_the_starts_in_a_spurious_basin() -> None:
    n_probes = 64
    x = data_with_inner_rows(8000, n_probes, inner=[5, 17, 40])
    assert settled_probes(Bistable(threshold=0.5), x, n_probes) == 3
    assert settled_probes(Bistable(threshold=0.0), x, n_probes) == 0  # no second attractor
    assert settled_probes(Bistable(threshold=0.5), x, 0) == 0  # probes off


def test_selection_passes_over_a_multistable_checkpoint(monkeypatch, tmp_path) -> None:
    """Both checkpoints trace the circle from the three validation starts (the same score); the
    bistable one, checked first, is replaced by the one without a spurious basin, and a later
    bistable checkpoint with a better score is passed over: its effective score, with the
    settled share of its probes, is worse. Every check's probes are kept."""
    x = data_with_inner_rows(8000, 64, inner=[9, 33])
    bistable, monostable = Bistable(threshold=0.5), Bistable(threshold=0.0)
    scores = {bistable: 0.2, monostable: 0.2}
    monkeypatch.setattr(BestModelSelector, "score", lambda self, m: scores[m])
    selector = BestModelSelector(x, every=10, state_dir=tmp_path, probes=64)
    selector(10, bistable, 0.0)
    assert selector.best_epoch == 10 and selector.best_settled == 2  # no other choice yet
    # its effective score adds the share of settled probes (2 of 64) times their runs' score,
    # about that of a run sitting at the origin
    origin = selection.state_space_divergence(x, np.zeros((3200, 2)))
    assert selector.best_effective == pytest.approx(0.2 + 2 / 64 * origin, rel=0.1)
    assert selector.best_effective > 0.2 + 0.1  # a better-scoring bistable checkpoint loses
    selector(20, monostable, 0.0)
    assert selector.best_epoch == 20 and selector.best_settled == 0
    better_but_bistable = Bistable(threshold=0.5 + 1e-6)
    scores[better_but_bistable] = 0.1
    selector(30, better_but_bistable, 0.0)
    assert selector.best_epoch == 20
    assert selector.settled == [(10, 2), (20, 0), (30, 2)]
    resumed = BestModelSelector(x, every=10, state_dir=tmp_path, probes=64)
    assert resumed.restore(monostable)
    assert (resumed.best_epoch, resumed.best_settled, resumed.settled) == (
        20, 0, [(10, 2), (20, 0), (30, 2)])
    # without probes the better score wins
    plain = BestModelSelector(x, every=10, probes=0)
    for epoch, model in [(10, bistable), (20, monostable), (30, better_but_bistable)]:
        plain(epoch, model, 0.0)
    assert plain.best_epoch == 30 and plain.settled == [(10, 0), (20, 0), (30, 0)]
    # when every checkpoint has a spurious basin, the score decides
    only_bistable = BestModelSelector(x, every=10, probes=64)
    only_bistable(10, bistable, 0.0)
    only_bistable(20, better_but_bistable, 0.0)
    assert only_bistable.best_epoch == 20 and only_bistable.best_settled == 2


def test_patience_counts_from_the_best_score_even_when_the_probes_reject_it(monkeypatch) -> None:
    x = data_with_inner_rows(8000, 64, inner=[9])
    bistable, monostable = Bistable(threshold=0.5), Bistable(threshold=0.0)
    scores = {bistable: 0.1, monostable: 0.2}
    monkeypatch.setattr(BestModelSelector, "score", lambda self, m: scores[m])
    selector = BestModelSelector(x, every=10, patience=20, probes=64)
    stops = [selector(epoch, model, 0.0) for epoch, model in
             [(10, monostable), (20, bistable), (30, monostable), (40, monostable)]]
    assert stops == [False, False, False, True]  # 20 epochs after the best score (epoch 20)
    assert selector.best_epoch == 10


def test_some_settled_probes_are_diagnosed_as_a_spurious_attractor() -> None:
    x = circle(4000)
    runs = [circle(5000)[-4000:]] * 3

    def codes(settled):
        return {w.code for w in diagnose(x, runs, lambda_max=None, settled=settled)}

    assert "spurious_attractor" in codes((3, 64))
    assert "spurious_attractor" not in codes((0, 64))
    assert "spurious_attractor" not in codes((64, 64))  # a collapse: the other checks say so



def test_failure_names_a_multistable_run_and_one_that_ends_multistable(monkeypatch) -> None:
    from attractor.dsr.selection import COLLAPSED_CHECKS

    x = data_with_inner_rows(8000, 64, inner=[9])
    bistable, monostable = Bistable(threshold=0.5), Bistable(threshold=0.0)
    collapsed = Bistable(threshold=2.0)  # the origin attracts every start
    monkeypatch.setattr(BestModelSelector, "score", lambda self, m: 0.5)

    def run(models) -> BestModelSelector:
        selector = BestModelSelector(x, every=1, probes=64)
        for epoch, model in enumerate(models, start=1):
            selector(epoch, model, 0.0)
        return selector

    assert run([bistable] * 5).failure().startswith("every checkpoint has a spurious attractor")
    assert run([bistable, monostable]).failure() is None
    for late in (bistable, collapsed):  # a clean checkpoint, then a spurious attractor for good
        ended = run([monostable] + [late] * COLLAPSED_CHECKS).failure()
        assert ended.startswith("training ended on a spurious attractor")
        assert "from epoch 1" in ended
        assert run([monostable] + [late] * (COLLAPSED_CHECKS - 1)).failure() is None
        assert run([monostable] + [late] * COLLAPSED_CHECKS + [monostable]).failure() is None
    unprobed = BestModelSelector(x, every=1)  # probes are opt-in
    for epoch in range(1, 4):
        unprobed(epoch, bistable, 0.0)
    assert unprobed.failure() is None


def test_a_failed_run_is_trained_again_and_the_better_attempt_kept(monkeypatch, tmp_path) -> None:
    """The first attempt is declared failed; the second starts from another initialisation, has
    a checkpoint of its own, and the run keeps the attempt that ranks best; a resume repeats
    nothing and returns the same."""
    from attractor.dsr.data import system_data
    from attractor.dsr.pipeline import RunSpec, fit

    data = system_data("lorenz63", n_train=2000, n_test=1000, noise=0.05, seed=0)
    spec = RunSpec(epochs=3, batches_per_epoch=5, select_every=1, denoise=None, retries=2)
    monkeypatch.setattr(BestModelSelector, "failure", lambda self: "planted")
    once = fit(data, dataclasses.replace(spec, retries=0))
    assert [(a["failure"], a["kept"]) for a in once.attempts] == [("planted", True)]

    ckpt = tmp_path / "checkpoint"
    monkeypatch.setattr(BestModelSelector, "failure",
                        lambda self: "planted" if self.state_dir == ckpt else None)
    fitted = fit(data, spec, checkpoint_dir=ckpt)
    assert [a["attempt"] for a in fitted.attempts] == [0, 1]  # the second one passed: no third
    assert [a["failure"] for a in fitted.attempts] == ["planted", None]
    assert (ckpt / "retry1" / "best.json").is_file() and not (ckpt / "retry2").exists()
    ranks = [(a["settled_probes"] > 0, a["score"]) for a in fitted.attempts]
    kept = [a["kept"] for a in fitted.attempts]
    assert kept == [ranks[0] <= ranks[1], ranks[1] < ranks[0]]
    assert fitted.seconds == pytest.approx(sum(a["seconds"] for a in fitted.attempts))
    models = [eqx.tree_deserialise_leaves(d / "best.eqx", fitted.model)
              for d in (ckpt, ckpt / "retry1")]
    assert not np.allclose(np.asarray(models[0].A), np.asarray(models[1].A))  # another init
    resumed = fit(data, spec, checkpoint_dir=ckpt, resume=True)
    assert [a["score"] for a in resumed.attempts] == [a["score"] for a in fitted.attempts]
    np.testing.assert_array_equal(np.asarray(resumed.model.A), np.asarray(fitted.model.A))
