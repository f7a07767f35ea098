"""Real sweeps in real processes: a sweep killed with SIGKILL resumes without losing or repeating a
task; serial, local-pool and Dask runs compute the same metrics."""

from __future__ import annotations

import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attractor.bench.executors import make_executor
from attractor.bench.runner import run_sweep
from attractor.bench.store import RunStore
from attractor.bench.suite import load_suite
from attractor.bench.task import expand_tasks

ATTRACTOR = Path(sys.executable).parent / "attractor"
DASK = importlib.util.find_spec("distributed") is not None
#: Metrics that measure the machine, not the model.
TIMING = {"train_seconds"}


def _runs(store_path: Path) -> dict[str, dict]:
    """Every run row, read directly (as another program would, while the driver writes)."""
    if not store_path.exists():
        return {}
    db = sqlite3.connect(f"{store_path.as_uri()}?mode=ro", uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        return {r["task_id"]: dict(r) for r in db.execute("SELECT * FROM runs")}
    except sqlite3.OperationalError:  # the driver has not created the tables yet
        return {}
    finally:
        db.close()


def _kill_then_resume(suite: Path, tmp_path: Path, executor: list[str],
                      n_tasks: int) -> dict[str, dict]:  # fmt: skip
    store = tmp_path / "runs.sqlite"
    argv = [str(ATTRACTOR), "bench", "run", str(suite), "--store", str(store), "--seeds", "3",
            *executor, "--json"]  # fmt: skip
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while sum(r["status"] == "done" for r in _runs(store).values()) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep never finished two tasks"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and every process it started
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    killed = _runs(store)
    assert len(killed) == n_tasks  # every task was registered before the first one ran
    before = {i: r for i, r in killed.items() if r["status"] == "done"}
    in_flight = [i for i, r in killed.items() if r["status"] == "running"]
    assert 2 <= len(before) < n_tasks, "the kill came too late to test anything"
    assert len(in_flight) <= 1  # lost: at most the task in flight (one worker)

    rerun = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                           env=env)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = _runs(store)
    assert set(after) == set(killed) and all(r["status"] == "done" for r in after.values())
    for task_id, row in before.items():  # finished before the kill: not run again
        assert after[task_id]["finished_at"] == row["finished_at"]
        assert after[task_id]["attempts"] == 1
    for task_id in in_flight:  # lost by the kill, run once more
        assert after[task_id]["attempts"] == 2
    db = sqlite3.connect(store)
    per_task = dict(db.execute("SELECT task_id, COUNT(*) FROM metrics GROUP BY task_id"))
    db.close()
    assert set(per_task) == set(after) and len(set(per_task.values())) == 1
    return after


@pytest.mark.usefixtures("shared_compilation_cache")
def test_a_sweep_killed_with_sigkill_resumes_with_every_task_exactly_once(
    mini_suite: Path, tmp_path: Path
) -> None:
    """SIGKILL mid-sweep, then the same command again: nothing lost, nothing run twice."""
    after = _kill_then_resume(mini_suite, tmp_path, ["--executor", "serial"], n_tasks=12)
    assert len({r["host"] for r in after.values()}) == 2  # the killed driver and the second one


@pytest.mark.slow
@pytest.mark.usefixtures("shared_compilation_cache")
def test_a_killed_pool_sweep_resumes_and_leaves_no_worker_behind(
    mini_suite: Path, tmp_path: Path
) -> None:
    """The same with a local pool of one worker: the worker dies with the killed driver
    (PR_SET_PDEATHSIG), so nothing keeps computing."""
    after = _kill_then_resume(mini_suite, tmp_path, ["--executor", "local", "--workers", "1"],
                              n_tasks=12)  # fmt: skip
    pids = {int(r["host"].rsplit(":", 1)[1]) for r in after.values()}
    assert len(pids) == 2  # the worker before the kill and the one after
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()


# ------------------------------------------------------------------------ same tasks, same metrics
def _metrics(store_path: Path) -> dict[tuple[str, str], float | None]:
    with RunStore(store_path) as store:
        return {(r["task_id"], r["metric"]): r["value"] for r in store.metric_rows()
                if r["metric"] not in TIMING}  # fmt: skip


def _sweep(suite_path: Path, store_path: Path, executor: str, workers: int,
           compile_cache: Path | None = None) -> None:
    suite = load_suite(suite_path)
    tasks = expand_tasks(suite)
    pool = make_executor(executor, workers, compile_cache=compile_cache)
    with RunStore(store_path, create=True, lock=True) as store:
        progress = run_sweep(suite.to_dict(), tasks, store, pool)
    assert progress.done == len(tasks), f"{progress}"


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and len(a) > 0
    for key in a:
        if a[key] is None or b[key] is None:
            assert a[key] is b[key] is None, key
        else:
            assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-6), key


@pytest.mark.slow
@pytest.mark.usefixtures("shared_compilation_cache")
def test_five_systems_three_models_two_seeds_agree_serially_on_the_pool_and_on_dask(
    suite_file, tmp_path: Path
) -> None:
    """Issue 8's mini-suite: in this process, on a local pool of 2 workers and (if installed) on
    a Dask LocalCluster of 2 workers, every metric agrees to 1e-6."""
    path = suite_file(edit=lambda s: s.replace('systems = ["henon", "lozi"]', 'systems = '
                      '["henon", "lozi", "ikeda", "duffing_map", "tent"]') + (
                      "\n[models.esn]\nhyperparameters = { units = 40, washout = 20 }\n"))
    _sweep(path, tmp_path / "serial.sqlite", "serial", 1)
    serial = _metrics(tmp_path / "serial.sqlite")
    assert len({k[0] for k in serial}) == 5 * 3 * 2
    _sweep(path, tmp_path / "pool.sqlite", "local", 2)
    _assert_same(serial, _metrics(tmp_path / "pool.sqlite"))
    if not DASK:
        pytest.skip("Dask distributed is not installed (pip install 'attractor[dask]'); the "
                    "serial and local-pool runs agreed")  # fmt: skip
    _sweep(path, tmp_path / "dask.sqlite", "dask", 2)
    _assert_same(serial, _metrics(tmp_path / "dask.sqlite"))


def test_pool_workers_share_a_compilation_cache_and_compute_the_same(
    mini_suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started with a compile cache write their compiled programs there; the tasks that
    read them back (every task after the first: the same shapes) give the serial run's metrics."""
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # cache even tiny ones
    monkeypatch.setenv("JAX_PLATFORMS", os.environ.get("JAX_PLATFORMS", "cpu"))
    cache = tmp_path / "cache"
    _sweep(mini_suite, tmp_path / "pool.sqlite", "local", 1, compile_cache=cache)
    assert cache.is_dir() and any(cache.iterdir())
    _sweep(mini_suite, tmp_path / "serial.sqlite", "serial", 1)
    _assert_same(_metrics(tmp_path / "serial.sqlite"), _metrics(tmp_path / "pool.sqlite"))


def test_the_worker_environment_names_the_cache_only_when_asked(monkeypatch) -> None:
    from attractor.bench.executors import CACHE_MIN_COMPILE_SECONDS, thread_environment

    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    env = thread_environment(1, "/somewhere/cache")
    assert env["JAX_COMPILATION_CACHE_DIR"] == "/somewhere/cache"
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == str(CACHE_MIN_COMPILE_SECONDS)
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    assert "JAX_COMPILATION_CACHE_DIR" not in thread_environment(1)
