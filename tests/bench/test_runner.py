"""The sweep driver with a stand-in task function: retries, failures, resuming (no JAX work)."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from attractor.bench import task as task_module
from attractor.bench.executors import SerialExecutor
from attractor.bench.runner import interleave_systems, run_sweep
from attractor.bench.store import RunStore
from attractor.bench.suite import load_suite
from attractor.bench.task import expand_tasks


def _is(config: dict, system: str, model: str, seed: int) -> bool:
    return (config["system"], config["model"], config["seed"]) == (system, model, seed)


@pytest.fixture
def fake_execute(monkeypatch: pytest.MonkeyPatch) -> collections.Counter:
    """Tasks return their seed as 'smape'; henon/nvar/0 always raises, lozi/nvar/1 raises on its
    first call only. Returns the calls per (system, model, seed)."""
    calls: collections.Counter = collections.Counter()

    def execute(config: dict) -> dict:
        key = (config["system"], config["model"], config["seed"])
        calls[key] += 1
        if _is(config, "henon", "nvar", 0):
            raise RuntimeError("always broken")
        if _is(config, "lozi", "nvar", 1) and calls[key] == 1:
            raise RuntimeError("flaky once")
        return {"metrics": {"smape": float(config["seed"]), "D_H": None}, "timings": {}}

    monkeypatch.setattr(task_module, "execute", execute)
    return calls


def _sweep(suite_path: Path, store_path: Path, **options) -> object:
    suite = load_suite(suite_path)
    with RunStore(store_path, create=True, lock=True) as store:
        return run_sweep(suite.to_dict(), expand_tasks(suite), store, SerialExecutor(), **options)


def test_a_failing_task_is_retried_then_recorded_failed_while_the_others_finish(
    mini_suite: Path, tmp_path: Path, fake_execute: collections.Counter
) -> None:
    store_path = tmp_path / "runs.sqlite"
    seen = []
    progress = _sweep(mini_suite, store_path, retries=2, on_progress=lambda p: seen.append(p.done))
    assert (progress.done, progress.failed, progress.retried, progress.remaining) == (7, 1, 3, 0)
    assert fake_execute[("henon", "nvar", 0)] == 3  # 1 + 2 retries
    assert fake_execute[("lozi", "nvar", 1)] == 2
    assert seen[-1] == 7
    with RunStore(store_path) as store:
        runs = {(r["system"], r["model"], r["seed"]): r for r in store.runs()}
        broken = runs[("henon", "nvar", 0)]
        assert broken["status"] == "failed" and broken["attempts"] == 3
        assert "Traceback" in broken["error"] and "RuntimeError: always broken" in broken["error"]
        flaky = runs[("lozi", "nvar", 1)]
        assert flaky["status"] == "done" and flaky["attempts"] == 2 and flaky["error"] is None
        assert all(r["attempts"] == 1 for k, r in runs.items()
                   if k not in {("henon", "nvar", 0), ("lozi", "nvar", 1)})  # fmt: skip
        values = {(r["system"], r["model"], r["seed"], r["metric"]): r["value"]
                  for r in store.metric_rows()}  # fmt: skip
    assert values[("lozi", "persistence", 1, "smape")] == 1.0
    assert values[("lozi", "persistence", 1, "D_H")] is None
    assert not any(k[:3] == ("henon", "nvar", 0) for k in values)  # a failed task has no metrics


def test_a_rerun_skips_finished_tasks_and_retry_failed_runs_the_failed_again(
    mini_suite: Path, tmp_path: Path, fake_execute: collections.Counter
) -> None:
    store_path = tmp_path / "runs.sqlite"
    _sweep(mini_suite, store_path, retries=0)
    first = dict(fake_execute)
    assert sum(first.values()) == 8
    again = _sweep(mini_suite, store_path, retries=0)
    assert dict(fake_execute) == first  # nothing ran
    assert (again.skipped, again.done, again.failed) == (8, 0, 0)
    retried = _sweep(mini_suite, store_path, retries=0, retry_failed=True)
    assert (retried.skipped, retried.done, retried.failed) == (6, 1, 1)
    assert fake_execute[("lozi", "nvar", 1)] == 2 and fake_execute[("henon", "nvar", 0)] == 2
    with RunStore(store_path) as store:
        assert store.counts()["mini"] == {"pending": 0, "running": 0, "done": 7, "failed": 1}


def test_tasks_are_queued_round_robin_over_systems(mini_suite: Path) -> None:
    tasks = expand_tasks(load_suite(mini_suite))  # henon's four tasks, then lozi's
    assert [t.config["system"] for t in tasks] == ["henon"] * 4 + ["lozi"] * 4
    order = interleave_systems(tasks)
    assert [t.config["system"] for t in order] == ["henon", "lozi"] * 4
    assert sorted(t.id for t in order) == sorted(t.id for t in tasks)
