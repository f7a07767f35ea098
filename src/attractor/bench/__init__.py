"""The benchmark engine: suites over systems × models × seeds, resumable sweeps, a run store.

- :mod:`~attractor.bench.suite`: declarative suites (TOML), shipped or from a path, validated;
- :mod:`~attractor.bench.task`: one task = suite × system × model variant × seed (× sweep point),
  its content-hash id, and its execution as one call of the pure pipeline;
- :mod:`~attractor.bench.executors`: in-process, a local ``spawn`` process pool, Dask distributed;
- :mod:`~attractor.bench.store`: the SQLite run store (WAL, versioned schema, CSV/Parquet export);
- :mod:`~attractor.bench.runner`: the resumable sweep driver with retries;
- :mod:`~attractor.bench.report`: leaderboards and the offline HTML report.

Example (in a script, under ``if __name__ == "__main__":`` — the local pool starts its workers
with ``spawn``, which imports the main module again)::

    from attractor.bench import RunStore, expand_tasks, load_suite, make_executor, run_sweep
    suite = load_suite("dysts-short")
    tasks = expand_tasks(suite, systems=["lorenz63", "rossler"], models=["nvar"], seeds=[0])
    with RunStore("runs.sqlite", create=True, lock=True) as store:
        run_sweep(suite.to_dict(), tasks, store, make_executor("local", 2))
"""

from attractor.bench.executors import EXECUTORS, make_executor
from attractor.bench.runner import SweepProgress, run_sweep
from attractor.bench.store import SCHEMA_VERSION, RunStore
from attractor.bench.suite import Suite, load_suite, shipped_suites
from attractor.bench.task import Task, expand_tasks, task_id

__all__ = [
    "EXECUTORS",
    "SCHEMA_VERSION",
    "RunStore",
    "Suite",
    "SweepProgress",
    "Task",
    "expand_tasks",
    "load_suite",
    "make_executor",
    "run_sweep",
    "shipped_suites",
    "task_id",
]
